// The notification log, which is also the outbox: a row is written with its
// alert change in one transaction, then delivered; a failed delivery stays
// pending with a later attempt time, so an alert is never lost because a
// webhook or the SMTP server was down, and survives a restart.

import { num, rowId, type SqlRunner, text } from "../reports/sql.ts";

export type AlertEvent = "alert.opened" | "alert.resolved";

export interface Notification {
  id: string;
  alert: string;
  event: AlertEvent;
  /** `mail`, or `webhook:<url>`. */
  target: string;
  /** The JSON body a webhook receives; mail is rendered from it. */
  payload: string;
  attempts: number;
  nextAttempt: Date;
}

export async function enqueue(
  db: SqlRunner,
  n: { alert: string; event: AlertEvent; target: string; payload: string },
  at: Date,
): Promise<void> {
  await db.run(
    `INSERT INTO monitor_notifications (alert, event, target, payload, state, next_attempt_ms, created_ms)
     VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
    [Number(n.alert), n.event, n.target, n.payload, at.getTime(), at.getTime()],
  );
}

/** Pending rows in the order they were queued (due or not: order per target matters). */
export async function pending(db: SqlRunner, limit: number): Promise<Notification[]> {
  const rows = await db.all(
    `SELECT id, alert, event, target, payload, attempts, next_attempt_ms FROM monitor_notifications
     WHERE state = 'pending' ORDER BY id LIMIT ?`,
    [limit],
  );
  return rows.map((r) => ({
    id: String(r.id),
    alert: String(r.alert),
    event: String(r.event) as AlertEvent,
    target: String(r.target),
    payload: String(r.payload),
    attempts: num(r.attempts),
    nextAttempt: new Date(num(r.next_attempt_ms)),
  }));
}

export async function markSent(db: SqlRunner, id: string, at: Date): Promise<void> {
  await db.run(
    "UPDATE monitor_notifications SET state = 'sent', sent_ms = ?, attempts = attempts + 1 WHERE id = ?",
    [at.getTime(), Number(id)],
  );
}

/** Records a failed attempt: retried at `next`, or given up (`failed`) when `next` is null. */
export async function markFailed(
  db: SqlRunner,
  id: string,
  error: string,
  next: Date | null,
): Promise<void> {
  await db.run(
    `UPDATE monitor_notifications SET attempts = attempts + 1, last_error = ?,
       state = ?, next_attempt_ms = ? WHERE id = ?`,
    [error.slice(0, 500), next === null ? "failed" : "pending", next?.getTime() ?? 0, Number(id)],
  );
}

/** The earliest time a pending row is due, or null when nothing is pending. */
export async function nextDue(db: SqlRunner): Promise<Date | null> {
  const [row] = await db.all(
    "SELECT min(next_attempt_ms) AS due FROM monitor_notifications WHERE state = 'pending'",
  );
  return row?.due === null || row?.due === undefined ? null : new Date(num(row.due));
}

export interface NotificationRecord {
  event: AlertEvent;
  target: string;
  state: "pending" | "sent" | "failed";
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
}

/** The log of one alert's notifications, oldest first (webhook URLs are shown by origin only). */
export async function notificationsOf(db: SqlRunner, alert: string): Promise<NotificationRecord[]> {
  const n = rowId(alert);
  if (n === null) return [];
  const rows = await db.all(
    `SELECT event, target, state, attempts, last_error, sent_ms FROM monitor_notifications
     WHERE alert = ? ORDER BY id`,
    [n],
  );
  return rows.map((r) => ({
    event: String(r.event) as AlertEvent,
    target: shownTarget(String(r.target)),
    state: String(r.state) as NotificationRecord["state"],
    attempts: num(r.attempts),
    lastError: text(r.last_error),
    sentAt: r.sent_ms === null ? null : new Date(num(r.sent_ms)),
  }));
}

/** A webhook URL may carry a secret in its path or query: show its origin only. */
export function shownTarget(target: string): string {
  if (!target.startsWith("webhook:")) return target;
  try {
    return `webhook:${new URL(target.slice("webhook:".length)).origin}`;
  } catch {
    return "webhook";
  }
}
