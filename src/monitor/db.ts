// The monitor's tables live in the report store's database (the same --db),
// under their own migration list; reports/tables-db.ts opens it.

import { openTablesDb, type TablesDb } from "../reports/tables-db.ts";
import { monitorMigrations } from "./schema.ts";

export type MonitorDb = TablesDb;

/** The database could not be opened or prepared; the message names it and what to check. */
export class MonitorDbError extends Error {
  override readonly name = "MonitorDbError";
}

export function openMonitorDb(db: string): Promise<MonitorDb> {
  return openTablesDb(db, {
    migrations: monitorMigrations,
    lockKey: "mtasts-monitor",
    what: "the monitor tables",
    error: MonitorDbError,
  });
}
