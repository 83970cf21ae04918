// The monitor: scheduled checks of every managed domain, their history, the
// alert rules evaluated after each check round and on demand (after new
// reports), and delivery through the outbox. Everything that changes alerts
// runs one at a time (a promise chain), so a timer, checkNow() and a user's
// snooze never interleave their writes.

import type { Transporter } from "nodemailer";
import { type CheckDeps, type CheckOptions, checkDomain } from "../check/index.ts";
import { policyDomain } from "../core/names.ts";
import type { ReportStore } from "../reports/store.ts";
import {
  getAlert,
  listAlerts,
  openAlertCounts,
  pruneAlerts,
  resolveAlert,
  snoozeAlert,
} from "./alert-queries.ts";
import { checkRunOf } from "./check-run.ts";
import type { MonitorConfig } from "./config.ts";
import { openMonitorDb } from "./db.ts";
import { deliverDue } from "./deliver.ts";
import { judgeAll } from "./judge.ts";
import { mailTransport } from "./mail.ts";
import { enqueue, type NotificationRecord, nextDue, notificationsOf } from "./outbox-queries.ts";
import { alertJson, type Changes, reconcile, targetsOf } from "./reconcile.ts";
import { insertRun, latestRuns, policyChanges, pruneRuns, runHistory } from "./run-queries.ts";
import { CheckSchedule } from "./schedule.ts";
import type { CheckRun, MonitorView } from "./types.ts";

export interface MonitorDeps {
  /** The same --db value as the report store: a SQLite file path or a postgres:// URL. */
  db: string;
  reports?: ReportStore;
  checkDeps: CheckDeps;
  checkOptions?: CheckOptions;
  now?: () => Date;
  random?: () => number;
  log?: (line: string) => void;
  smtpTls?: { ca?: string[] };
}

export interface Monitor extends MonitorView {
  start(): void;
  stop(): Promise<void>;
  /** Evaluates every rule now (call after ingesting reports), then delivers. */
  evaluate(): Promise<Changes>;
  /** Sends the notifications that are due (retries included). */
  deliver(): Promise<{ sent: number; failed: number }>;
  /** One alert's notification log, oldest first. */
  notifications(alertId: string): Promise<NotificationRecord[]>;
}

/** Domains checked at once in a round. */
const CHECK_CONCURRENCY = 4;
/** The scheduler looks for due domains at least this often. */
const MAX_TICK_MS = 15 * 60_000;

export async function openMonitor(config: MonitorConfig, deps: MonitorDeps): Promise<Monitor> {
  const db = await openMonitorDb(deps.db);
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ca = deps.smtpTls?.ca;
  const mail: Transporter | null =
    config.delivery.mail === null
      ? null
      : mailTransport(config.delivery.mail, {
          timeoutMs: config.delivery.timeoutMs,
          ...(ca ? { ca } : {}),
        });
  const schedule = new CheckSchedule(config.intervalMs, random);
  for (const run of await latestRuns(db, config.domains)) schedule.ran(run.domain, run.at);

  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(() => {
      if (closed) throw new Error("the monitor is stopped");
      return work();
    });
    chain = next.catch(() => {});
    return next;
  };
  let started = false;
  let stopped = false;
  let tickTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();

  const deliver = async () => {
    const counts = await exclusive(() => deliverDue(db, { config, mail, now, log }));
    await armRetry();
    return counts;
  };
  // Retries are background work: armed only between start() and stop().
  const armRetry = async () => {
    if (!started || stopped) return;
    clearTimeout(retryTimer);
    const due = await exclusive(() => nextDue(db));
    if (stopped || due === null) return;
    const wait = Math.max(1000, due.getTime() - now().getTime());
    retryTimer = setTimeout(() => void deliver().catch(logError), Math.min(wait, 2 ** 31 - 1));
    retryTimer.unref();
  };
  const logError = (error: unknown) => {
    if (stopped) return;
    log(
      JSON.stringify({
        msg: "monitor error",
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  };

  const evaluate = async (): Promise<Changes> => {
    const changes = await exclusive(async () => {
      const judgements = await judgeAll(config, db, deps.reports, now(), log);
      return reconcile(db, config, judgements, now());
    });
    await deliver();
    return changes;
  };

  const runChecks = async (domains: readonly string[]) => {
    const runs: CheckRun[] = [];
    const queue = [...domains];
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
        try {
          const result = await checkDomain(d, deps.checkDeps, {
            ...deps.checkOptions,
            timeoutMs: config.timeoutMs,
            ...(config.rules.certExpiryDays === null
              ? {}
              : { expiryWarningDays: config.rules.certExpiryDays }),
          });
          runs.push(checkRunOf(result, now()));
        } catch (error) {
          log(JSON.stringify({ msg: "check failed", domain: d, error: String(error) }));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, domains.length) }, worker));
    await exclusive(async () => {
      for (const run of runs) {
        await insertRun(db, run);
        schedule.ran(run.domain, run.at);
      }
      const horizon = new Date(now().getTime() - config.historyMs);
      await pruneRuns(db, horizon);
      await pruneAlerts(db, horizon);
    });
  };

  const tick = async () => {
    const due = schedule.dueAt(config.domains, now());
    if (due.length > 0) await runChecks(due);
    await evaluate();
  };
  const arm = () => {
    if (stopped) return;
    const wait = Math.min(MAX_TICK_MS, schedule.untilNext(config.domains, now()));
    // A little randomness even when due: monitors started together spread out.
    tickTimer = setTimeout(
      () => {
        ticking = tick().catch(logError);
        void ticking.finally(arm);
      },
      wait + Math.round(random() * 5000),
    );
    tickTimer.unref();
  };

  // Reads need no turn in the chain, only an open database.
  const read = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error("the monitor is stopped");
    return work();
  };

  return {
    domains: () => config.domains,
    latestChecks: () => read(() => latestRuns(db, config.domains)),
    checkHistory: (domain, limit) => read(() => runHistory(db, domain, limit)),
    policyHistory: (domain) => read(() => policyChanges(db, domain)),
    alerts: (filter) => read(() => listAlerts(db, filter)),
    openAlertCounts: () => read(() => openAlertCounts(db)),
    snooze: (id, until) => {
      if (Number.isNaN(until.getTime())) throw new RangeError("snooze needs a valid date");
      return exclusive(() => snoozeAlert(db, id, until));
    },
    resolve: async (id) => {
      const done = await exclusive(() =>
        db.transaction(async (tx) => {
          const at = now();
          const alert = await getAlert(tx, id);
          if (alert === null || !(await resolveAlert(tx, id, at, "user"))) return false;
          // Receivers that saw it open see it closed, whoever closed it.
          const payload = JSON.stringify({
            event: "alert.resolved",
            alert: alertJson({ ...alert, state: "resolved", resolvedAt: at, snoozedUntil: null }),
            repeat: false,
          });
          for (const target of targetsOf(config)) {
            await enqueue(tx, { alert: id, event: "alert.resolved", target, payload }, at);
          }
          return true;
        }),
      );
      if (done) await deliver();
      return done;
    },
    checkNow: async (input) => {
      const domain = input === undefined ? undefined : (policyDomain(input) ?? input);
      if (domain !== undefined && !config.domains.includes(domain)) {
        throw new Error(`${input} is not a monitored domain; add it to monitor.domains`);
      }
      await runChecks(domain === undefined ? config.domains : [domain]);
      await evaluate();
    },
    evaluate,
    deliver,
    notifications: (id) => read(() => notificationsOf(db, id)),
    start: () => {
      if (stopped || started) return;
      started = true;
      arm();
      void armRetry().catch(logError);
    },
    stop: async () => {
      stopped = true;
      clearTimeout(tickTimer);
      clearTimeout(retryTimer);
      await ticking;
      await chain;
      closed = true;
      mail?.close();
      await db.close();
    },
  };
}
