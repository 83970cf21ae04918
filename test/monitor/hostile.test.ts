// Bad input reaching the monitor: a database it cannot use, a sender's report
// whose result type carries header injection and a long string, a webhook
// receiver that never answers. Each gives a clear error, a bounded one-line
// subject or a bounded wait; nothing crashes or hangs.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultCheckDeps } from "../../src/check/index.ts";
import { MonitorDbError, openMonitor, parseMonitorConfig } from "../../src/monitor/index.ts";
import { judgeNewResultTypes, NEW_RESULT_TYPES_MAX } from "../../src/monitor/rules.ts";
import { openReportStore } from "../../src/reports/store.ts";
import { startMailSink } from "./receivers.ts";
import { ingest } from "./reports.ts";

const checkDeps = defaultCheckDeps({ servers: [{ host: "127.0.0.1", port: 9 }] });
const config = () => {
  const parsed = parseMonitorConfig({ domains: ["odd.test"] });
  assert.ok(parsed.ok);
  return parsed.value;
};

test("a --db the monitor cannot use is refused with what to check", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
  try {
    const junk = join(dir, "junk.db");
    writeFileSync(junk, "this is not a database, just some text that is long enough".repeat(20));
    await assert.rejects(openMonitor(config(), { db: junk, checkDeps }), (e: Error) => {
      assert.ok(e instanceof MonitorDbError);
      assert.match(e.message, /junk\.db: .*not a database/);
      return true;
    });
    await assert.rejects(
      openMonitor(config(), { db: "redis://127.0.0.1/", checkDeps }),
      /SQLite file path or a postgres:\/\/ URL/,
    );
    await assert.rejects(
      openMonitor(config(), { db: "postgres://nobody:pw@127.0.0.1:1/none", checkDeps }),
      (e: Error) => {
        assert.match(
          e.message,
          /PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/none: .*check that the server runs/,
        );
        assert.ok(!e.message.includes("pw"), "no password in the message");
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a result type built to inject mail headers becomes a bounded one-line subject", {
  timeout: 30_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
  const db = join(dir, "mtasts.db");
  const store = await openReportStore(db);
  const sink = await startMailSink();
  const clock = new Date("2026-08-01T00:00:00Z");
  try {
    const evil = `x\r\nBcc: victim@evil.example\r\n${"A".repeat(900)}`;
    await ingest(store, {
      domain: "odd.test",
      end: new Date(clock.getTime() - 3_600_000),
      successful: 1000,
      failures: [{ type: evil, count: 1 }],
    });
    const parsed = parseMonitorConfig({
      domains: ["odd.test"],
      delivery: {
        mail: {
          smtp: { host: "127.0.0.1", port: sink.port, starttls: false },
          from: "m@lab.test",
          to: ["ops@lab.test"],
        },
      },
    });
    assert.ok(parsed.ok);
    const logs: string[] = [];
    const monitor = await openMonitor(parsed.value, {
      db,
      reports: store,
      checkDeps,
      now: () => clock,
      log: (l) => logs.push(l),
    });
    await monitor.evaluate();
    await monitor.stop();
    assert.equal(sink.messages.length, 1, logs.join("\n"));
    const m = sink.messages[0];
    assert.deepEqual(m?.to, ["ops@lab.test"], "no injected recipient");
    assert.ok(!/[\r\n]/.test(m?.subject ?? ""), m?.subject);
    assert.ok((m?.subject.length ?? 0) <= 200);
    assert.match(m?.subject ?? "", /^\[mtasts\] ALERT: odd\.test: new-result-type: x Bcc: victim/);
  } finally {
    await store.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a webhook receiver that never answers costs one timeout, and the notice stays pending", {
  timeout: 30_000,
}, async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
  const db = join(dir, "mtasts.db");
  const store = await openReportStore(db);
  const clock = new Date("2026-08-01T00:00:00Z");
  try {
    await ingest(store, {
      domain: "odd.test",
      end: new Date(clock.getTime() - 3_600_000),
      successful: 0,
      failures: [{ type: "validation-failure", count: 200 }],
    });
    const parsed = parseMonitorConfig({
      domains: ["odd.test"],
      delivery: { webhooks: [{ url: `http://127.0.0.1:${port}/hook` }], timeout: "1s" },
    });
    assert.ok(parsed.ok);
    const logs: string[] = [];
    const monitor = await openMonitor(parsed.value, {
      db,
      reports: store,
      checkDeps,
      now: () => clock,
      log: (l) => logs.push(l),
    });
    const changes = await monitor.evaluate();
    assert.equal(changes.opened, 2);
    // Both notices are for the same target: after the first times out, the second waits its turn.
    assert.equal(logs.length, 1, logs.join("\n"));
    assert.match(logs[0] ?? "", /"error":"no answer within 1 s"/);
    const [alert] = await monitor.alerts({});
    assert.ok(alert);
    const log = await monitor.notifications(alert.id);
    assert.equal(log[0]?.state, "pending");
    await monitor.stop();
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a report inventing hundreds of result types opens at most ten alerts of its own and one for the rest", () => {
  const start = new Date("2026-11-01T00:00:00Z");
  const seen = Array.from({ length: 300 }, (_, i) => ({
    type: `made-up-${String(i).padStart(3, "0")}`,
    firstEnd: new Date("2026-11-02T00:00:00Z"),
    failed: i,
  }));
  seen.push({
    type: "starttls-not-supported",
    firstEnd: new Date("2026-10-01T00:00:00Z"),
    failed: 9,
  });
  const { firing } = judgeNewResultTypes("flood.test", start, seen);
  assert.equal(firing.length, NEW_RESULT_TYPES_MAX + 1);
  // The ten that failed most, then one alert naming how many more.
  assert.deepEqual(
    firing.slice(0, 3).map((c) => c.subject),
    ["made-up-299", "made-up-298", "made-up-297"],
  );
  const other = firing.at(-1);
  assert.match(other?.message ?? "", /290 more failure result types/);
  assert.ok(!firing.some((c) => c.subject === "starttls-not-supported"), "seen before the window");
});
