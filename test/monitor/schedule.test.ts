// The scheduler: due times jittered within ±10% of the interval, domains never
// checked due at once, and start() really checking a lab domain on its own
// (then stop() leaving nothing running).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { scenario, startLab } from "../../lab/index.ts";
import { openMonitor, parseMonitorConfig } from "../../src/monitor/index.ts";
import { CheckSchedule } from "../../src/monitor/schedule.ts";

const HOUR = 3_600_000;

test("each domain is due one interval after its last run, give or take 10%", () => {
  const t0 = new Date("2026-01-01T00:00:00Z");
  let r = 0;
  const schedule = new CheckSchedule(10 * HOUR, () => r);
  const domains = ["a.test", "b.test", "c.test"];
  assert.deepEqual(schedule.dueAt(domains, t0), domains, "never checked: due now");
  schedule.ran("a.test", t0);
  r = 1;
  schedule.ran("b.test", t0);
  const at = (h: number) => new Date(t0.getTime() + h * HOUR);
  assert.deepEqual(schedule.dueAt(domains, at(8.9)), ["c.test"]);
  assert.deepEqual(schedule.dueAt(domains, at(9)), ["a.test", "c.test"]);
  assert.deepEqual(schedule.dueAt(domains, at(11)), domains);
  schedule.ran("c.test", t0);
  assert.equal(schedule.untilNext(domains, at(1)), 8 * HOUR);
  assert.equal(schedule.untilNext(domains, at(10)), 0);
});

test("start() checks the managed domains by itself and stop() ends it", {
  timeout: 60_000,
}, async () => {
  const lab = await startLab(scenario({ domain: "healthy.test", mx: ["mx1"] }));
  const dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
  const logs: string[] = [];
  try {
    const parsed = parseMonitorConfig({ domains: ["healthy.test"], timeout: "20s" });
    assert.ok(parsed.ok);
    const monitor = await openMonitor(parsed.value, {
      db: join(dir, "mtasts.db"),
      checkDeps: lab.checkDeps(),
      checkOptions: lab.checkOptions,
      random: () => 0,
      log: (line) => logs.push(line),
    });
    monitor.start();
    let runs = await monitor.latestChecks();
    while (runs.length === 0) {
      await sleep(50);
      runs = await monitor.latestChecks();
    }
    await monitor.stop();
    assert.equal(runs[0]?.domain, "healthy.test");
    assert.equal(runs[0]?.mode, "enforce");
    assert.equal(runs[0]?.policyId, "20261123T000000");
    assert.equal(typeof runs[0]?.policyHash, "string");
    assert.deepEqual(
      await monitor.alerts({}).catch((e: Error) => e.message),
      "the monitor is stopped",
    );
    assert.deepEqual(logs, []);
  } finally {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
