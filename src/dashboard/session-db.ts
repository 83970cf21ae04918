// Dashboard sessions kept in the report store's database (the same --db), so
// a restart or an upgrade of `mtasts serve` does not log everyone out. The
// memory table in sessions.ts stays the one that answers requests; this is
// its write-through copy, read back once at start. Rows hold the SHA-256 of
// the cookie, never the cookie, and the fingerprint of the credential the
// session was opened with, so a changed password or role ends it on restart.

import { migrations } from "../reports/migrations.ts";
import type { Dialect } from "../reports/schema.ts";
import { num } from "../reports/sql.ts";
import { openTablesDb } from "../reports/tables-db.ts";
import type { Role } from "./config.ts";

export interface StoredSession {
  /** SHA-256 of the cookie value (base64url), the table's key. */
  key: string;
  user: string;
  role: Role;
  /** auth.ts's fingerprint of the user's password hash (credentialOf). */
  credential: string;
  csrf: string;
  expiresAt: number;
}

/** Where sessions are written through; failures are the caller's to log. */
export interface SessionPersistence {
  /** Every unexpired session. */
  load(now: number): Promise<StoredSession[]>;
  save(s: StoredSession): Promise<void>;
  remove(keys: readonly string[]): Promise<void>;
  removeExpired(now: number): Promise<void>;
  close(): Promise<void>;
}

/** The session table could not be opened or prepared. */
export class SessionDbError extends Error {
  override readonly name = "SessionDbError";
}

const TYPES: Record<Dialect, { int: string }> = {
  sqlite: { int: "INTEGER" },
  postgres: { int: "BIGINT" },
};

/** Append only: a released step never changes. */
const STEPS: readonly ((t: (typeof TYPES)[Dialect]) => string[])[] = [
  (t) => [
    `CREATE TABLE dashboard_sessions (
       cookie_hash TEXT PRIMARY KEY,
       user_name TEXT NOT NULL,
       role TEXT NOT NULL,
       credential TEXT NOT NULL,
       csrf TEXT NOT NULL,
       expires_ms ${t.int} NOT NULL
     )`,
    "CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_ms)",
  ],
];

export const sessionMigrations = migrations(
  "mtasts_dashboard_schema",
  "the dashboard tables have schema version",
  TYPES,
  STEPS,
);

const ROLES: readonly string[] = ["admin", "read-only"] satisfies Role[];

export async function openSessionDb(db: string): Promise<SessionPersistence> {
  const sql = await openTablesDb(db, {
    migrations: sessionMigrations,
    lockKey: "mtasts-dashboard",
    what: "the dashboard's session table",
    error: SessionDbError,
  });
  return {
    async load(now) {
      const rows = await sql.all(
        "SELECT cookie_hash, user_name, role, credential, csrf, expires_ms FROM dashboard_sessions WHERE expires_ms > ?",
        [now],
      );
      const out: StoredSession[] = [];
      for (const r of rows) {
        // A row another version wrote with a role this one does not know is skipped, not trusted.
        if (!ROLES.includes(String(r.role))) continue;
        out.push({
          key: String(r.cookie_hash),
          user: String(r.user_name),
          role: r.role as Role,
          credential: String(r.credential),
          csrf: String(r.csrf),
          expiresAt: num(r.expires_ms),
        });
      }
      return out;
    },
    async save(s) {
      await sql.run(
        `INSERT INTO dashboard_sessions (cookie_hash, user_name, role, credential, csrf, expires_ms)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (cookie_hash) DO UPDATE SET expires_ms = excluded.expires_ms`,
        [s.key, s.user, s.role, s.credential, s.csrf, s.expiresAt],
      );
    },
    async remove(keys) {
      for (const key of keys)
        await sql.run("DELETE FROM dashboard_sessions WHERE cookie_hash = ?", [key]);
    },
    async removeExpired(now) {
      await sql.run("DELETE FROM dashboard_sessions WHERE expires_ms <= ?", [now]);
    },
    close: () => sql.close(),
  };
}
