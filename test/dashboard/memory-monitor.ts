// A MonitorView held in memory, standing in for src/monitor (built beside the
// dashboard) so the alert pages and actions can be exercised through the
// seam they will use. It records what the dashboard asked it to do.

import type { Alert, CheckRun, MonitorView } from "../../src/monitor/types.ts";

export function memoryMonitor(
  domains: string[],
  checks: CheckRun[],
  alerts: Alert[],
): MonitorView & { checked: (string | undefined)[] } {
  const checked: (string | undefined)[] = [];
  return {
    checked,
    domains: () => domains,
    latestChecks: async () => checks,
    checkHistory: async (domain, limit) =>
      checks.filter((c) => c.domain === domain).slice(0, limit),
    policyHistory: async (domain) =>
      checks
        .filter((c) => c.domain === domain)
        .map((c) => ({ at: c.at, mode: c.mode, policyId: c.policyId })),
    alerts: async (f) =>
      alerts
        .filter(
          (a) =>
            (f.state === undefined || a.state === f.state) &&
            (f.domain === undefined || a.domain === f.domain),
        )
        .slice(0, f.limit ?? 1000),
    snooze: async (id, until) => {
      const a = alerts.find((x) => x.id === id);
      if (a === undefined) return false;
      a.state = "snoozed";
      a.snoozedUntil = until;
      return true;
    },
    resolve: async (id) => {
      const a = alerts.find((x) => x.id === id);
      if (a === undefined) return false;
      a.state = "resolved";
      a.resolvedAt = new Date();
      return true;
    },
    checkNow: async (domain) => {
      checked.push(domain);
    },
  };
}
