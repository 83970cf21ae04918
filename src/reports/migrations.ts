// Applying an append-only list of schema steps, the same way for every set of
// tables that keeps one (the report store's, the monitor's): under a lock, so
// two processes opening a new database together apply each step once, all in
// one transaction, and refusing a database migrated by a newer mtasts.

import type { DatabaseSync } from "node:sqlite";
import type { PoolClient } from "pg";
import type { Dialect } from "./schema.ts";

export interface Migrations {
  /** The table that records how many steps were applied (one row, id 1). */
  versionTable: string;
  /** How many steps this mtasts knows. */
  count: number;
  /** Statements of step `index` (0-based) for `dialect`. */
  step(dialect: Dialect, index: number): string[];
  /** The error for a database with more steps applied than `count`. */
  newer(found: number): Error;
}

/**
 * A migration list over DDL written once with the few type words that differ
 * by dialect; `tables` names them in the error for a newer database.
 */
export function migrations<T>(
  versionTable: string,
  tables: string,
  types: Record<Dialect, T>,
  steps: readonly ((t: T) => string[])[],
): Migrations {
  return {
    versionTable,
    count: steps.length,
    step(dialect, index) {
      const step = steps[index];
      if (step === undefined) throw new Error(`no migration step ${index + 1} of ${versionTable}`);
      return step(types[dialect]);
    },
    newer: (found) =>
      new Error(
        `${tables} ${found}, newer than this mtasts knows (${steps.length}); upgrade mtasts`,
      ),
  };
}

const versionTableDdl = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
)`;

const recordVersion = (table: string, placeholder: string) =>
  `INSERT INTO ${table} (id, version) VALUES (1, ${placeholder})
   ON CONFLICT (id) DO UPDATE SET version = excluded.version`;

export function migrateSqlite(db: DatabaseSync, m: Migrations): void {
  // IMMEDIATE takes the write lock before reading the version.
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(versionTableDdl(m.versionTable));
    const row = db.prepare(`SELECT version FROM ${m.versionTable} WHERE id = 1`).get();
    const version = Number(row?.version ?? 0);
    if (version > m.count) throw m.newer(version);
    for (let step = version; step < m.count; step++) {
      for (const sql of m.step("sqlite", step)) db.exec(sql);
    }
    if (version < m.count) db.prepare(recordVersion(m.versionTable, "?")).run(m.count);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** `lockKey` names the advisory lock: CREATE … IF NOT EXISTS is not safe against itself. */
export async function migratePostgres(
  client: PoolClient,
  m: Migrations,
  lockKey: string,
  schema: string | null,
): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
    if (schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(versionTableDdl(m.versionTable));
    const { rows } = await client.query(`SELECT version FROM ${m.versionTable} WHERE id = 1`);
    const version = Number(rows[0]?.version ?? 0);
    if (version > m.count) throw m.newer(version);
    for (let step = version; step < m.count; step++) {
      for (const sql of m.step("postgres", step)) await client.query(sql);
    }
    if (version < m.count) await client.query(recordVersion(m.versionTable, "$1"), [m.count]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
