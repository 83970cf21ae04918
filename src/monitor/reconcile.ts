// Turns judgements into alert changes, each written with its notifications in
// one transaction (the outbox), so an alert change is never recorded without
// its notice or the other way round.
//
// - a firing condition with no live alert opens one and notifies "opened";
// - a live alert whose condition still fires is updated (last seen, message)
//   and not re-sent, except: a snoozed alert whose snooze has ended is
//   re-opened and re-sent, and an open alert is re-sent every `renotify`;
// - a live alert whose rule judged its subject clear is auto-resolved and
//   notifies "resolved", as is one whose domain or rule left the config;
// - an alert a user resolved is closed for good: if its condition still holds
//   at the next evaluation, a new alert (new id) opens and is sent.

import type { SqlRunner } from "../reports/sql.ts";
import {
  alertKey,
  getAlert,
  insertAlert,
  liveAlerts,
  markSeen,
  resolveAlert,
  type StoredAlert,
  touchAlert,
} from "./alert-queries.ts";
import type { MonitorConfig } from "./config.ts";
import type { MonitorDb } from "./db.ts";
import { type AlertEvent, enqueue } from "./outbox-queries.ts";
import type { Condition, Judgement } from "./rules.ts";
import type { Alert, AlertRule } from "./types.ts";

/** Where every alert event goes: one outbox row per target. */
export function targetsOf(config: MonitorConfig): string[] {
  return [
    ...config.delivery.webhooks.map((w) => `webhook:${w.url}`),
    ...(config.delivery.mail === null ? [] : ["mail"]),
  ];
}

export interface Changes {
  opened: number;
  resolved: number;
  notices: number;
}

export async function reconcile(
  db: MonitorDb,
  config: MonitorConfig,
  judgements: readonly Judgement[],
  now: Date,
): Promise<Changes> {
  const changes: Changes = { opened: 0, resolved: 0, notices: 0 };
  const targets = targetsOf(config);
  const live = new Map((await liveAlerts(db)).map((a) => [a.key, a]));
  const notify = async (tx: SqlRunner, event: AlertEvent, alert: Alert, repeat: boolean) => {
    const payload = JSON.stringify({ event, alert: alertJson(alert), repeat });
    for (const target of targets)
      await enqueue(tx, { alert: alert.id, event, target, payload }, now);
    changes.notices++;
  };
  const close = (a: StoredAlert) =>
    db.transaction(async (tx) => {
      if (!(await resolveAlert(tx, a.id, now, "auto"))) return;
      changes.resolved++;
      await notify(
        tx,
        "alert.resolved",
        { ...a, state: "resolved", resolvedAt: now, snoozedUntil: null },
        false,
      );
    });

  // Alerts seen again with nothing else to change: one UPDATE for all of them.
  const seen: string[] = [];
  for (const j of judgements) {
    const firing = new Set<string>();
    for (const c of j.firing) {
      const key = alertKey(c);
      firing.add(key);
      await fire(c, live.get(key));
    }
    for (const a of live.values()) {
      if (a.rule !== j.rule || a.domain !== j.domain || firing.has(a.key)) continue;
      if (j.settles(a.subject)) await close(a);
    }
  }
  // Alerts of domains or rules no longer monitored would otherwise stay open forever.
  const domains = new Set(config.domains);
  for (const a of live.values()) {
    if (!domains.has(a.domain) || !ruleEnabled(config, a.rule)) await close(a);
  }
  await markSeen(db, seen, now);
  return changes;

  async function fire(c: Condition, existing: StoredAlert | undefined): Promise<void> {
    const snoozeOver =
      existing?.state === "snoozed" &&
      (existing.snoozedUntil === null || existing.snoozedUntil.getTime() <= now.getTime());
    const reminder =
      existing?.state === "open" &&
      config.renotifyMs !== null &&
      (existing.notifiedAt?.getTime() ?? 0) + config.renotifyMs <= now.getTime();
    const resend = snoozeOver || reminder;
    if (existing !== undefined && !resend) {
      // Nothing to send: no transaction needed, and usually only lastSeen changes.
      if (existing.message === c.message) seen.push(existing.id);
      else await touchAlert(db, existing.id, { message: c.message, at: now });
      return;
    }
    await db.transaction(async (tx) => {
      if (existing === undefined) {
        const id = await insertAlert(tx, c, now);
        if (id === null) return; // another process opened it first; it notifies
        changes.opened++;
        const alert: Alert = {
          id,
          ...c,
          state: "open",
          firstSeen: now,
          lastSeen: now,
          snoozedUntil: null,
          resolvedAt: null,
        };
        await notify(tx, "alert.opened", alert, false);
        return;
      }
      await touchAlert(tx, existing.id, {
        message: c.message,
        at: now,
        reopen: snoozeOver,
        notified: true,
      });
      const alert = await getAlert(tx, existing.id);
      if (alert !== null) await notify(tx, "alert.opened", alert, true);
    });
  }
}

export function ruleEnabled(config: MonitorConfig, rule: AlertRule): boolean {
  const r = config.rules;
  switch (rule) {
    case "failure-rate":
      return r.failureRate !== null;
    case "new-result-type":
      return r.newResultType !== null;
    case "cert-expiry":
      return r.certExpiryDays !== null;
    case "policy-host":
      return r.policyHost;
    case "id-out-of-step":
      return r.idOutOfStep;
  }
}

/** The alert as webhooks receive it (and as the mail is written from). */
export function alertJson(a: Alert): Record<string, unknown> {
  return {
    id: a.id,
    rule: a.rule,
    domain: a.domain,
    subject: a.subject,
    message: a.message,
    state: a.state,
    firstSeen: a.firstSeen.toISOString(),
    lastSeen: a.lastSeen.toISOString(),
    snoozedUntil: a.snoozedUntil?.toISOString() ?? null,
    resolvedAt: a.resolvedAt?.toISOString() ?? null,
  };
}
