// Alerts and their notification log. An alert's dedup key is rule + domain +
// subject; the partial unique index keeps one live (open or snoozed) alert per
// key, so a condition that persists updates its alert instead of adding one.

import { num, type Row, rowId, type SqlRunner } from "../reports/sql.ts";
import type { Alert, AlertRule, AlertState } from "./types.ts";

export interface StoredAlert extends Alert {
  key: string;
  /** When the last "opened" notification was queued (for re-notify). */
  notifiedAt: Date | null;
}

export interface NewAlert {
  rule: AlertRule;
  domain: string;
  subject: string;
  message: string;
}

export const alertKey = (a: { rule: string; domain: string; subject: string }): string =>
  `${a.rule}\n${a.domain}\n${a.subject}`;

const COLUMNS = `id, dedup_key, rule, domain, subject, message, state, first_seen_ms, last_seen_ms,
  snoozed_until_ms, resolved_ms, notified_ms`;

export async function liveAlerts(db: SqlRunner): Promise<StoredAlert[]> {
  const rows = await db.all(`SELECT ${COLUMNS} FROM monitor_alerts WHERE state <> 'resolved'`);
  return rows.map(alertOf);
}

export async function getAlert(db: SqlRunner, id: string): Promise<StoredAlert | null> {
  const n = rowId(id);
  if (n === null) return null;
  const [row] = await db.all(`SELECT ${COLUMNS} FROM monitor_alerts WHERE id = ?`, [n]);
  return row === undefined ? null : alertOf(row);
}

export async function listAlerts(
  db: SqlRunner,
  filter: { state?: AlertState; domain?: string; limit?: number },
): Promise<Alert[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.state !== undefined) {
    where.push("state = ?");
    params.push(filter.state);
  }
  if (filter.domain !== undefined) {
    where.push("domain = ?");
    params.push(filter.domain);
  }
  const limit = Math.max(0, Math.min(Math.floor(filter.limit ?? 100), 10_000));
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM monitor_alerts ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY last_seen_ms DESC, id DESC LIMIT ?`,
    [...params, limit],
  );
  // The dashboard gets the interface's shape, not our bookkeeping.
  return rows.map((r) => {
    const { key: _key, notifiedAt: _n, ...alert } = alertOf(r);
    return alert;
  });
}

export async function openAlertCounts(db: SqlRunner): Promise<Map<string, number>> {
  const rows = await db.all(
    "SELECT domain, COUNT(*) AS n FROM monitor_alerts WHERE state = 'open' GROUP BY domain",
  );
  return new Map(rows.map((r) => [String(r.domain), Number(r.n)]));
}

/** The new alert's id, or null when a live alert with the same key appeared meanwhile. */
export async function insertAlert(db: SqlRunner, a: NewAlert, at: Date): Promise<string | null> {
  const rows = await db.all(
    `INSERT INTO monitor_alerts (dedup_key, rule, domain, subject, message, state,
       first_seen_ms, last_seen_ms, notified_ms)
     VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
    [alertKey(a), a.rule, a.domain, a.subject, a.message, at.getTime(), at.getTime(), at.getTime()],
  );
  return rows[0] === undefined ? null : String(rows[0].id);
}

export async function touchAlert(
  db: SqlRunner,
  id: string,
  change: { message: string; at: Date; reopen?: boolean; notified?: boolean },
): Promise<void> {
  await db.run(
    `UPDATE monitor_alerts SET message = ?, last_seen_ms = ?
       ${change.reopen ? ", state = 'open', snoozed_until_ms = NULL" : ""}
       ${change.notified ? ", notified_ms = ?" : ""}
     WHERE id = ?`,
    [
      change.message,
      change.at.getTime(),
      ...(change.notified ? [change.at.getTime()] : []),
      Number(id),
    ],
  );
}

/** Sets lastSeen of many alerts at once (in chunks, to stay under parameter limits). */
export async function markSeen(db: SqlRunner, ids: readonly string[], at: Date): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500).map(Number);
    await db.run(
      `UPDATE monitor_alerts SET last_seen_ms = ? WHERE id IN (${chunk.map(() => "?").join(", ")})`,
      [at.getTime(), ...chunk],
    );
  }
}

/** False when the alert does not exist or is already resolved. */
export async function resolveAlert(
  db: SqlRunner,
  id: string,
  at: Date,
  by: "auto" | "user",
): Promise<boolean> {
  const n = rowId(id);
  if (n === null) return false;
  const changed = await db.run(
    `UPDATE monitor_alerts SET state = 'resolved', resolved_ms = ?, resolved_by = ?, snoozed_until_ms = NULL
     WHERE id = ? AND state <> 'resolved'`,
    [at.getTime(), by, n],
  );
  return changed > 0;
}

/** False when the alert does not exist or is resolved (a closed alert has nothing to snooze). */
export async function snoozeAlert(db: SqlRunner, id: string, until: Date): Promise<boolean> {
  const n = rowId(id);
  if (n === null) return false;
  const changed = await db.run(
    `UPDATE monitor_alerts SET state = 'snoozed', snoozed_until_ms = ?
     WHERE id = ? AND state <> 'resolved'`,
    [until.getTime(), n],
  );
  return changed > 0;
}

function alertOf(r: Row): StoredAlert {
  const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(num(v)));
  return {
    id: String(r.id),
    key: String(r.dedup_key),
    rule: String(r.rule) as AlertRule,
    domain: String(r.domain),
    subject: String(r.subject),
    message: String(r.message),
    state: String(r.state) as AlertState,
    firstSeen: new Date(num(r.first_seen_ms)),
    lastSeen: new Date(num(r.last_seen_ms)),
    snoozedUntil: ms(r.snoozed_until_ms),
    resolvedAt: ms(r.resolved_ms),
    notifiedAt: ms(r.notified_ms),
  };
}

/**
 * Forgets what is older than `before`: resolved alerts (their notifications
 * go with them) and delivered or abandoned notifications. Pending ones stay.
 */
export async function pruneAlerts(db: SqlRunner, before: Date): Promise<void> {
  const t = before.getTime();
  await db.run("DELETE FROM monitor_notifications WHERE state <> 'pending' AND created_ms < ?", [
    t,
  ]);
  await db.run(
    `DELETE FROM monitor_alerts WHERE state = 'resolved' AND resolved_ms < ?
       AND NOT EXISTS (SELECT 1 FROM monitor_notifications n
                       WHERE n.alert = monitor_alerts.id AND n.state = 'pending')`,
    [t],
  );
}
