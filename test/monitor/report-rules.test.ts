// The report-based rules (failure-rate, new-result-type) over a real report
// store and the monitor's own tables in the same database, on SQLite and
// PostgreSQL: each condition opens one alert and one webhook notice however
// often it is evaluated, and resolves (with a notice) when the window passes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultCheckDeps } from "../../src/check/index.ts";
import { type Monitor, openMonitor, parseMonitorConfig } from "../../src/monitor/index.ts";
import { openReportStore, type ReportStore } from "../../src/reports/store.ts";
import { backends } from "../reports/backends.ts";
import { startWebhookSink, type WebhookSink } from "./receivers.ts";
import { ingest } from "./reports.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

for (const backend of backends) {
  describe(`report rules on ${backend.name}`, {
    skip: await backend.skip(),
    timeout: 60_000,
  }, () => {
    let clock = new Date("2026-06-10T12:00:00Z");
    let location: { db: string; cleanup(): Promise<void> };
    let store: ReportStore;
    let monitor: Monitor;
    let hook: WebhookSink;
    const logs: string[] = [];

    before(async () => {
      location = await backend.fresh();
      store = await openReportStore(location.db);
      hook = await startWebhookSink();
      const parsed = parseMonitorConfig({
        domains: ["rep.test", "quiet.test"],
        rules: { failure_rate: { threshold: 0.05, window: "1d", min_sessions: 100 } },
        delivery: { webhooks: [{ url: hook.url, headers: { authorization: "Bearer t0ken" } }] },
      });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      monitor = await openMonitor(parsed.value, {
        db: location.db,
        reports: store,
        checkDeps: defaultCheckDeps({ servers: [{ host: "127.0.0.1", port: 9 }] }),
        now: () => clock,
        log: (line) => logs.push(line),
      });
    });

    after(async () => {
      await monitor?.stop();
      await store?.close();
      await hook?.close();
      await location?.cleanup();
    });

    test("old failures of a known type and no recent sessions open nothing", async () => {
      await ingest(store, {
        domain: "rep.test",
        end: new Date(clock.getTime() - 10 * DAY),
        successful: 1000,
        failures: [{ type: "certificate-expired", count: 3 }],
      });
      // Reports for a domain we do not monitor never alert.
      await ingest(store, {
        domain: "other.test",
        end: new Date(clock.getTime() - HOUR),
        successful: 0,
        failures: [{ type: "validation-failure", count: 500 }],
      });
      const changes = await monitor.evaluate();
      assert.deepEqual(changes, { opened: 0, resolved: 0, notices: 0 });
      assert.deepEqual(await monitor.alerts({}), []);
    });

    test("a failure rate over the threshold and a new result type each fire once", async () => {
      await ingest(store, {
        domain: "rep.test",
        end: new Date(clock.getTime() - HOUR),
        successful: 900,
        failures: [
          { type: "certificate-expired", count: 40 },
          { type: "starttls-not-supported", count: 60 },
        ],
      });
      for (let i = 0; i < 3; i++) {
        clock = new Date(clock.getTime() + 60_000);
        await monitor.evaluate();
      }
      const open = await monitor.alerts({ state: "open" });
      assert.deepEqual(open.map((a) => [a.rule, a.domain, a.subject]).sort(), [
        ["failure-rate", "rep.test", "tls sessions"],
        ["new-result-type", "rep.test", "starttls-not-supported"],
      ]);
      const rate = open.find((a) => a.rule === "failure-rate");
      assert.match(rate?.message ?? "", /10\.0% of 1000 TLS sessions to rep\.test failed/);
      assert.ok(rate && rate.lastSeen > rate.firstSeen, "later evaluations update lastSeen");
      assert.equal(hook.bodies.length, 2, "one webhook notice per alert, not per evaluation");
      // Counted by the database, as the dashboard's domain list shows them.
      assert.deepEqual([...(await monitor.openAlertCounts())], [["rep.test", 2]]);
      for (const b of hook.bodies) {
        assert.equal(b.json.event, "alert.opened");
        assert.equal(b.headers.authorization, "Bearer t0ken");
      }
    });

    test("when the window has passed both alerts resolve and say so", async () => {
      clock = new Date(clock.getTime() + 2 * DAY);
      const changes = await monitor.evaluate();
      assert.equal(changes.resolved, 2);
      assert.deepEqual(await monitor.alerts({ state: "open" }), []);
      assert.equal((await monitor.openAlertCounts()).size, 0, "resolved alerts are not counted");
      assert.equal((await monitor.alerts({ state: "resolved", domain: "rep.test" })).length, 2);
      assert.deepEqual(
        hook.bodies.map((b) => b.json.event),
        ["alert.opened", "alert.opened", "alert.resolved", "alert.resolved"],
      );
      assert.deepEqual(logs, []);
    });
  });
}
