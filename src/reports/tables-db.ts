// A capability's own connection to the report store's database (the same --db
// value), for tables that capability keeps beside the reports under its own
// migration list (the monitor's; the dashboard's sessions): a SQLite file
// (node:sqlite, WAL, so the report writer and this connection share it) or a
// postgres:// URL (optional ?schema=NAME). It speaks the report store's
// SqlRunner shape, so the queries are written once for both.

import { resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Pool, type PoolClient } from "pg";
import { type Migrations, migratePostgres, migrateSqlite } from "./migrations.ts";
import { parseUrl, pgRunner } from "./postgres-store.ts";
import type { SqlRunner } from "./sql.ts";
import { sqliteRunner } from "./sqlite-store.ts";

/** Whose tables: the steps, their lock and name, and the error type the caller's users see. */
export interface TablesSpec {
  migrations: Migrations;
  /** Names the PostgreSQL advisory lock taken while migrating. */
  lockKey: string;
  /** "the monitor tables": used in messages. */
  what: string;
  error: new (message: string, options?: ErrorOptions) => Error;
}

export interface TablesDb extends SqlRunner {
  /**
   * Runs `work` all or nothing. Callers never run two at once on one
   * TablesDb, and `work` awaits nothing but `tx`: with SQLite the statements
   * are synchronous, so the transaction never yields to the event loop, and
   * the report store's writer in this process (another connection, which
   * would wait for our lock synchronously) never runs inside it.
   */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

export async function openTablesDb(db: string, spec: TablesSpec): Promise<TablesDb> {
  if (POSTGRES_URL.test(db)) return openPostgres(db, spec);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new spec.error("--db must be a SQLite file path or a postgres:// URL");
  }
  return openSqlite(resolve(db), spec);
}

function openSqlite(target: string, spec: TablesSpec): TablesDb {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(target, { timeout: 10_000 });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    throw new spec.error(`cannot open SQLite database ${target}: ${reason(error)}`, {
      cause: error,
    });
  }
  const runner = sqliteRunner(db);
  try {
    migrateSqlite(db, spec.migrations);
  } catch (error) {
    db.close();
    throw new spec.error(`cannot prepare ${spec.what} in ${target}: ${reason(error)}`, {
      cause: error,
    });
  }
  return {
    ...runner,
    transaction: async (work) => {
      db.exec("BEGIN IMMEDIATE");
      try {
        const out = await work(runner);
        db.exec("COMMIT");
        return out;
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    },
    close: async () => {
      if (db.isOpen) db.close();
    },
  };
}

async function openPostgres(url: string, spec: TablesSpec): Promise<TablesDb> {
  let target: ReturnType<typeof parseUrl>;
  try {
    target = parseUrl(url);
  } catch (error) {
    throw new spec.error((error as Error).message);
  }
  const { connectionString, schema } = target;
  // Messages name host and database only, not the user.
  const at = new URL(connectionString);
  const shown = `${at.protocol}//${at.host}${at.pathname}`;
  const pool = new Pool({
    connectionString,
    connectionTimeoutMillis: 10_000,
    max: 4,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  pool.on("error", () => {});
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
    await migratePostgres(client, spec.migrations, `${spec.lockKey}:${schema ?? ""}`, schema);
    client.release();
  } catch (error) {
    client?.release(true);
    await pool.end().catch(() => {});
    throw new spec.error(
      `cannot prepare ${spec.what} in PostgreSQL at ${shown}: ${reason(error)}; check that the server runs and the user may create tables`,
      { cause: error },
    );
  }
  return {
    ...pgRunner(pool),
    transaction: async (work) => {
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const out = await work(pgRunner(c));
        await c.query("COMMIT");
        c.release();
        return out;
      } catch (error) {
        await c.query("ROLLBACK").catch(() => {});
        c.release(true);
        throw error;
      }
    },
    close: () => pool.end(),
  };
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}
