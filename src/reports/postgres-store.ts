// The store for scale: PostgreSQL (pg). A report is written by ONE statement
// (data-modifying CTEs feeding unnest()ed arrays): atomic on its own, one round
// trip. Reports arriving together share a transaction and one such statement
// for all of them (group commit, below).
// `?schema=NAME` in the URL keeps the tables in their own schema (created if
// missing).

import { Pool, type PoolClient } from "pg";
import { migratePostgres } from "./migrations.ts";
import { compressRaw, PACK_MAX, packable } from "./raw.ts";
import { DETAIL_COLUMNS, POLICY_COLUMNS, REPORT_COLUMNS, toRows } from "./report-rows.ts";
import { reportMigrations } from "./schema.ts";
import { numberPlaceholders, type Row, type SqlRunner, type SqlValue } from "./sql.ts";
import { sqlReportStore } from "./sql-store.ts";
import { type InsertResult, type NewReport, type ReportStore, StoreError } from "./store.ts";

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const CONNECT_TIMEOUT_MS = 10_000;

export async function openPostgresReportStore(url: string): Promise<ReportStore> {
  const { connectionString, schema, target } = parseUrl(url);
  const pool = new Pool({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle connection the server drops is replaced at the next checkout;
  // unhandled, its error event would end the process.
  pool.on("error", () => {});
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StoreError(
      `cannot connect to PostgreSQL at ${target}: ${reasonOf(error)}; check that the server is running and reachable from here, and the user, password and database in the URL`,
      { cause: error },
    );
  }
  try {
    await migratePostgres(client, reportMigrations, `mtasts-reports:${schema ?? ""}`, schema);
    client.release();
  } catch (error) {
    // Released before the pool ends: end() waits for every checked-out client.
    client.release(true);
    await pool.end().catch(() => {});
    const newer = /newer than this mtasts/.test(reasonOf(error));
    throw new StoreError(
      `cannot prepare the report tables in PostgreSQL at ${target}: ${reasonOf(error)}${newer ? "" : `; check that the user may create tables${schema === null ? "" : ` and schema ${schema}`}`}`,
      { cause: error },
    );
  }
  const writer = inserter(pool);
  return sqlReportStore(pgRunner(pool), {
    kind: "postgres",
    target,
    insertReport: writer.insert,
    close: async () => {
      await writer.drain();
      await pool.end();
    },
  });
}

/** The URL split into what pg connects with, the `?schema=` name (checked) and the target shown in messages (no password). */
export function parseUrl(url: string): {
  connectionString: string;
  schema: string | null;
  target: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError(
      "the PostgreSQL URL is not a valid URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]",
    );
  }
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  const shown = new URL(parsed.toString());
  shown.password = "";
  if (schema !== null) shown.searchParams.set("schema", schema);
  const target = shown.toString();
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      `schema ${JSON.stringify(schema)} in ${target} is not a plain name: use lowercase letters, digits and _, starting with a letter or _`,
    );
  }
  return { connectionString: parsed.toString(), schema, target };
}

/** node-postgres reports a refused dual-stack connect as an AggregateError with no message. */
function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
  }
  if (error instanceof Error) return error.message || String((error as { code?: string }).code);
  return String(error);
}

function param(v: SqlValue): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) {
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return v;
}

/** `?` placeholders numbered, 64-bit integers and bytes passed as pg takes them (shared by every PostgreSQL user of this database). */
export function pgRunner(q: Pool | PoolClient): SqlRunner {
  return {
    dialect: "postgres",
    all: async (sql, params = []) =>
      (await q.query<Row>(numberPlaceholders(sql), params.map(param))).rows,
    run: async (sql, params = []) =>
      (await q.query(numberPlaceholders(sql), params.map(param))).rowCount ?? 0,
  };
}

const list = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => `$${from + i}`).join(", ");

const P = REPORT_COLUMNS.length;
/** Array parameters: policies after the report values and the raw pair, then details. */
const POLICY_TYPES = ["int", "text", "text", "text", "text", "bigint", "bigint"];
const DETAIL_TYPES = [
  "int",
  "int",
  "text",
  "text",
  "text",
  "text",
  "text",
  "bigint",
  "text",
  "text",
];
const policyFrom = P + 3;
const detailFrom = policyFrom + POLICY_TYPES.length;
const resolvedAt = detailFrom + DETAIL_TYPES.length;
const shaParam = REPORT_COLUMNS.indexOf("content_sha256") + 1;

const INSERT = {
  name: "mtasts-reports-insert",
  text: `WITH r AS (
      INSERT INTO tlsrpt_reports (${REPORT_COLUMNS.join(", ")}) VALUES (${list(1, P)})
      ON CONFLICT DO NOTHING RETURNING id
    ), raw AS (
      INSERT INTO tlsrpt_report_raw (report, encoding, bytes) SELECT id, $${P + 1}, $${P + 2} FROM r
    ), p AS (
      INSERT INTO tlsrpt_policies (report, ${POLICY_COLUMNS.join(", ")})
      SELECT r.id, t.* FROM r, unnest(${POLICY_TYPES.map((t, i) => `$${policyFrom + i}::${t}[]`).join(", ")})
        AS t(${POLICY_COLUMNS.join(", ")})
      RETURNING id, position
    ), d AS (
      INSERT INTO tlsrpt_failure_details (policy, ${DETAIL_COLUMNS.join(", ")})
      SELECT p.id, ${DETAIL_COLUMNS.map((c) => `u.${c}`).join(", ")}
      FROM p JOIN unnest(${DETAIL_TYPES.map((t, i) => `$${detailFrom + i}::${t}[]`).join(", ")})
        AS u(policy_position, ${DETAIL_COLUMNS.join(", ")}) ON u.policy_position = p.position
    ), q AS (
      UPDATE tlsrpt_quarantine SET resolved_ms = $${resolvedAt}, resolved_report = (SELECT id FROM r)
      WHERE content_sha256 = $${shaParam} AND resolved_ms IS NULL AND EXISTS (SELECT 1 FROM r)
    )
    SELECT id FROM r`,
};

/** Types of REPORT_COLUMNS, in order, for the arrays of a group's report rows. */
const REPORT_TYPES = [
  "text",
  "text",
  "text",
  "text",
  "text",
  "bigint",
  "bigint",
  "bigint",
  "text",
  "text",
  "text",
  "text",
  "smallint",
  "text",
  "text",
  "bigint",
  "text",
  "bigint",
  "bigint",
];
if (REPORT_TYPES.length !== P) throw new Error("REPORT_TYPES does not match REPORT_COLUMNS");

const arrays = (types: string[], from: number) =>
  types.map((t, i) => `$${from + i}::${t}[]`).join(", ");
/** After the report columns: raw_encoding[], raw_bytes[], raw_offset[], then the pack's encoding and bytes. */
const gPackFrom = P + 4;
const gPolicyFrom = P + 6;
const gDetailFrom = gPolicyFrom + 1 + POLICY_TYPES.length;
const gResolvedAt = gDetailFrom + 1 + DETAIL_TYPES.length;

/**
 * A group's reports in ONE statement (one round trip instead of one each):
 * every value travels as a column array; `n` (1-based) ties policies and
 * details to their report, and the inserted reports are matched back to their
 * input rows by the dedup key, which the group holds once at most (take()).
 * A report whose dedup key or bytes are already stored inserts nothing.
 */
const GROUP_INSERT = {
  name: "mtasts-reports-insert-group",
  text: `WITH input AS (
      SELECT * FROM unnest(${arrays(REPORT_TYPES, 1)}, $${P + 1}::text[], $${P + 2}::bytea[],
          $${P + 3}::bigint[])
        WITH ORDINALITY AS t(${REPORT_COLUMNS.join(", ")}, raw_encoding, raw_bytes, raw_offset, n)
    ), pid AS MATERIALIZED (
      SELECT CASE WHEN $${gPackFrom + 1}::bytea IS NULL THEN NULL
        ELSE nextval(pg_get_serial_sequence('tlsrpt_raw_packs', 'id')) END AS pack
    ), r AS (
      INSERT INTO tlsrpt_reports (${REPORT_COLUMNS.join(", ")}, raw_pack, raw_offset)
      SELECT ${REPORT_COLUMNS.join(", ")},
        CASE WHEN raw_offset IS NULL THEN NULL ELSE pid.pack END, raw_offset
      FROM input, pid ORDER BY n
      ON CONFLICT DO NOTHING RETURNING id, reporter_key, report_key, raw_pack
    ), pk AS (
      INSERT INTO tlsrpt_raw_packs (id, encoding, bytes, first_report, last_report)
      OVERRIDING SYSTEM VALUE
      SELECT raw_pack, $${gPackFrom}::text, $${gPackFrom + 1}::bytea, min(id), max(id)
      FROM r WHERE raw_pack IS NOT NULL GROUP BY raw_pack
    ), rn AS (
      SELECT r.id, input.n, input.raw_encoding, input.raw_bytes, input.content_sha256
      FROM r JOIN input ON input.reporter_key = r.reporter_key AND input.report_key = r.report_key
    ), raw AS (
      INSERT INTO tlsrpt_report_raw (report, encoding, bytes)
      SELECT id, raw_encoding, raw_bytes FROM rn WHERE raw_bytes IS NOT NULL
    ), p AS (
      INSERT INTO tlsrpt_policies (report, ${POLICY_COLUMNS.join(", ")})
      SELECT rn.id, ${POLICY_COLUMNS.map((c) => `t.${c}`).join(", ")}
      FROM rn JOIN unnest($${gPolicyFrom}::int[], ${arrays(POLICY_TYPES, gPolicyFrom + 1)})
        AS t(report_n, ${POLICY_COLUMNS.join(", ")}) ON t.report_n = rn.n
      RETURNING id, report, position
    ), d AS (
      INSERT INTO tlsrpt_failure_details (policy, ${DETAIL_COLUMNS.join(", ")})
      SELECT p.id, ${DETAIL_COLUMNS.map((c) => `u.${c}`).join(", ")}
      FROM unnest($${gDetailFrom}::int[], ${arrays(DETAIL_TYPES, gDetailFrom + 1)})
        AS u(report_n, policy_position, ${DETAIL_COLUMNS.join(", ")})
      JOIN rn ON rn.n = u.report_n
      JOIN p ON p.report = rn.id AND p.position = u.policy_position
    ), q AS (
      UPDATE tlsrpt_quarantine SET resolved_ms = $${gResolvedAt}, resolved_report = rn.id
      FROM rn WHERE tlsrpt_quarantine.content_sha256 = rn.content_sha256
        AND tlsrpt_quarantine.resolved_ms IS NULL
    )
    SELECT id, n FROM rn`,
};

const EXISTING = `SELECT id FROM tlsrpt_reports
  WHERE (reporter_key = $1 AND report_key = $2) OR content_sha256 = $3
  ORDER BY (reporter_key = $1 AND report_key = $2) DESC LIMIT 1`;

/** Columns of a list of rows, as one array per column (what unnest() takes back apart). */
function columns(rows: SqlValue[][], width: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) out[i]?.push(param(row[i] ?? null));
  return out;
}

/**
 * An error that belongs to the reports being written, not to the server or the
 * connection: SQLSTATE class 22 (data), 23 (constraint) or 40 (deadlock,
 * serialization), or a TypeError/RangeError from building one report's values.
 */
function reportFault(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|40)[0-9A-Z]{3}$/.test(code);
}

/** Reports written by one transaction at most. */
const MAX_GROUP = 256;
/** Groups written at once, each on its own pooled connection (the pool holds 10). */
const RUNNERS = 4;

interface Job {
  report: NewReport;
  resolve(result: InsertResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit, as in the SQLite store: reports arriving while a group is
 * being written go together in the next transaction, so many reports share
 * one WAL flush instead of paying one each, and one statement (GROUP_INSERT)
 * instead of a round trip each. A report alone is one statement (atomic by
 * itself). If a group fails, its reports are retried one by one,
 * so one bad report cannot take others with it. A caller's promise settles
 * only after COMMIT.
 */
function inserter(pool: Pool): { insert: ReportStore["insertReport"]; drain(): Promise<void> } {
  let queue: Job[] = [];

  const one = async (db: Pool | PoolClient, report: NewReport): Promise<InsertResult> => {
    const rows = toRows(report);
    // A report written alone keeps its own compressed row (a group's share a pack: many()).
    const raw = compressRaw(report.raw);
    const values = [
      ...rows.report.map(param),
      raw.encoding,
      param(raw.bytes),
      ...columns(rows.policies, POLICY_TYPES.length),
      ...columns(rows.details, DETAIL_TYPES.length),
      Date.now(),
    ];
    const inserted = await db.query<{ id: string }>({ ...INSERT, values });
    const id = inserted.rows[0]?.id;
    if (id !== undefined) return { status: "stored", id: String(id) };
    return existing(db, report);
  };

  /** Reports already stored (a dedup key or the bytes): the stored one's id. */
  const existing = async (db: Pool | PoolClient, report: NewReport): Promise<InsertResult> => {
    const found = await db.query<{ id: string }>({
      name: "mtasts-reports-existing",
      text: EXISTING,
      values: [report.reporterKey, report.reportKey, report.contentSha256],
    });
    const id = found.rows[0]?.id;
    if (id === undefined) throw new Error("a conflicting report vanished during insert");
    return { status: "duplicate", id: String(id) };
  };

  /** Several reports by one statement (GROUP_INSERT), in a transaction the caller holds. */
  const many = async (client: PoolClient, reports: NewReport[]): Promise<InsertResult[]> => {
    const rows = reports.map(toRows);
    // As in SQLite: the group's small reports share one pack (up to PACK_MAX
    // input bytes, in input order), the others are compressed alone. A report
    // that turns out to be a duplicate leaves its bytes unused in the pack.
    const parts: Uint8Array[] = [];
    let packed = 0;
    const raws = reports.map((r) => {
      if (packable(r.raw) && packed + r.raw.length <= PACK_MAX) {
        parts.push(r.raw);
        packed += r.raw.length;
        return { encoding: null, bytes: null, offset: packed - r.raw.length };
      }
      const alone = compressRaw(r.raw);
      return { encoding: alone.encoding, bytes: param(alone.bytes), offset: null };
    });
    const pack = parts.length === 0 ? null : compressRaw(Buffer.concat(parts));
    const policies: SqlValue[][] = [];
    const details: SqlValue[][] = [];
    rows.forEach((r, i) => {
      for (const p of r.policies) policies.push([i + 1, ...p]);
      for (const d of r.details) details.push([i + 1, ...d]);
    });
    const values = [
      ...columns(
        rows.map((r) => r.report),
        P,
      ),
      raws.map((r) => r.encoding),
      raws.map((r) => r.bytes),
      raws.map((r) => r.offset),
      pack?.encoding ?? null,
      pack === null ? null : param(pack.bytes),
      ...columns(policies, 1 + POLICY_TYPES.length),
      ...columns(details, 1 + DETAIL_TYPES.length),
      Date.now(),
    ];
    const inserted = await client.query<{ id: string; n: string }>({ ...GROUP_INSERT, values });
    const ids = new Map(inserted.rows.map((row) => [Number(row.n), String(row.id)]));
    const results: InsertResult[] = [];
    for (const [i, report] of reports.entries()) {
      const id = ids.get(i + 1);
      results.push(id === undefined ? await existing(client, report) : { status: "stored", id });
    }
    return results;
  };

  const alone = async (job: Job) => {
    try {
      job.resolve(await one(pool, job.report));
    } catch (error) {
      job.reject(error);
    }
  };

  const group = async (jobs: Job[]) => {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    let results: InsertResult[];
    try {
      await client.query("BEGIN");
      results = await many(
        client,
        jobs.map((job) => job.report),
      );
      await client.query("COMMIT");
      client.release();
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      // A connection that failed is dropped, not handed to the next caller.
      client.release(!reportFault(error));
      // A store fault (connection, server) fails the group: retrying one by one would
      // only wait for it again per report. A fault of one report's rows, or a
      // deadlock with another group, is retried alone.
      if (!reportFault(error)) {
        for (const job of jobs) job.reject(error);
        return;
      }
      for (const job of jobs) await alone(job);
      return;
    }
    for (const [i, job] of jobs.entries()) job.resolve(results[i] as InsertResult);
  };

  // Several groups in flight on their own connections: round trips overlap, and
  // the server merges their WAL flushes. A report whose dedup key or bytes are
  // in a group still being written waits for it, so of two copies the one handed
  // in first is the one stored, as with a single writer.
  const busy = new Map<string, number>();
  const keysOf = (r: NewReport) => [`k:${r.reporterKey}\n${r.reportKey}`, `s:${r.contentSha256}`];
  const take = (): Job[] => {
    const jobs: Job[] = [];
    const rest: Job[] = [];
    const blocked = new Set<string>();
    for (const job of queue) {
      const keys = keysOf(job.report);
      if (jobs.length < MAX_GROUP && !keys.some((k) => busy.has(k) || blocked.has(k))) {
        jobs.push(job);
      } else rest.push(job);
      // Later jobs with these keys wait: behind one left for later, to keep the
      // order; beside one taken, because a second copy in a group would be
      // matched to the first's row and reported stored under its id.
      for (const k of keys) blocked.add(k);
    }
    queue = rest;
    for (const job of jobs) for (const k of keysOf(job.report)) busy.set(k, (busy.get(k) ?? 0) + 1);
    return jobs;
  };
  const release = (jobs: Job[]) => {
    for (const job of jobs) {
      for (const k of keysOf(job.report)) {
        const n = (busy.get(k) ?? 1) - 1;
        if (n === 0) busy.delete(k);
        else busy.set(k, n);
      }
    }
  };
  const runners = new Set<Promise<void>>();
  const run = async () => {
    for (;;) {
      const jobs = take();
      if (jobs.length === 0) return;
      try {
        if (jobs.length === 1) await alone(jobs[0] as Job);
        else await group(jobs);
      } finally {
        release(jobs);
      }
    }
  };

  return {
    insert: (report) =>
      new Promise<InsertResult>((resolve, reject) => {
        queue.push({ report, resolve, reject });
        if (runners.size < RUNNERS) {
          const runner: Promise<void> = run().finally(() => runners.delete(runner));
          runners.add(runner);
        }
      }),
    drain: async () => {
      while (runners.size > 0) await Promise.all(runners);
    },
  };
}
