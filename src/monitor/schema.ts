// The monitor's tables, beside the report store's in the same database but
// with their own migration list and their own applied-steps table, so the two
// capabilities migrate independently. As in the report store, the DDL is
// written once with the few type words that differ, and times are UTC epoch
// milliseconds in 64-bit integers. docs/monitor.md explains each table.

import { migrations } from "../reports/migrations.ts";
import type { Dialect } from "../reports/schema.ts";

const TYPES: Record<Dialect, { id: string; int: string }> = {
  sqlite: { id: "INTEGER PRIMARY KEY", int: "INTEGER" },
  postgres: { id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", int: "BIGINT" },
};

/** Append only: a released step never changes. */
const STEPS: readonly ((t: (typeof TYPES)[Dialect]) => string[])[] = [
  (t) => [
    `CREATE TABLE monitor_check_runs (
       id ${t.id},
       domain TEXT NOT NULL,
       at_ms ${t.int} NOT NULL,
       status TEXT NOT NULL,
       mode TEXT,
       policy_id TEXT,
       policy_hash TEXT,
       findings TEXT NOT NULL,
       certificates TEXT NOT NULL
     )`,
    "CREATE INDEX monitor_check_runs_domain ON monitor_check_runs (domain, at_ms)",
    "CREATE INDEX monitor_check_runs_at ON monitor_check_runs (at_ms)",
    `CREATE TABLE monitor_alerts (
       id ${t.id},
       dedup_key TEXT NOT NULL,
       rule TEXT NOT NULL,
       domain TEXT NOT NULL,
       subject TEXT NOT NULL,
       message TEXT NOT NULL,
       state TEXT NOT NULL CHECK (state IN ('open', 'snoozed', 'resolved')),
       first_seen_ms ${t.int} NOT NULL,
       last_seen_ms ${t.int} NOT NULL,
       snoozed_until_ms ${t.int},
       resolved_ms ${t.int},
       resolved_by TEXT,
       notified_ms ${t.int}
     )`,
    // At most one live alert per condition, even with two processes evaluating.
    `CREATE UNIQUE INDEX monitor_alerts_live ON monitor_alerts (dedup_key)
       WHERE state <> 'resolved'`,
    "CREATE INDEX monitor_alerts_domain ON monitor_alerts (domain, last_seen_ms)",
    // One row per alert event and target, so a webhook that is down never
    // delays or repeats the mail, and a pending row survives a restart.
    `CREATE TABLE monitor_notifications (
       id ${t.id},
       alert ${t.int} NOT NULL REFERENCES monitor_alerts (id) ON DELETE CASCADE,
       event TEXT NOT NULL,
       target TEXT NOT NULL,
       payload TEXT NOT NULL,
       state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
       attempts INTEGER NOT NULL DEFAULT 0,
       next_attempt_ms ${t.int} NOT NULL,
       last_error TEXT,
       created_ms ${t.int} NOT NULL,
       sent_ms ${t.int}
     )`,
    "CREATE INDEX monitor_notifications_due ON monitor_notifications (state, next_attempt_ms)",
    "CREATE INDEX monitor_notifications_alert ON monitor_notifications (alert)",
  ],
];

/** Applied by src/reports/migrations.ts; the count is kept in `mtasts_monitor_schema`. */
export const monitorMigrations = migrations(
  "mtasts_monitor_schema",
  "the monitor tables have schema version",
  TYPES,
  STEPS,
);
