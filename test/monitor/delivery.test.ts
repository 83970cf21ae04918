// Delivery and the alert life cycle, with a failure-rate condition made from
// real reports in a SQLite store: a webhook that is down gets the notice once
// after it comes back (mail is not held up or repeated meanwhile); snooze
// silences until it ends; a user's resolve is sent, and a condition that
// still holds opens a new alert; re-notify repeats an open alert on schedule.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestCa } from "../../lab/ca.ts";
import { defaultCheckDeps } from "../../src/check/index.ts";
import {
  type Monitor,
  type MonitorConfig,
  openMonitor,
  parseMonitorConfig,
} from "../../src/monitor/index.ts";
import { openReportStore, type ReportStore } from "../../src/reports/store.ts";
import { type MailSink, startMailSink, startWebhookSink, type WebhookSink } from "./receivers.ts";
import { ingest } from "./reports.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("alert delivery and life cycle", { timeout: 60_000 }, () => {
  let dir: string;
  let db: string;
  let store: ReportStore;
  let hook: WebhookSink;
  let mail: MailSink;
  let monitor: Monitor;
  let clock = new Date("2026-07-01T08:00:00Z");
  const logs: string[] = [];
  const events = () =>
    hook.bodies.map(
      (b) =>
        `${b.json.event}${b.json.repeat ? " (repeat)" : ""} ${(b.json.alert as { id: string }).id}`,
    );

  const configWith = (extra: Record<string, unknown> = {}): MonitorConfig => {
    const parsed = parseMonitorConfig({
      domains: ["fail.test"],
      rules: { new_result_type: false },
      delivery: {
        webhooks: [{ url: hook.url }],
        mail: {
          smtp: { host: "127.0.0.1", port: mail.port, starttls: false },
          from: "monitor@lab.test",
          to: ["ops@lab.test", "oncall@lab.test"],
        },
        timeout: "5s",
      },
      ...extra,
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    return parsed.value;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
    db = join(dir, "mtasts.db");
    store = await openReportStore(db);
    hook = await startWebhookSink();
    mail = await startMailSink();
    await ingest(store, {
      domain: "fail.test",
      end: new Date(clock.getTime() - HOUR),
      successful: 100,
      failures: [{ type: "validation-failure", count: 400 }],
    });
    monitor = await openMonitor(configWith(), {
      db,
      reports: store,
      checkDeps: defaultCheckDeps({ servers: [{ host: "127.0.0.1", port: 9 }] }),
      now: () => clock,
      log: (line) => logs.push(line),
    });
  });

  after(async () => {
    await monitor?.stop();
    await store?.close();
    await Promise.allSettled([hook?.close(), mail?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a webhook that is down gets the alert once after it is back; mail goes at once", async () => {
    await hook.down();
    await monitor.evaluate();
    assert.equal(mail.messages.length, 1, "mail is not held up by the webhook");
    const [alert] = await monitor.alerts({});
    assert.ok(alert);
    assert.match(
      mail.messages[0]?.subject ?? "",
      /^\[mtasts\] ALERT: fail\.test: failure-rate: tls sessions$/,
    );
    assert.deepEqual(mail.messages[0]?.to, ["ops@lab.test", "oncall@lab.test"]);
    assert.match(mail.messages[0]?.text ?? "", /80\.0% of 500 TLS sessions to fail\.test failed/);
    let log = await monitor.notifications(alert.id);
    assert.deepEqual(
      log.map((n) => [n.target, n.state, n.attempts]),
      [
        [`webhook:${new URL(hook.url).origin}`, "pending", 1],
        ["mail", "sent", 1],
      ],
    );
    assert.ok(
      !JSON.stringify(log).includes("token=secret"),
      "the webhook's secret query is not shown",
    );
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? "", /"msg":"alert notification failed; will retry"/);
    assert.ok(!logs[0]?.includes("token=secret"), "the log does not leak the webhook URL's secret");

    await hook.up();
    assert.deepEqual(
      await monitor.deliver(),
      { sent: 0, failed: 0 },
      "not due before the back-off",
    );
    clock = new Date(clock.getTime() + MINUTE);
    assert.deepEqual(await monitor.deliver(), { sent: 1, failed: 0 });
    assert.deepEqual(await monitor.deliver(), { sent: 0, failed: 0 });
    await monitor.evaluate();
    assert.deepEqual(events(), [`alert.opened ${alert.id}`]);
    assert.equal(mail.messages.length, 1);
    log = await monitor.notifications(alert.id);
    assert.deepEqual(
      log.map((n) => [n.state, n.attempts]),
      [
        ["sent", 2],
        ["sent", 1],
      ],
    );
  });

  test("a snoozed alert is not re-sent until the snooze ends", async () => {
    const [alert] = await monitor.alerts({ state: "open" });
    assert.ok(alert);
    assert.equal(await monitor.snooze(alert.id, new Date(clock.getTime() + HOUR)), true);
    clock = new Date(clock.getTime() + 10 * MINUTE);
    await monitor.evaluate();
    const [snoozed] = await monitor.alerts({ state: "snoozed" });
    assert.equal(snoozed?.id, alert.id);
    assert.equal(events().length, 1);
    clock = new Date(clock.getTime() + HOUR);
    await monitor.evaluate();
    const [reopened] = await monitor.alerts({ state: "open" });
    assert.equal(reopened?.id, alert.id, "the same alert, open again");
    assert.equal(reopened?.snoozedUntil, null);
    assert.deepEqual(events(), [`alert.opened ${alert.id}`, `alert.opened (repeat) ${alert.id}`]);
    assert.equal(mail.messages.length, 2);
    assert.match(mail.messages[1]?.subject ?? "", /STILL OPEN/);
  });

  test("a user's resolve is sent; a condition that still holds opens a new alert", async () => {
    const [alert] = await monitor.alerts({ state: "open" });
    assert.ok(alert);
    assert.equal(await monitor.resolve(alert.id), true);
    assert.equal(await monitor.resolve(alert.id), false, "already resolved");
    assert.equal(await monitor.snooze(alert.id, new Date(clock.getTime() + HOUR)), false);
    assert.equal(await monitor.resolve("999999"), false);
    assert.equal(await monitor.resolve("'; DROP TABLE monitor_alerts; --"), false);
    assert.match(mail.messages[2]?.subject ?? "", /^\[mtasts\] RESOLVED: fail\.test/);
    clock = new Date(clock.getTime() + MINUTE);
    await monitor.evaluate();
    const [next] = await monitor.alerts({ state: "open" });
    assert.ok(next && next.id !== alert.id, "a new alert, not the resolved one reopened");
    assert.deepEqual(events().slice(2), [`alert.resolved ${alert.id}`, `alert.opened ${next.id}`]);
    await monitor.evaluate();
    assert.equal(events().length, 4);
  });

  test("re-notify repeats a still-open alert on its schedule, not more often", async () => {
    await monitor.stop();
    monitor = await openMonitor(configWith({ renotify: "1d" }), {
      db,
      reports: store,
      checkDeps: defaultCheckDeps({ servers: [{ host: "127.0.0.1", port: 9 }] }),
      now: () => clock,
      log: (line) => logs.push(line),
    });
    const before = events().length;
    clock = new Date(clock.getTime() + 2 * HOUR);
    await monitor.evaluate();
    assert.equal(events().length, before, "not yet a day");
    // Reports are kept for a day's window: one more recent report keeps the rate high.
    await ingest(store, {
      domain: "fail.test",
      end: new Date(clock.getTime() + 20 * HOUR),
      successful: 10,
      failures: [{ type: "validation-failure", count: 400 }],
    });
    clock = new Date(clock.getTime() + 23 * HOUR);
    await monitor.evaluate();
    await monitor.evaluate();
    assert.equal(events().length, before + 1);
    assert.match(events().at(-1) ?? "", /^alert\.opened \(repeat\)/);
  });
});

describe("alert mail over STARTTLS with a login", { timeout: 60_000 }, () => {
  test("reaches a lab SMTP server whose certificate comes from the lab CA, and only with it trusted", async () => {
    const ca = await createTestCa();
    const cert = await ca.issue({ names: ["relay.lab.test"] });
    const sink = await startMailSink(
      { key: cert.keyPem, cert: cert.chainPem },
      { user: "monitor", pass: "s3cret" },
    );
    const dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
    const db = join(dir, "mtasts.db");
    const store = await openReportStore(db);
    const clock = new Date("2026-07-01T08:00:00Z");
    await ingest(store, {
      domain: "tls.test",
      end: new Date(clock.getTime() - HOUR),
      successful: 0,
      failures: [{ type: "certificate-expired", count: 200 }],
    });
    const parsed = parseMonitorConfig({
      domains: ["tls.test"],
      delivery: {
        mail: {
          smtp: {
            host: "127.0.0.1",
            port: sink.port,
            starttls: true,
            servername: "relay.lab.test",
            auth: { user: "monitor", pass: "s3cret" },
          },
          from: "monitor@lab.test",
          to: ["ops@lab.test"],
        },
        timeout: "5s",
      },
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const logs: string[] = [];
    const open = (ca?: string[]) =>
      openMonitor(parsed.value, {
        db,
        reports: store,
        checkDeps: defaultCheckDeps({ servers: [{ host: "127.0.0.1", port: 9 }] }),
        now: () => clock,
        log: (line) => logs.push(line),
        ...(ca ? { smtpTls: { ca } } : {}),
      });
    try {
      // Without the lab root the certificate is untrusted: nothing is sent, the notice waits.
      const untrusting = await open();
      await untrusting.evaluate();
      await untrusting.stop();
      assert.equal(sink.messages.length, 0);
      assert.match(logs.join("\n"), /will retry/);
      const trusting = await open([ca.rootPem]);
      clock.setTime(clock.getTime() + HOUR);
      await trusting.deliver();
      await trusting.evaluate();
      await trusting.stop();
      assert.equal(sink.messages.length, 2, "new-result-type and failure-rate, once each");
      assert.ok(sink.messages.every((m) => m.subject.startsWith("[mtasts] ALERT: tls.test: ")));
      assert.ok(!logs.join("\n").includes("s3cret"), "the password is never logged");
    } finally {
      await store.close();
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a pending notice survives a restart", { timeout: 60_000 }, () => {
  test("queued while the webhook was down, sent by the restarted monitor's background work", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mtasts-monitor-"));
    const db = join(dir, "mtasts.db");
    const store = await openReportStore(db);
    const hook = await startWebhookSink();
    const clock = new Date("2026-07-01T08:00:00Z");
    const logs: string[] = [];
    try {
      await ingest(store, {
        domain: "restart.test",
        end: new Date(clock.getTime() - HOUR),
        successful: 0,
        failures: [{ type: "validation-failure", count: 150 }],
      });
      const parsed = parseMonitorConfig({
        domains: ["restart.test"],
        // Only the report rule: the restarted monitor also checks the domain, which has no DNS here.
        rules: {
          new_result_type: false,
          policy_host: false,
          cert_expiry_days: false,
          id_out_of_step: false,
        },
        delivery: { webhooks: [{ url: hook.url }] },
      });
      assert.ok(parsed.ok);
      const open = () =>
        openMonitor(parsed.value, {
          db,
          reports: store,
          checkDeps: defaultCheckDeps({ servers: [{ host: "127.0.0.1", port: 9 }] }),
          now: () => clock,
          random: () => 0,
          log: (line) => logs.push(line),
        });
      await hook.down();
      const first = await open();
      await first.evaluate();
      await first.stop();
      assert.equal(hook.bodies.length, 0);
      await hook.up();
      clock.setTime(clock.getTime() + MINUTE);
      const second = await open();
      second.start();
      while (hook.bodies.length === 0) await sleep(50);
      await second.stop();
      assert.equal(hook.bodies.length, 1);
      assert.equal(hook.bodies[0]?.json.event, "alert.opened");
      assert.equal(logs.length, 1, "one failed attempt logged, before the restart");
    } finally {
      await store.close();
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
