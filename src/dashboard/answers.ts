// What the API answers and the pages show: each page renders exactly the
// object its API call returns, so the two cannot disagree. Reports come from
// the store (and the dashboard reader for its own questions); policy, checks,
// certificates and alerts from the monitor when there is one.

import type { Alert, AlertState, CheckRun, MonitorView } from "../monitor/types.ts";
import {
  DAY_MS,
  type DomainOverview,
  dayOf,
  domainKnown,
  domainOverview,
  recentActivity,
  reportedDomains,
} from "../reports/dashboard-queries.ts";
import type { SqlRunner } from "../reports/sql.ts";
import type { ReportListItem, ReportStore, StoredReport } from "../reports/store.ts";
import { HttpError } from "./http.ts";
import type { Capped } from "./params.ts";

export interface Sources {
  store: ReportStore;
  reader: SqlRunner;
  monitor: MonitorView | null;
  now: () => Date;
}

export interface DomainRow {
  domain: string;
  monitored: boolean;
  policy: { mode: string | null; id: string | null } | null;
  lastCheck: { at: string; status: string } | null;
  last7: { successful: number; failed: number };
  last30: { successful: number; failed: number; reports: number };
  /** The last 30 UTC days, oldest first, zeros where no report started. */
  spark: { day: string; successful: number; failed: number }[];
  openAlerts: number;
}

export interface DomainsAnswer {
  generatedAt: string;
  monitoring: boolean;
  domains: DomainRow[];
}

export async function domainsAnswer(src: Sources): Promise<DomainsAnswer> {
  const now = src.now();
  const [reported, activity] = await Promise.all([
    reportedDomains(src.reader),
    recentActivity(src.reader, now),
  ]);
  const monitored = src.monitor?.domains() ?? [];
  const checks = new Map<string, CheckRun>();
  const alerts = new Map<string, number>();
  if (src.monitor !== null) {
    for (const c of await src.monitor.latestChecks()) checks.set(c.domain, c);
    for (const [domain, n] of await src.monitor.openAlertCounts()) alerts.set(domain, n);
  }
  const byDomain = new Map(activity.map((a) => [a.domain, a]));
  const names = [...new Set([...monitored, ...reported])];
  const lastDay = Math.floor(now.getTime() / DAY_MS);
  const domains = names.map((domain): DomainRow => {
    const a = byDomain.get(domain);
    const days = new Map((a?.days ?? []).map((d) => [d.day, d]));
    const check = checks.get(domain);
    return {
      domain,
      monitored: monitored.includes(domain),
      policy: check === undefined ? null : { mode: check.mode, id: check.policyId },
      lastCheck: check === undefined ? null : { at: check.at.toISOString(), status: check.status },
      last7: a?.last7 ?? { successful: 0, failed: 0 },
      last30: a?.last30 ?? { successful: 0, failed: 0, reports: 0 },
      spark: Array.from({ length: 30 }, (_, i) => {
        const day = dayOf(lastDay - 29 + i);
        const d = days.get(day);
        return { day, successful: d?.successful ?? 0, failed: d?.failed ?? 0 };
      }),
      openAlerts: alerts.get(domain) ?? 0,
    };
  });
  return { generatedAt: now.toISOString(), monitoring: src.monitor !== null, domains };
}

export interface DomainAnswer extends DomainOverview {
  periodDays: number;
  capped: Capped[];
  monitoring: boolean;
  monitored: boolean;
  lastCheck: CheckRun | null;
  policyHistory: { at: Date; mode: string | null; policyId: string | null }[] | null;
  certificates: CheckRun["certificates"] | null;
}

export async function domainAnswer(
  src: Sources,
  domain: string,
  days: number,
  capped: Capped[],
): Promise<DomainAnswer> {
  const monitored = src.monitor?.domains().includes(domain) ?? false;
  if (!monitored && !(await domainKnown(src.reader, domain))) {
    throw new HttpError(
      404,
      "unknown-domain",
      `no reports for ${domain} and it is not monitored; reports for it arrive once its _smtp._tls record names this server`,
    );
  }
  const until = src.now();
  const since = new Date(until.getTime() - days * DAY_MS);
  const overview = await domainOverview(src.reader, domain, since, until);
  let lastCheck: CheckRun | null = null;
  let policyHistory: DomainAnswer["policyHistory"] = null;
  if (src.monitor !== null && monitored) {
    lastCheck = (await src.monitor.checkHistory(domain, 1))[0] ?? null;
    policyHistory = await src.monitor.policyHistory(domain);
  }
  return {
    ...overview,
    periodDays: days,
    capped,
    monitoring: src.monitor !== null,
    monitored,
    lastCheck,
    policyHistory,
    certificates: lastCheck?.certificates ?? null,
  };
}

export interface ReportsAnswer {
  filter: { domain: string | null; days: number };
  limit: number;
  capped: Capped[];
  reports: ReportListItem[];
}

export async function reportsAnswer(
  src: Sources,
  filter: { domain?: string; days: number; limit: number },
  capped: Capped[],
): Promise<ReportsAnswer> {
  const since = new Date(src.now().getTime() - filter.days * DAY_MS);
  const reports = await src.store.listReports(
    { ...(filter.domain === undefined ? {} : { domain: filter.domain }), since },
    filter.limit,
  );
  return {
    filter: { domain: filter.domain ?? null, days: filter.days },
    limit: filter.limit,
    capped,
    reports,
  };
}

export async function reportAnswer(src: Sources, id: string): Promise<StoredReport> {
  const report = await src.store.getReport(id);
  if (report === null)
    throw new HttpError(
      404,
      "unknown-report",
      `there is no report ${id}; list them at /api/reports`,
    );
  return report;
}

export interface AlertsAnswer {
  monitoring: boolean;
  alerts: Alert[];
}

export async function alertsAnswer(
  src: Sources,
  filter: { state?: AlertState; domain?: string; limit: number },
): Promise<AlertsAnswer> {
  if (src.monitor === null) return { monitoring: false, alerts: [] };
  return { monitoring: true, alerts: await src.monitor.alerts(filter) };
}
