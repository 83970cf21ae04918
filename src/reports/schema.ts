// The report store's tables, one migration list for both backends: the DDL is
// written once with a few type words that differ (row ids, 64-bit integers,
// byte strings). Times are UTC epoch milliseconds in 64-bit integers, so the
// same SQL groups by day in SQLite and PostgreSQL. docs/reports.md explains
// each table.

import { migrations } from "./migrations.ts";

export type Dialect = "sqlite" | "postgres";

const TYPES: Record<Dialect, { id: string; int: string; blob: string }> = {
  sqlite: { id: "INTEGER PRIMARY KEY", int: "INTEGER", blob: "BLOB" },
  postgres: { id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", int: "BIGINT", blob: "BYTEA" },
};

/** Append only: a released step never changes; the store records how many it applied. */
const STEPS: readonly ((t: (typeof TYPES)[Dialect]) => string[])[] = [
  (t) => [
    // Raw bytes live in their own table so scans of report rows never read them.
    `CREATE TABLE tlsrpt_reports (
       id ${t.id},
       organization TEXT,
       reporter_key TEXT NOT NULL,
       report_id TEXT NOT NULL,
       report_key TEXT NOT NULL,
       contact TEXT,
       start_ms ${t.int} NOT NULL,
       end_ms ${t.int} NOT NULL,
       received_ms ${t.int} NOT NULL,
       channel TEXT NOT NULL,
       origin TEXT,
       dkim_result TEXT,
       dkim_domain TEXT,
       dkim_aligned SMALLINT,
       dkim_detail TEXT,
       content_sha256 TEXT NOT NULL,
       raw_size ${t.int} NOT NULL,
       warnings TEXT NOT NULL,
       successful ${t.int} NOT NULL CHECK (successful >= 0),
       failed ${t.int} NOT NULL CHECK (failed >= 0),
       CONSTRAINT tlsrpt_reports_dedup UNIQUE (reporter_key, report_key),
       CONSTRAINT tlsrpt_reports_content UNIQUE (content_sha256)
     )`,
    // Periods are selected by overlap (end > since, start < until) and listed newest
    // end first: one index on end_ms serves both. Each index costs every insert a
    // page write, so there are no others beyond the dedup keys.
    "CREATE INDEX tlsrpt_reports_end ON tlsrpt_reports (end_ms)",
    `CREATE TABLE tlsrpt_report_raw (
       report ${t.int} PRIMARY KEY REFERENCES tlsrpt_reports (id) ON DELETE CASCADE,
       encoding TEXT NOT NULL,
       bytes ${t.blob} NOT NULL
     )`,
    `CREATE TABLE tlsrpt_policies (
       id ${t.id},
       report ${t.int} NOT NULL REFERENCES tlsrpt_reports (id) ON DELETE CASCADE,
       position INTEGER NOT NULL,
       policy_type TEXT,
       policy_domain TEXT,
       policy_strings TEXT,
       mx_hosts TEXT,
       successful ${t.int} NOT NULL CHECK (successful >= 0),
       failed ${t.int} NOT NULL CHECK (failed >= 0)
     )`,
    "CREATE INDEX tlsrpt_policies_report ON tlsrpt_policies (report)",
    "CREATE INDEX tlsrpt_policies_domain ON tlsrpt_policies (policy_domain, report)",
    `CREATE TABLE tlsrpt_failure_details (
       id ${t.id},
       policy ${t.int} NOT NULL REFERENCES tlsrpt_policies (id) ON DELETE CASCADE,
       position INTEGER NOT NULL,
       result_type TEXT,
       sending_mta_ip TEXT,
       receiving_mx_hostname TEXT,
       receiving_mx_helo TEXT,
       receiving_ip TEXT,
       failed_sessions ${t.int} NOT NULL CHECK (failed_sessions >= 0),
       additional_information TEXT,
       failure_reason_code TEXT
     )`,
    "CREATE INDEX tlsrpt_failure_details_policy ON tlsrpt_failure_details (policy)",
    // One unresolved entry per distinct bytes: a sender retrying a bad report
    // bumps `attempts` instead of filling the table.
    `CREATE TABLE tlsrpt_quarantine (
       id ${t.id},
       received_ms ${t.int} NOT NULL,
       channel TEXT NOT NULL,
       origin TEXT,
       code TEXT NOT NULL,
       reason TEXT NOT NULL,
       diagnostics TEXT NOT NULL,
       attempts INTEGER NOT NULL DEFAULT 1,
       content_sha256 TEXT NOT NULL,
       raw_encoding TEXT NOT NULL,
       raw_size ${t.int} NOT NULL,
       raw_truncated SMALLINT NOT NULL,
       resolved_ms ${t.int},
       resolved_report ${t.int},
       raw ${t.blob} NOT NULL
     )`,
    `CREATE UNIQUE INDEX tlsrpt_quarantine_open ON tlsrpt_quarantine (content_sha256)
       WHERE resolved_ms IS NULL`,
    "CREATE INDEX tlsrpt_quarantine_received ON tlsrpt_quarantine (received_ms)",
  ],
  (t) => [
    // Raw bytes of the small reports one transaction stores, compressed together:
    // reports from one sender are alike, so a pack keeps ~8% of their bytes where
    // one report alone keeps ~50%, and the compressor is set up once, not per
    // report. A report row names its pack and where its bytes start (its length
    // is raw_size); reports stored alone keep a tlsrpt_report_raw row as before.
    // first_report..last_report bound the ids that may point into a pack, so
    // pruning finds the packs left without reports through the primary key.
    // raw_pack has no REFERENCES: enforcing it would make every pack deleted
    // scan tlsrpt_reports (no index on raw_pack, which would cost every insert);
    // the store writes and prunes packs with their reports instead.
    `CREATE TABLE tlsrpt_raw_packs (
       id ${t.id},
       encoding TEXT NOT NULL,
       bytes ${t.blob} NOT NULL,
       first_report ${t.int} NOT NULL,
       last_report ${t.int} NOT NULL
     )`,
    `ALTER TABLE tlsrpt_reports ADD COLUMN raw_pack ${t.int}`,
    `ALTER TABLE tlsrpt_reports ADD COLUMN raw_offset ${t.int}`,
  ],
];

/** Applied by src/reports/migrations.ts; the count is kept in `tlsrpt_schema`. */
export const reportMigrations = migrations(
  "tlsrpt_schema",
  "the store has schema version",
  TYPES,
  STEPS,
);
