// Sends what the outbox holds. Rows of one target go in the order they were
// queued: once a target fails (or its next row is not due yet) its later rows
// wait, so a receiver never sees "resolved" before "opened". A failed attempt
// is retried with exponential back-off; after MAX_ATTEMPTS it is marked failed
// and kept in the log, and the failure is logged.

import type { Transporter } from "nodemailer";
import type { SqlRunner } from "../reports/sql.ts";
import type { MonitorConfig } from "./config.ts";
import { alertMail } from "./mail.ts";
import { markFailed, markSent, pending, shownTarget } from "./outbox-queries.ts";
import { postWebhook, webhookRoots } from "./webhook.ts";

const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3_600_000;
/** About a day of retries at the cap. */
export const MAX_ATTEMPTS = 30;
const BATCH = 500;

export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

export interface Delivery {
  config: MonitorConfig;
  mail: Transporter | null;
  now: () => Date;
  log: (line: string) => void;
}

export async function deliverDue(
  db: SqlRunner,
  d: Delivery,
): Promise<{ sent: number; failed: number }> {
  const rows = await pending(db, BATCH);
  const blocked = new Set<string>();
  const counts = { sent: 0, failed: 0 };
  for (const row of rows) {
    if (blocked.has(row.target)) continue;
    if (row.nextAttempt.getTime() > d.now().getTime()) {
      blocked.add(row.target);
      continue;
    }
    try {
      await send(row.target, row.payload, d);
      await markSent(db, row.id, d.now());
      counts.sent++;
    } catch (error) {
      blocked.add(row.target);
      counts.failed++;
      const reason = error instanceof Error ? error.message : String(error);
      const attempts = row.attempts + 1;
      const giveUp = attempts >= MAX_ATTEMPTS || reason.startsWith("not configured");
      const next = giveUp ? null : new Date(d.now().getTime() + retryDelay(attempts));
      await markFailed(db, row.id, reason, next);
      d.log(
        JSON.stringify({
          msg: giveUp ? "alert notification given up" : "alert notification failed; will retry",
          target: shownTarget(row.target),
          event: row.event,
          alert: row.alert,
          attempts,
          error: reason,
          ...(next ? { retryAt: next.toISOString() } : {}),
        }),
      );
    }
  }
  return counts;
}

async function send(target: string, payload: string, d: Delivery): Promise<void> {
  const timeoutMs = d.config.delivery.timeoutMs;
  if (target === "mail") {
    const to = d.config.delivery.mail;
    if (to === null || d.mail === null)
      throw new Error("not configured: no mail delivery in the config");
    const mail = alertMail(JSON.parse(payload));
    await d.mail.sendMail({ from: to.from, to: to.to, subject: mail.subject, text: mail.text });
    return;
  }
  const url = target.slice("webhook:".length);
  const hook = d.config.delivery.webhooks.find((w) => w.url === url);
  if (hook === undefined)
    throw new Error("not configured: this webhook is no longer in the config");
  const ca = hook.caFile === null ? undefined : webhookRoots(hook.caFile);
  await postWebhook(hook.url, hook.headers, payload, { timeoutMs, ...(ca ? { ca } : {}) });
}
