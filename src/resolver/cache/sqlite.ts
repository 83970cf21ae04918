// The `sqlite` cache: one file, shareable by several resolvers on one host.
// node:sqlite is synchronous, so every call runs on the event loop; WAL keeps
// readers from waiting on a writer, and only a writer contending with another
// process's writer can block, for at most `timeoutMs` (busy_timeout).

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { PolicyMode } from "../../core/policy.ts";
import type { PolicyCache, PolicyEntry } from "../types.ts";

/** Bump with a new step in MIGRATIONS; `PRAGMA user_version` records the applied one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS mtasts_policy_cache (
     domain TEXT PRIMARY KEY NOT NULL,
     id TEXT NOT NULL,
     text TEXT NOT NULL,
     mode TEXT NOT NULL CHECK (mode IN ('enforce', 'testing', 'none')),
     fetched_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS mtasts_policy_cache_fetched_at ON mtasts_policy_cache (fetched_at);
   CREATE INDEX IF NOT EXISTS mtasts_policy_cache_expires_at ON mtasts_policy_cache (expires_at);
   CREATE TABLE IF NOT EXISTS mtasts_policy_cache_meta (
     key TEXT PRIMARY KEY NOT NULL,
     value TEXT NOT NULL
   );`,
];

const COLUMNS = "domain, id, text, mode, fetched_at, expires_at";

export async function openSqliteCache({
  filename,
  timeoutMs,
}: {
  filename: string;
  timeoutMs: number;
}): Promise<PolicyCache> {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(filename, { timeout: Math.ceil(timeoutMs) });
    db.exec("PRAGMA journal_mode = WAL");
    // A cache can lose its last commits in a power cut; it cannot be corrupted by it in WAL mode.
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db);
  } catch (error) {
    db?.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot open SQLite cache ${filename}: ${reason}; check the directory exists and is writable by the resolver's user`,
      { cause: error },
    );
  }
  return sqliteCache(db);
}

function migrate(db: DatabaseSync): void {
  // IMMEDIATE takes the write lock before reading the version, so two
  // resolvers starting together apply each step once.
  db.exec("BEGIN IMMEDIATE");
  try {
    const row = db.prepare("PRAGMA user_version").get();
    const version = Number(row?.user_version ?? 0);
    if (version > MIGRATIONS.length) {
      throw new Error(
        `schema version ${version} is newer than this resolver knows (${MIGRATIONS.length})`,
      );
    }
    for (const [step, sql] of MIGRATIONS.entries()) {
      if (step < version) continue;
      db.exec(sql);
    }
    if (version < MIGRATIONS.length) db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function sqliteCache(db: DatabaseSync): PolicyCache {
  const statements = {
    get: db.prepare(`SELECT ${COLUMNS} FROM mtasts_policy_cache WHERE domain = ?`),
    set: db.prepare(
      `INSERT INTO mtasts_policy_cache (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (domain) DO UPDATE SET
         id = excluded.id, text = excluded.text, mode = excluded.mode,
         fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
       WHERE excluded.fetched_at >= mtasts_policy_cache.fetched_at`,
    ),
    delete: db.prepare("DELETE FROM mtasts_policy_cache WHERE domain = ?"),
    // Domains are never empty, so '' stands for "from the start"; BINARY collation is byte order.
    stale: db.prepare(
      `SELECT ${COLUMNS} FROM mtasts_policy_cache
       WHERE fetched_at < ? AND domain > ? ORDER BY domain LIMIT ?`,
    ),
    prune: db.prepare("DELETE FROM mtasts_policy_cache WHERE expires_at < ?"),
    count: db.prepare("SELECT count(*) AS n FROM mtasts_policy_cache"),
    getMeta: db.prepare("SELECT value FROM mtasts_policy_cache_meta WHERE key = ?"),
    setMeta: db.prepare(
      `INSERT INTO mtasts_policy_cache_meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
  } satisfies Record<string, StatementSync>;
  let closed = false;

  return {
    kind: "sqlite",
    get: async (domain) => {
      const row = statements.get.get(domain);
      return row === undefined ? undefined : toEntry(row);
    },
    set: async (entry) => {
      statements.set.run(
        entry.domain,
        entry.id,
        entry.text,
        entry.mode,
        entry.fetchedAt,
        entry.expiresAt,
      );
    },
    delete: async (domain) => {
      statements.delete.run(domain);
    },
    stale: async ({ fetchedBefore, limit, after }) =>
      statements.stale.all(fetchedBefore, after ?? "", Math.max(0, limit)).map(toEntry),
    prune: async (expiredBefore) => Number(statements.prune.run(expiredBefore).changes),
    count: async () => Number(statements.count.get()?.n ?? 0),
    getMeta: async (key) => {
      const row = statements.getMeta.get(key);
      return row === undefined ? undefined : String(row.value);
    },
    setMeta: async (key, value) => {
      statements.setMeta.run(key, value);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

type Row = Record<string, unknown>;

/** The CHECK constraint and NOT NULLs in the schema guarantee the shapes cast here. */
function toEntry(row: Row): PolicyEntry {
  return {
    domain: String(row.domain),
    id: String(row.id),
    text: String(row.text),
    mode: row.mode as PolicyMode,
    fetchedAt: Number(row.fetched_at),
    expiresAt: Number(row.expires_at),
  };
}
