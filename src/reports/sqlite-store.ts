// The embedded default: one SQLite file (node:sqlite). WAL lets readers run
// beside the writer; reports are written by group commit (below), each
// all-or-nothing, so a crash loses or duplicates nothing. Durability:
// synchronous=NORMAL, which in WAL mode survives any process crash and never
// corrupts the file; only an OS crash or power cut can undo the last commits
// (docs/reports.md). The WAL is checkpointed, and so synced, at SQLite's
// default of every 1,000 pages: a 10x larger interval measured ~20 µs less wall
// time per report (fewer fsyncs), but it would also let an OS crash undo ten
// times as many commits, so it is not taken. node:sqlite is synchronous: a
// transaction runs with no await inside it, so callers on one event loop never
// interleave within one.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { migrateSqlite } from "./migrations.ts";
import { compressRaw, PACK_MAX, packable } from "./raw.ts";
import { DETAIL_COLUMNS, POLICY_COLUMNS, REPORT_COLUMNS, toRows } from "./report-rows.ts";
import { reportMigrations } from "./schema.ts";
import type { Row, SqlRunner, SqlValue } from "./sql.ts";
import { sqlReportStore } from "./sql-store.ts";
import { type InsertResult, type NewReport, type ReportStore, StoreError } from "./store.ts";

/** How long a writer waits for another process's writer before failing (busy_timeout). */
const BUSY_TIMEOUT_MS = 10_000;

export async function openSqliteReportStore(path: string, create: boolean): Promise<ReportStore> {
  const target = resolve(path);
  if (!create && !existsSync(target)) {
    throw new StoreError(
      `no report store at ${target}: nothing has been ingested there yet; give --db, or run mtasts reports ingest first`,
    );
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(target, { timeout: BUSY_TIMEOUT_MS });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    // Deleting a report cascades to its policies, failure details and raw bytes.
    db.exec("PRAGMA foreign_keys = ON");
    migrateSqlite(db, reportMigrations);
  } catch (error) {
    db?.close();
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /not a database/i.test(reason)
      ? "--db must name a SQLite file made by mtasts, or a new path"
      : "check that the directory exists and that this user may write there";
    throw new StoreError(`cannot open SQLite report store ${target}: ${reason}; ${hint}`, {
      cause: error,
    });
  }
  const opened = db;
  const writer = inserter(opened);
  return sqlReportStore(sqliteRunner(opened), {
    kind: "sqlite",
    target,
    insertReport: writer.insert,
    close: async () => {
      await writer.drain();
      opened.close();
    },
  });
}

/** Cached prepared statements over one connection, read as exact integers (shared by every SQLite user of this database). */
export function sqliteRunner(db: DatabaseSync): SqlRunner {
  const cache = new Map<string, StatementSync>();
  const statement = (sql: string) => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      // Sums over many reports may pass 2^53; read exactly, convert in one place (num()).
      s.setReadBigInts(true);
      cache.set(sql, s);
    }
    return s;
  };
  return {
    dialect: "sqlite",
    all: async (sql, params = []) => statement(sql).all(...(params as SqlValue[])) as Row[],
    run: async (sql, params = []) => Number(statement(sql).run(...(params as SqlValue[])).changes),
  };
}

/**
 * An error that belongs to one report's rows, not to the store: SQLITE_TOOBIG,
 * CONSTRAINT, MISMATCH or RANGE, or a TypeError/RangeError from building them.
 */
function reportFault(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && [18, 19, 20, 25].includes(code & 0xff);
}

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** Failure-detail rows written by one INSERT at most (a report has a handful, rarely thousands). */
const DETAILS_PER_INSERT = 16;

/** Reports written by one transaction at most; bounds a commit's size and latency. */
const MAX_GROUP = 256;

interface Job {
  report: NewReport;
  resolve(result: InsertResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: reports handed in while the event loop is busy are written by
 * one transaction at the next turn (one WAL commit instead of one each). A
 * report is all-or-nothing either way; if one fails, the group is rolled back
 * and its reports are written one by one, so only the failing one fails. A
 * caller's promise settles only after COMMIT: nothing is reported stored
 * before it is, and a crash loses only reports no caller was told about.
 */
function inserter(db: DatabaseSync): {
  insert: ReportStore["insertReport"];
  drain(): Promise<void>;
} {
  const s = {
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    report: db.prepare(
      `INSERT INTO tlsrpt_reports (${REPORT_COLUMNS.join(", ")}, raw_pack, raw_offset)
       VALUES (${placeholders(REPORT_COLUMNS.length + 2)}) ON CONFLICT DO NOTHING`,
    ),
    raw: db.prepare("INSERT INTO tlsrpt_report_raw (report, encoding, bytes) VALUES (?, ?, ?)"),
    // A pack row is opened before its reports (they name it) and filled at the end.
    packOpen: db.prepare(
      "INSERT INTO tlsrpt_raw_packs (encoding, bytes, first_report, last_report) VALUES ('identity', x'', 0, 0)",
    ),
    packFill: db.prepare(
      "UPDATE tlsrpt_raw_packs SET encoding = ?, bytes = ?, first_report = ?, last_report = ? WHERE id = ?",
    ),
    packDrop: db.prepare("DELETE FROM tlsrpt_raw_packs WHERE id = ?"),
    policy: db.prepare(
      `INSERT INTO tlsrpt_policies (report, ${POLICY_COLUMNS.join(", ")})
       VALUES (?, ${placeholders(POLICY_COLUMNS.length)})`,
    ),
    /** Failure details of one report, DETAILS_PER_INSERT rows at most per statement. */
    details: Array.from({ length: DETAILS_PER_INSERT }, (_, i) =>
      db.prepare(
        `INSERT INTO tlsrpt_failure_details (policy, ${DETAIL_COLUMNS.join(", ")}) VALUES
         ${Array.from({ length: i + 1 }, () => `(?, ${placeholders(DETAIL_COLUMNS.length)})`).join(", ")}`,
      ),
    ),
    // One look per group: most groups meet a quarantine with nothing open.
    anyOpen: db.prepare(
      "SELECT EXISTS (SELECT 1 FROM tlsrpt_quarantine WHERE resolved_ms IS NULL) AS open",
    ),
    // The same bytes may sit in quarantine from before a fix; storing them resolves that entry.
    resolve: db.prepare(
      `UPDATE tlsrpt_quarantine SET resolved_ms = ?, resolved_report = ?
       WHERE content_sha256 = ? AND resolved_ms IS NULL`,
    ),
    existing: db.prepare(
      `SELECT id FROM tlsrpt_reports
       WHERE (reporter_key = ? AND report_key = ?) OR content_sha256 = ?
       ORDER BY (reporter_key = ? AND report_key = ?) DESC LIMIT 1`,
    ),
  };
  let queue: Job[] = [];
  let scheduled: Promise<void> | null = null;

  /**
   * Where the raw bytes of a transaction's small reports go: packs (raw.ts),
   * each full at PACK_MAX input bytes, compressed and written before COMMIT.
   * `wanted` is false for a transaction of one report, which gains nothing.
   */
  const packer = (wanted: boolean) => {
    let pack: number | null = null;
    let parts: Uint8Array[] = [];
    let size = 0;
    let first = 0;
    let last = 0;
    const close = () => {
      if (pack === null) return;
      if (parts.length === 0) s.packDrop.run(pack);
      else {
        const packed = compressRaw(
          parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts),
        );
        s.packFill.run(packed.encoding, packed.bytes, first, last, pack);
      }
      pack = null;
      parts = [];
      size = 0;
      first = 0;
    };
    return {
      /** The pack and offset these bytes would take, or nulls when they are kept alone. */
      place(bytes: Uint8Array): [number | null, number | null] {
        if (!wanted || !packable(bytes)) return [null, null];
        if (pack !== null && size + bytes.length > PACK_MAX) close();
        pack ??= Number(s.packOpen.run().lastInsertRowid);
        return [pack, size];
      },
      /** Report `id` was stored where place() said. */
      added(id: number, bytes: Uint8Array) {
        parts.push(bytes);
        size += bytes.length;
        if (first === 0) first = id;
        last = id;
      },
      close,
    };
  };
  type Packer = ReturnType<typeof packer>;

  /** `quarantined`: whether any quarantine entry is open (looked up once per transaction). */
  const one = (report: NewReport, quarantined: boolean, packs: Packer): InsertResult => {
    const rows = toRows(report);
    const [pack, offset] = packs.place(report.raw);
    // run(), not RETURNING: no row object to build; no change means a dedup key was taken.
    const inserted = s.report.run(...rows.report, pack, offset);
    if (Number(inserted.changes) === 0) {
      const { reporterKey: rk, reportKey: k, contentSha256: sha } = report;
      const found = s.existing.get(rk, k, sha, rk, k);
      if (found === undefined) throw new Error("a conflicting report vanished during insert");
      return { status: "duplicate", id: String(found.id) };
    }
    const id = Number(inserted.lastInsertRowid);
    if (pack !== null) packs.added(id, report.raw);
    else {
      const raw = compressRaw(report.raw);
      s.raw.run(id, raw.encoding, raw.bytes);
    }
    const policyIds: number[] = [];
    for (const p of rows.policies) policyIds.push(Number(s.policy.run(id, ...p).lastInsertRowid));
    insertDetails(rows.details, policyIds);
    if (quarantined) s.resolve.run(Date.now(), id, report.contentSha256);
    return { status: "stored", id: String(id) };
  };

  /** Details rows ([policy position, ...values]) of one report, several rows a statement. */
  const insertDetails = (details: SqlValue[][], policyIds: number[]) => {
    let i = 0;
    while (i < details.length) {
      const n = Math.min(DETAILS_PER_INSERT, details.length - i);
      const values: SqlValue[] = [];
      for (let k = i; k < i + n; k++) {
        const row = details[k] as SqlValue[];
        values.push(policyIds[row[0] as number] as number);
        for (let c = 1; c < row.length; c++) values.push(row[c] as SqlValue);
      }
      (s.details[n - 1] as StatementSync).run(...values);
      i += n;
    }
  };

  /** Writes `jobs` in one transaction; throws (rolled back) if any report fails. */
  const write = (jobs: Job[]): InsertResult[] => {
    s.begin.run();
    try {
      const quarantined = Number(s.anyOpen.get()?.open) === 1;
      const packs = packer(jobs.length > 1);
      const results = jobs.map((job) => one(job.report, quarantined, packs));
      packs.close();
      s.commit.run();
      return results;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  };

  const flush = () => {
    const jobs = queue.slice(0, MAX_GROUP);
    queue = queue.slice(jobs.length);
    scheduled = queue.length > 0 ? later() : null;
    try {
      const results = write(jobs);
      for (const [i, job] of jobs.entries()) job.resolve(results[i] as InsertResult);
      return;
    } catch (error) {
      // A store fault (busy, full, I/O) fails the whole group: retrying one by one would
      // only wait for it again per report. A fault of one report's rows is retried alone.
      if (jobs.length === 1 || !reportFault(error)) {
        for (const job of jobs) job.reject(error);
        return;
      }
    }
    for (const job of jobs) {
      try {
        job.resolve(write([job])[0] as InsertResult);
      } catch (error) {
        job.reject(error);
      }
    }
  };
  const later = () => new Promise<void>((done) => setImmediate(() => done(flush())));

  return {
    insert: (report) =>
      new Promise<InsertResult>((resolve, reject) => {
        queue.push({ report, resolve, reject });
        scheduled ??= later();
      }),
    drain: async () => {
      while (scheduled !== null) await scheduled;
    },
  };
}
