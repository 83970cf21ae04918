// The `postgres` cache: one table shared by every resolver pointed at it, plus
// `<table>_meta` for getMeta/setMeta. Times are BIGINT milliseconds.

import { Pool, type PoolConfig } from "pg";
import type { PolicyMode } from "../../core/policy.ts";
import type { CacheConfig, PolicyCache, PolicyEntry } from "../types.ts";

export type PostgresCacheConfig = Extract<CacheConfig, { type: "postgres" }>;

export type PostgresCache = PolicyCache & {
  /** Names in `options` with no node-postgres meaning, for the caller to warn about. */
  readonly ignoredOptions: readonly string[];
};

/** Leaves room for the `_meta` suffix within PostgreSQL's 63-byte names, which it would otherwise truncate silently. */
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,57}$/;
const COLUMNS = "domain, id, text, mode, fetched_at, expires_at";

export async function openPostgresCache(config: PostgresCacheConfig): Promise<PostgresCache> {
  const { table } = config;
  if (!TABLE_NAME.test(table)) {
    throw new Error(
      `invalid PostgreSQL cache table name ${JSON.stringify(table)}: use lowercase letters, digits and _, starting with a letter or _, at most 58 characters`,
    );
  }
  const { options, ignored } = mapOptions(config.options, config.timeoutMs);
  const pool = new Pool({ connectionString: config.dsn, ...options });
  // An idle connection the server drops is replaced at the next checkout;
  // unhandled, its error event would end the process.
  pool.on("error", () => {});
  try {
    await migrate(pool, table);
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot open PostgreSQL cache ${redact(config.dsn)} (table ${table}): ${reason}`,
      {
        cause: error,
      },
    );
  }
  return postgresCache(pool, table, ignored);
}

/** asyncpg's pool options (PMSR's names) onto node-postgres's. */
function mapOptions(
  given: Record<string, unknown>,
  timeoutMs: number,
): { options: PoolConfig; ignored: string[] } {
  const options: PoolConfig = {
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    // The client-side bound also covers a server that stops answering altogether.
    query_timeout: timeoutMs,
  };
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    if (value === null || value === undefined) continue;
    switch (name) {
      case "min_size":
        options.min = count(name, value);
        break;
      case "max_size":
        options.max = count(name, value);
        break;
      case "max_queries":
        options.maxUses = count(name, value);
        break;
      case "max_inactive_connection_lifetime":
        options.idleTimeoutMillis = milliseconds(name, value);
        break;
      case "timeout":
        options.connectionTimeoutMillis = milliseconds(name, value);
        break;
      case "command_timeout":
        options.statement_timeout = milliseconds(name, value);
        options.query_timeout = milliseconds(name, value);
        break;
      default:
        ignored.push(name);
    }
  }
  return { options, ignored };
}

function count(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`invalid PostgreSQL cache option ${name}: expected a whole number`);
  }
  return value;
}

function milliseconds(name: string, seconds: unknown): number {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(
      `invalid PostgreSQL cache option ${name}: expected a positive number of seconds`,
    );
  }
  return Math.ceil(seconds * 1000);
}

/** The DSN for messages, password removed (URL form or key=value form). */
function redact(dsn: string): string {
  try {
    const url = new URL(dsn);
    url.password = "";
    return url.toString();
  } catch {
    return dsn.replace(/password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/gi, "password=***");
  }
}

async function migrate(pool: Pool, table: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // CREATE ... IF NOT EXISTS is not safe against itself: two resolvers
    // creating the same table together can fail on the catalog's unique index.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`mtasts-cache:${table}`]);
    // COLLATE "C" makes ORDER BY and the paging cursor byte order whatever the database's locale.
    await client.query(`
      CREATE TABLE IF NOT EXISTS "${table}" (
        domain TEXT COLLATE "C" PRIMARY KEY,
        id TEXT NOT NULL,
        text TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('enforce', 'testing', 'none')),
        fetched_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      )`);
    await client.query(
      `CREATE INDEX IF NOT EXISTS "${table}_fetched_at" ON "${table}" (fetched_at)`,
    );
    await client.query(
      `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at)`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS "${table}_meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function postgresCache(pool: Pool, table: string, ignoredOptions: string[]): PostgresCache {
  const t = `"${table}"`;
  const meta = `"${table}_meta"`;
  // Named statements are parsed once per connection and reused after; the
  // pool is this cache's own, so the names need not carry the table.
  const statement = (name: string, text: string) => ({ name: `mtasts-cache-${name}`, text });
  const sql = {
    get: statement("get", `SELECT ${COLUMNS} FROM ${t} WHERE domain = $1`),
    set: statement(
      "set",
      `INSERT INTO ${t} AS stored (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (domain) DO UPDATE SET
         id = excluded.id, text = excluded.text, mode = excluded.mode,
         fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
       WHERE excluded.fetched_at >= stored.fetched_at`,
    ),
    delete: statement("delete", `DELETE FROM ${t} WHERE domain = $1`),
    // Domains are never empty, so '' stands for "from the start".
    stale: statement(
      "stale",
      `SELECT ${COLUMNS} FROM ${t} WHERE fetched_at < $1 AND domain > $2 ORDER BY domain LIMIT $3`,
    ),
    prune: statement("prune", `DELETE FROM ${t} WHERE expires_at < $1`),
    count: statement("count", `SELECT count(*) AS n FROM ${t}`),
    getMeta: statement("get-meta", `SELECT value FROM ${meta} WHERE key = $1`),
    setMeta: statement(
      "set-meta",
      `INSERT INTO ${meta} (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
  };
  let closed = false;

  return {
    kind: "postgres",
    ignoredOptions,
    get: async (domain) => {
      const { rows } = await pool.query<Row>({ ...sql.get, values: [domain] });
      return rows[0] === undefined ? undefined : toEntry(rows[0]);
    },
    set: async (entry) => {
      await pool.query({
        ...sql.set,
        values: [
          entry.domain,
          entry.id,
          entry.text,
          entry.mode,
          Math.round(entry.fetchedAt),
          Math.round(entry.expiresAt),
        ],
      });
    },
    delete: async (domain) => {
      await pool.query({ ...sql.delete, values: [domain] });
    },
    // Stored times are whole milliseconds, so rounding a bound up keeps `<`
    // exact and the parameter a valid BIGINT (here and in prune).
    stale: async ({ fetchedBefore, limit, after }) => {
      const { rows } = await pool.query<Row>({
        ...sql.stale,
        values: [Math.ceil(fetchedBefore), after ?? "", Math.max(0, Math.floor(limit))],
      });
      return rows.map(toEntry);
    },
    prune: async (expiredBefore) => {
      const { rowCount } = await pool.query({ ...sql.prune, values: [Math.ceil(expiredBefore)] });
      return rowCount ?? 0;
    },
    count: async () => {
      const { rows } = await pool.query<{ n: string }>(sql.count);
      return Number(rows[0]?.n ?? 0);
    },
    getMeta: async (key) => {
      const { rows } = await pool.query<{ value: string }>({ ...sql.getMeta, values: [key] });
      return rows[0]?.value;
    },
    setMeta: async (key, value) => {
      await pool.query({ ...sql.setMeta, values: [key, value] });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** node-postgres returns BIGINT as text, since it may exceed 2^53; ms timestamps never do. */
interface Row {
  domain: string;
  id: string;
  text: string;
  mode: PolicyMode;
  fetched_at: string;
  expires_at: string;
}

function toEntry(row: Row): PolicyEntry {
  return {
    domain: row.domain,
    id: row.id,
    text: row.text,
    mode: row.mode,
    fetchedAt: Number(row.fetched_at),
    expiresAt: Number(row.expires_at),
  };
}
