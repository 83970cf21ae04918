// The real monitor (src/monitor) for the dashboard tests: opened on the
// fixture's own store (same database, its own tables), its checks pointed at
// the lab, on a clock the test sets. No delivery targets: what the dashboard
// shows is the monitor's tables, not what was sent.

import assert from "node:assert/strict";
import type { Lab } from "../../lab/index.ts";
import { type Monitor, openMonitor, parseMonitorConfig } from "../../src/monitor/index.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import type { ReportStore } from "../../src/reports/store.ts";
import type { MonitorFactory } from "./fixture.ts";

export function labMonitor(
  lab: Lab,
  domains: string[],
  now: () => Date,
  logs: string[] = [],
): MonitorFactory {
  return async ({ db, store }): Promise<Monitor> => {
    const parsed = parseMonitorConfig({ domains, interval: "6h", timeout: "20s" });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    return openMonitor(parsed.value, {
      db,
      reports: store,
      checkDeps: lab.checkDeps(),
      checkOptions: lab.checkOptions,
      now,
      log: (line) => logs.push(line),
    });
  };
}

let serial = 0;

/** One sender's daily report for `domain` ending at `end`, stored through the real ingest path. */
export async function ingestDaily(
  store: ReportStore,
  r: { domain: string; end: Date; successful: number; failures: { type: string; count: number }[] },
): Promise<void> {
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  const body = {
    "organization-name": "Sender Ltd",
    "date-range": {
      "start-datetime": iso(new Date(r.end.getTime() - 86_400_000 + 1000)),
      "end-datetime": iso(r.end),
    },
    "contact-info": "tlsrpt@sender.example",
    "report-id": `dashboard-monitor-${process.pid}-${++serial}`,
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": [
            "version: STSv1",
            "mode: enforce",
            `mx: mx1.${r.domain}`,
            "max_age: 604800",
          ],
          "policy-domain": r.domain,
          "mx-host": [`mx1.${r.domain}`],
        },
        summary: {
          "total-successful-session-count": r.successful,
          "total-failure-session-count": r.failures.reduce((n, f) => n + f.count, 0),
        },
        "failure-details": r.failures.map((f) => ({
          "result-type": f.type,
          "sending-mta-ip": "192.0.2.1",
          "receiving-mx-hostname": `mx1.${r.domain}`,
          "failed-session-count": f.count,
        })),
      },
    ],
  };
  const outcome = await ingestReport(store, {
    bytes: new TextEncoder().encode(JSON.stringify(body)),
    channel: "file",
    origin: "test",
    receivedAt: r.end,
  });
  if (outcome.status !== "stored") throw new Error(`report not stored: ${JSON.stringify(outcome)}`);
}
