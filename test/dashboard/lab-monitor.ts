// The real monitor (src/monitor) for the dashboard tests: opened on the
// fixture's own store (same database, its own tables), its checks pointed at
// the lab, on a clock the test sets. No delivery targets: what the dashboard
// shows is the monitor's tables, not what was sent.

import assert from "node:assert/strict";
import type { Lab } from "../../lab/index.ts";
import { type Monitor, openMonitor, parseMonitorConfig } from "../../src/monitor/index.ts";
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

/** One sender's daily report for `domain` ending at `end`, stored through the real ingest path. */
export { ingest as ingestDaily } from "../monitor/reports.ts";
