// The check-based rules against the lab (real DNS, HTTPS and SMTP with named
// faults), with history in the monitor's tables on SQLite and PostgreSQL and
// delivery to a real SMTP server and webhook receiver: an expiring MX
// certificate, a policy host answering 404, and a policy changed under an
// unchanged id each alert exactly once over several check rounds, and clear
// when fixed.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import type { DomainSpec } from "../../lab/scenario.ts";
import { type Monitor, openMonitor, parseMonitorConfig } from "../../src/monitor/index.ts";
import { backends } from "../reports/backends.ts";
import { type MailSink, startMailSink, startWebhookSink, type WebhookSink } from "./receivers.ts";

const world = (o: { stepMode?: "enforce" | "testing"; stepId?: string; down404?: boolean }) =>
  scenario(
    { domain: "expiring.test", mx: ["mx1"], faults: ["mx1:cert-expiring"] },
    { domain: "down.test", mx: ["mx1"], faults: o.down404 === false ? [] : ["policy:404"] },
    {
      domain: "step.test",
      mx: ["mx1"],
      mode: o.stepMode ?? "enforce",
      stsId: o.stepId ?? "20260101T000000",
    } satisfies DomainSpec,
  );

for (const backend of backends) {
  describe(`check rules on ${backend.name}`, {
    skip: await backend.skip(),
    timeout: 120_000,
  }, () => {
    let lab: Lab;
    let location: { db: string; cleanup(): Promise<void> };
    let monitor: Monitor;
    let hook: WebhookSink;
    let mail: MailSink;
    let clock = new Date();
    const logs: string[] = [];
    const round = async () => {
      clock = new Date(clock.getTime() + 6 * 3_600_000);
      await monitor.checkNow();
    };
    const openKeys = async () =>
      (await monitor.alerts({ state: "open" }))
        .map((a) => `${a.rule} ${a.domain} ${a.subject}`)
        .sort();

    before(async () => {
      lab = await startLab(world({}));
      location = await backend.fresh();
      hook = await startWebhookSink();
      mail = await startMailSink();
      const parsed = parseMonitorConfig({
        domains: ["expiring.test", "down.test", "step.test"],
        interval: "6h",
        timeout: "20s",
        rules: { cert_expiry_days: 21 },
        delivery: {
          webhooks: [{ url: hook.url }],
          mail: {
            smtp: { host: "127.0.0.1", port: mail.port, starttls: false },
            from: "monitor@lab.test",
            to: ["postmaster@lab.test"],
          },
        },
      });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      monitor = await openMonitor(parsed.value, {
        db: location.db,
        checkDeps: lab.checkDeps(),
        checkOptions: lab.checkOptions,
        now: () => clock,
        log: (line) => logs.push(line),
      });
    });

    after(async () => {
      await monitor?.stop();
      await Promise.allSettled([lab?.close(), hook?.close(), mail?.close()]);
      await location?.cleanup();
    });

    test("an expiring MX certificate and a policy host answering 404 alert once over three rounds", async () => {
      for (let i = 0; i < 3; i++) await round();
      assert.deepEqual(await openKeys(), [
        "cert-expiry expiring.test mx1.expiring.test",
        "policy-host down.test mta-sts.down.test",
      ]);
      const [expiry] = await monitor.alerts({ domain: "expiring.test" });
      assert.match(
        expiry?.message ?? "",
        /certificate of MX mx1\.expiring\.test expires in (9|10) days/,
      );
      assert.equal(hook.bodies.length, 2);
      assert.equal(mail.messages.length, 2);
      const m = mail.messages.find((x) => x.subject.includes("cert-expiry"));
      assert.ok(m, mail.messages.map((x) => x.subject).join(" | "));
      assert.equal(m.subject, "[mtasts] ALERT: expiring.test: cert-expiry: mx1.expiring.test");
      assert.deepEqual(m.to, ["postmaster@lab.test"]);
      assert.match(m.text, /What to do:\nRenew the MX host's certificate/);
      const latest = await monitor.latestChecks();
      assert.deepEqual(
        latest.map((r) => r.domain),
        ["expiring.test", "down.test", "step.test"],
      );
      assert.equal(latest[0]?.certificates[0]?.mx, "mx1.expiring.test");
      assert.ok((latest[1]?.findings ?? []).some((f) => f.code === "fetch.status"));
      assert.equal((await monitor.checkHistory("step.test", 10)).length, 3);
    });

    test("STS-OPS-01 a policy changed under the same id alerts; the fixed policy host resolves", async () => {
      await lab.update(world({ stepMode: "testing", down404: false }));
      await round();
      await round();
      assert.deepEqual(await openKeys(), [
        "cert-expiry expiring.test mx1.expiring.test",
        "id-out-of-step step.test _mta-sts.step.test",
      ]);
      const resolved = await monitor.alerts({ state: "resolved" });
      assert.deepEqual(
        resolved.map((a) => a.rule),
        ["policy-host"],
      );
      assert.deepEqual(
        hook.bodies.map((b) => `${b.json.event} ${(b.json.alert as { rule: string }).rule}`),
        [
          ...hook.bodies
            .slice(0, 2)
            .map((b) => `alert.opened ${(b.json.alert as { rule: string }).rule}`),
          "alert.resolved policy-host",
          "alert.opened id-out-of-step",
        ],
      );
    });

    test("publishing a new id clears id-out-of-step; policy history shows each change", async () => {
      await lab.update(world({ stepMode: "testing", stepId: "20260102T000000", down404: false }));
      await round();
      assert.deepEqual(await openKeys(), ["cert-expiry expiring.test mx1.expiring.test"]);
      const history = await monitor.policyHistory("step.test");
      assert.deepEqual(
        history.map((h) => [h.mode, h.policyId]),
        [
          ["testing", "20260102T000000"],
          ["testing", "20260101T000000"],
          ["enforce", "20260101T000000"],
        ],
      );
      assert.equal(
        mail.messages.length,
        hook.bodies.length,
        "each event went to both targets once",
      );
      assert.deepEqual(logs, []);
    });
  });
}
