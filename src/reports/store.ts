// The report store: what every backend (SQLite, PostgreSQL) keeps and answers.
// Ingest decides (dedup keys, quarantine); a store persists atomically, keeps
// the raw bytes compressed its own way, and queries. `openReportStore` picks
// the backend from the `--db` value: a postgres:// URL, else a SQLite file path.

import type { Diagnostic } from "../core/diagnostic.ts";
import type { TlsrptReport } from "../core/tlsrpt-report.ts";
import type { DkimVerdict, ReportChannel } from "./types.ts";

/** How raw bytes are kept: brotli (gzip in rows of earlier versions), or as received when compressing would not help. */
export type RawEncoding = "gzip" | "br" | "identity";

export interface StoredRaw {
  encoding: RawEncoding;
  /** Length of the bytes as received (before our compression). */
  size: number;
  bytes: Uint8Array;
}

/** DKIM as recorded: the verifier's result, or `unchecked` when no verifier ran. */
export interface DkimRecord {
  result: DkimVerdict["result"] | "unchecked";
  domain: string | null;
  /** d= is the submitter's domain or a parent of it (RPT-DLV-06); null when not known. */
  aligned: boolean | null;
  detail: string | null;
}

/** One report ready to store: normalised, validated and keyed by ingest. */
export interface NewReport {
  report: TlsrptReport;
  /** Dedup key part 1: the organization, trimmed and lowercased ('' when absent). */
  reporterKey: string;
  /** Dedup key part 2: `reportKey(report)`. */
  reportKey: string;
  contentSha256: string;
  receivedAt: Date;
  channel: ReportChannel;
  origin: string | null;
  /** Null when the report did not come as an e-mail. */
  dkim: DkimRecord | null;
  /** The bytes as received; the store compresses them (the small ones written together share a pack). */
  raw: Uint8Array;
  /** Warnings from extraction and parsing (RPT-RCV-06). */
  warnings: Diagnostic[];
}

export type InsertResult = { status: "stored" | "duplicate"; id: string };

/** Enough to name a stored report in an answer. */
export interface ReportRef {
  id: string;
  reportId: string;
  organization: string | null;
}

export interface NewQuarantine {
  receivedAt: Date;
  channel: ReportChannel;
  origin: string | null;
  code: string;
  reason: string;
  diagnostics: Diagnostic[];
  contentSha256: string;
  raw: StoredRaw;
  /** True when only the first bytes were kept (input over the size limit). */
  rawTruncated: boolean;
}

/** Which reports a question is about. Periods overlap half-open: end > since, start < until. */
export interface ReportFilter {
  /** A policy domain (A-labels, lowercase); only its policies count. */
  domain?: string;
  since?: Date;
  until?: Date;
}

export type SummaryGrouping = "day" | "mx" | "reporter" | "result-type" | "domain";

/**
 * A group's figures. `successful` exists only where RFC 8460 reports it
 * (per policy): groupings by mx or result-type come from failure-details,
 * which count failures only.
 */
export interface SummaryRow {
  key: string | null;
  reports: number;
  successful?: number;
  failed: number;
}

export interface Summary {
  total: { successful: number; failed: number };
  reports: number;
  rows: SummaryRow[];
}

export interface ReportListItem {
  id: string;
  organization: string | null;
  reportId: string;
  start: string;
  end: string;
  receivedAt: string;
  channel: ReportChannel;
  dkim: DkimRecord["result"] | null;
  /** Sorted, distinct. */
  domains: string[];
  successful: number;
  failed: number;
}

export interface StoredReport extends ReportListItem {
  contact: string | null;
  origin: string | null;
  dkimDetail: { domain: string | null; aligned: boolean | null; detail: string | null } | null;
  contentSha256: string;
  rawSize: number;
  warnings: Diagnostic[];
  /** The normalised report, rebuilt from the rows. */
  report: TlsrptReport;
}

export interface QuarantineItem {
  id: string;
  receivedAt: string;
  channel: ReportChannel;
  origin: string | null;
  code: string;
  reason: string;
  /** How many times these bytes arrived while quarantined. */
  attempts: number;
  rawSize: number;
  resolvedAt: string | null;
  /** The report id the entry became when re-ingested. */
  resolvedReport: string | null;
}

export interface QuarantineEntry extends QuarantineItem {
  diagnostics: Diagnostic[];
  contentSha256: string;
  rawTruncated: boolean;
}

export interface StoreCounts {
  reports: number;
  policies: number;
  failureDetails: number;
  quarantined: number;
  resolved: number;
}

export interface ReportStore {
  readonly kind: "sqlite" | "postgres";
  /** Where the store is, password removed, for messages. */
  readonly target: string;
  /** The stored report with exactly these raw bytes, if any. */
  findByContent(contentSha256: string): Promise<ReportRef | null>;
  /**
   * Stores the report, its policies, failure details and raw bytes all or
   * nothing, unless a report with the same (reporterKey, reportKey) or the same
   * content hash exists: then `duplicate` with its id, and nothing changes.
   * Reports handed in together may share one transaction (group commit); the
   * promise settles only after that transaction is committed.
   */
  insertReport(report: NewReport): Promise<InsertResult>;
  /** Adds an entry, or, when the same bytes sit unresolved in quarantine, updates its reason and returns its id. */
  quarantine(entry: NewQuarantine): Promise<string>;
  /** Marks an entry resolved by report `reportId`; false when there is no unresolved entry `id`. */
  resolveQuarantine(id: string, reportId: string, at: Date): Promise<boolean>;
  listReports(filter: ReportFilter, limit: number): Promise<ReportListItem[]>;
  getReport(id: string): Promise<StoredReport | null>;
  /** The bytes exactly as received. */
  getReportRaw(id: string): Promise<Uint8Array | null>;
  summary(filter: ReportFilter, by: SummaryGrouping): Promise<Summary>;
  listQuarantine(options: { includeResolved: boolean; limit: number }): Promise<QuarantineItem[]>;
  getQuarantine(id: string): Promise<QuarantineEntry | null>;
  /** The quarantined bytes as received (the first bytes only when `rawTruncated`). */
  getQuarantineRaw(id: string): Promise<Uint8Array | null>;
  /** Deletes reports whose period ended before `before`, and quarantine entries received before it. */
  prune(
    before: Date,
    options: { dryRun: boolean },
  ): Promise<{ reports: number; quarantine: number }>;
  counts(): Promise<StoreCounts>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** False for read-only questions: a missing SQLite file is an error, not a new empty store. */
  create?: boolean;
}

/** A store that could not be opened or reached; `message` names the target and what to check. */
export class StoreError extends Error {
  override readonly name = "StoreError";
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/** `db`: a SQLite file path, or a `postgres://…` / `postgresql://…` URL (optional `?schema=NAME`). */
export async function openReportStore(db: string, options: OpenOptions = {}): Promise<ReportStore> {
  if (POSTGRES_URL.test(db)) {
    const { openPostgresReportStore } = await import("./postgres-store.ts");
    return openPostgresReportStore(db);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new StoreError(
      `${db.replace(/\/\/[^@/]*@/, "//…@")} is not a report store: give a SQLite file path or a postgres:// URL`,
    );
  }
  const { openSqliteReportStore } = await import("./sqlite-store.ts");
  return openSqliteReportStore(db, options.create ?? true);
}
