// A second, read-only-in-practice connection to a report store for the
// dashboard's questions, which the ReportStore interface does not ask
// (per-day result types, breakdowns by sending IP). It goes to the same
// target as the store the server writes through: SQLite in WAL mode lets it
// read beside the writer; PostgreSQL gets its own small pool.

import { resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { SqlRunner } from "./sql.ts";
import { sqliteRunner } from "./sqlite-store.ts";
import { StoreError } from "./store.ts";

export interface ReportReader {
  readonly sql: SqlRunner;
  close(): Promise<void>;
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const BUSY_TIMEOUT_MS = 10_000;

/** `db` as for openReportStore; open the store first, so its tables exist and are migrated. */
export async function openReportReader(db: string): Promise<ReportReader> {
  return POSTGRES_URL.test(db) ? openPostgres(db) : openSqlite(db);
}

function openSqlite(path: string): ReportReader {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(resolve(path), { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new StoreError(`cannot open ${resolve(path)} for reading: ${(error as Error).message}`);
  }
  return {
    sql: sqliteRunner(db),
    close: async () => db.close(),
  };
}

async function openPostgres(url: string): Promise<ReportReader> {
  const { Pool } = await import("pg");
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  // The store has already refused a schema name that is not plain.
  const pool = new Pool({
    connectionString: parsed.toString(),
    max: 4,
    connectionTimeoutMillis: 10_000,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  pool.on("error", () => {});
  const { pgRunner } = await import("./postgres-store.ts");
  return {
    sql: pgRunner(pool),
    close: () => pool.end(),
  };
}
