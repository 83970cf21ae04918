// The JSON API over real HTTP and a real SQLite store holding the samples and
// generated reports: its numbers against the store's own summary, auth
// (sessions, API tokens, forged cookies), CSRF, the read-only role, and bad
// input answered with clear 4xx and no stack traces. Checks, policy history,
// certificates and alerts come from the real monitor checking the lab, and
// the answers are compared with what the monitor holds.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import type { Alert, Monitor } from "../../src/monitor/index.ts";
import { NEW_RESULT_TYPES_MAX } from "../../src/monitor/rules.ts";
import { ADMIN, HOSTILE_DOMAIN, json, login, NOW, READER, type Served, serve } from "./fixture.ts";
import { ingestDaily, labMonitor } from "./lab-monitor.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MONITORED = ["d1.example", "d2.example", "monitored-only.example"];
// d1 and d2 have reports (generated); monitored-only.example has none.
const world = (d1: { mode: "enforce" | "testing"; id: string }) =>
  scenario(
    { domain: "d1.example", mode: d1.mode, stsId: d1.id, faults: ["mx1:cert-expiring"] },
    { domain: "d2.example", faults: ["mx1:cert-expired"] },
    { domain: "monitored-only.example", faults: ["policy:404"] },
  );
let s: Served;
let lab: Lab;
let monitor: Monitor;
let clock = new Date(NOW.getTime() - 3 * HOUR);
const logs: string[] = [];
/** d1's expiring-certificate alert and d2's expired-certificate alert, as the monitor opened them. */
let a1: Alert;
let a2: Alert;

const alertOf = async (domain: string, rule: string): Promise<Alert> => {
  const found = (await monitor.alerts({ domain })).find((a) => a.rule === rule);
  assert.ok(found, `no ${rule} alert for ${domain}; monitor log: ${logs.join("\n")}`);
  return found;
};
const runsOf = async (domain: string) => (await monitor.checkHistory(domain, 1000)).length;
/** What JSON makes of a monitor value (dates become ISO strings), to compare with an answer. */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

before(async () => {
  lab = await startLab(world({ mode: "enforce", id: "20250101" }));
  s = await serve({ monitor: labMonitor(lab, MONITORED, () => clock, logs) });
  monitor = s.monitor as Monitor;
  await monitor.checkNow();
  // A day of reports for d1 with a result type it never had, 10% failed: the report rules fire.
  await ingestDaily(s.store, {
    domain: "d1.example",
    end: new Date(clock.getTime() - HOUR),
    successful: 900,
    failures: [{ type: "tlsa-invalid", count: 100 }],
  });
  await monitor.evaluate();
  a1 = await alertOf("d1.example", "cert-expiry");
  a2 = await alertOf("d2.example", "cert-expiry");
});
after(async () => {
  await s?.close();
  await lab?.close();
});

const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${s.url}${path}`, {
    ...init,
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...(init.headers as Record<string, string>),
    },
  });

describe("numbers", { timeout: 60_000 }, () => {
  test("domain overview equals the store's own summary (days, result types, MX, reporters)", async () => {
    const domain = "d7.example";
    const res = await api(`/api/domains/${domain}/overview?days=30`, { token: s.tokens.reader });
    assert.equal(res.status, 200);
    const o = await json(res);
    const filter = { domain, since: new Date(NOW.getTime() - 30 * DAY), until: NOW };
    const byDay = await s.store.summary(filter, "day");
    assert.ok(byDay.reports > 5, "the fixture put reports in the period");
    assert.deepEqual(o.total, { ...byDay.total, reports: byDay.reports });
    assert.deepEqual(
      o.days.map((d: { day: string; successful: number; failed: number; reports: number }) => [
        d.day,
        d.successful,
        d.failed,
        d.reports,
      ]),
      byDay.rows.map((r) => [r.key, r.successful, r.failed, r.reports]),
    );
    const byType = await s.store.summary(filter, "result-type");
    const typeSums = new Map<string, number>();
    for (const d of o.days)
      for (const [t, n] of Object.entries(d.byType as Record<string, number>))
        typeSums.set(t, (typeSums.get(t) ?? 0) + n);
    assert.deepEqual(
      Object.fromEntries(typeSums),
      Object.fromEntries(byType.rows.map((r) => [r.key, r.failed])),
    );
    const byMx = await s.store.summary(filter, "mx");
    assert.deepEqual(
      o.byMx,
      byMx.rows.map((r) => ({ key: r.key, reports: r.reports, failed: r.failed })),
    );
    const byReporter = await s.store.summary(filter, "reporter");
    assert.deepEqual(o.byReporter, byReporter.rows);
  });

  test("domain list: every reported and monitored domain, 7/30-day sums, open alerts", async () => {
    const o = await json(api("/api/domains", { token: s.tokens.reader }));
    const names = o.domains.map((d: { domain: string }) => d.domain);
    assert.ok(
      names.includes("monitored-only.example") &&
        names.includes("d1.example") &&
        names.includes(HOSTILE_DOMAIN),
    );
    const d1 = o.domains.find((d: { domain: string }) => d.domain === "d1.example");
    const sum = await s.store.summary(
      { domain: "d1.example", since: new Date(NOW.getTime() - 30 * DAY), until: NOW },
      "day",
    );
    assert.deepEqual({ successful: d1.last30.successful, failed: d1.last30.failed }, sum.total);
    // The lab's expiring certificate and the day of reports each opened what the rules say.
    const open = await monitor.alerts({ state: "open", domain: "d1.example" });
    assert.deepEqual(open.map((a) => a.rule).sort(), [
      "cert-expiry",
      "failure-rate",
      "new-result-type",
    ]);
    assert.equal(d1.openAlerts, open.length);
    const [latest] = await monitor.latestChecks();
    assert.equal(latest?.domain, "d1.example");
    assert.deepEqual(d1.policy, { mode: latest?.mode, id: latest?.policyId });
    assert.deepEqual(d1.policy, { mode: "enforce", id: "20250101" }, "what the lab publishes");
    assert.deepEqual(d1.lastCheck, { at: latest?.at.toISOString(), status: latest?.status });
    assert.equal(d1.spark.length, 30);
    const only = o.domains.find((d: { domain: string }) => d.domain === "monitored-only.example");
    assert.equal(only.monitored, true);
    assert.equal(
      only.openAlerts,
      (await monitor.alerts({ state: "open", domain: "monitored-only.example" })).length,
    );
    assert.equal((await alertOf("monitored-only.example", "policy-host")).state, "open");
  });

  test("domain page and API carry the monitor's policy history and MX certificates", async () => {
    const o = await json(api("/api/domains/d1.example/overview", { token: s.tokens.reader }));
    const [run] = await monitor.checkHistory("d1.example", 1);
    assert.ok(run);
    const [cert] = run.certificates;
    assert.equal(cert?.mx, "mx1.d1.example");
    assert.ok(cert.daysLeft !== null && cert.daysLeft <= 10, "the lab's certificate expires soon");
    assert.deepEqual(o.certificates, asJson(run.certificates));
    assert.deepEqual(o.lastCheck, asJson(run));
    assert.deepEqual(o.policyHistory, asJson(await monitor.policyHistory("d1.example")));
    assert.equal(o.policyHistory[0].policyId, "20250101");
    const page = await (await api("/domains/d1.example", { token: s.tokens.reader })).text();
    assert.match(
      page,
      new RegExp(
        `<table class="data" id="certificates">.*mx1\\.d1\\.example.*class="num warn">${cert.daysLeft}<`,
        "s",
      ),
    );
    assert.match(page, /<table class="data" id="policy-history">.*enforce.*20250101/s);
    assert.doesNotMatch(page, /Check now/, "no action for the read-only role");
  });

  test("reports list and one report, raw bytes as received", async () => {
    const list = await json(
      api(`/api/reports?domain=${HOSTILE_DOMAIN}`, { token: s.tokens.reader }),
    );
    assert.equal(list.reports.length, 1);
    const one = await json(api(`/api/reports/${s.hostileId}`, { token: s.tokens.reader }));
    assert.equal(one.report.policies[0].policy["policy-domain"], HOSTILE_DOMAIN);
    const raw = await api(`/api/reports/${s.hostileId}/raw`, { token: s.tokens.reader });
    assert.equal(raw.status, 200);
    assert.deepEqual(
      new Uint8Array(await raw.arrayBuffer()),
      await s.store.getReportRaw(s.hostileId),
    );
  });
});

describe("auth", { timeout: 60_000 }, () => {
  test("no credentials: API 401 with a JSON reason, pages redirect to the login", async () => {
    const res = await api("/api/domains");
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error, "unauthorized");
    const page = await api("/domains/d1.example?days=7", { redirect: "manual" });
    assert.equal(page.status, 303);
    assert.equal(
      page.headers.get("location"),
      `/login?next=${encodeURIComponent("/domains/d1.example?days=7")}`,
    );
  });

  test("forged, expired-looking and malformed cookies and tokens are refused", async () => {
    for (const cookie of [
      "mtasts_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "mtasts_session=../../etc",
      "mtasts_session",
      "x=1; mtasts_session=%00",
    ]) {
      assert.equal((await api("/api/domains", { headers: { cookie } })).status, 401, cookie);
    }
    for (const authorization of [
      "Bearer mtasts_nope",
      "Basic YWxpY2U6eA==",
      "Bearer",
      `Bearer ${"x".repeat(600)}`,
    ]) {
      assert.equal(
        (await api("/api/domains", { headers: { authorization } })).status,
        401,
        authorization,
      );
    }
  });

  test("health answers without auth; metrics need a login or token", async () => {
    assert.equal((await api("/healthz")).status, 200);
    assert.equal((await api("/metrics")).status, 401);
    const m = await api("/metrics", { token: s.tokens.reader });
    assert.equal(m.status, 200);
    assert.match(await m.text(), /mtasts_serve_requests_total\{kind="api",code="2xx"\} \d+/);
  });

  test("a wrong password is refused and the log holds neither the password nor the user name typed", async () => {
    const form = await fetch(`${s.url}/login`);
    const cookie = (form.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
    const res = await fetch(`${s.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ csrf, user: ADMIN.user, password: "hunter2-wrong" }).toString(),
    });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /Wrong user name or password/);
    const log = s.logged.join("\n");
    assert.match(log, /login-failed/);
    for (const secret of [
      "hunter2-wrong",
      ADMIN.password,
      csrf,
      cookie.split("=")[1] as string,
      s.tokens.admin,
      s.tokens.reader,
    ]) {
      assert.ok(!log.includes(secret), "a secret reached the log");
    }
  });
});

describe("CSRF and roles", { timeout: 60_000 }, () => {
  test("a session POST without the CSRF token, or with a wrong one, is refused 403", async () => {
    const { cookie } = await login(s.url, ADMIN.user, ADMIN.password);
    const runs = await runsOf("d1.example");
    for (const headers of [{ cookie }, { cookie, "x-csrf-token": "forged" }]) {
      const res = await api(`/api/alerts/${a1.id}/resolve`, { method: "POST", headers });
      assert.equal(res.status, 403);
      assert.equal((await json(res)).error, "csrf");
    }
    for (const path of [`/alerts/${a1.id}/resolve`, "/domains/d1.example/check"]) {
      const form = await api(path, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: "csrf=nope",
      });
      assert.equal(form.status, 403, path);
    }
    assert.equal((await alertOf("d1.example", "cert-expiry")).state, "open");
    assert.equal(await runsOf("d1.example"), runs, "no check ran");
  });

  test("read-only users and tokens cannot act; admins can (snooze, resolve, check now)", async () => {
    const runs = await runsOf("d1.example");
    const ro = await login(s.url, READER.user, READER.password);
    const denied = await api(`/api/alerts/${a1.id}/snooze`, {
      method: "POST",
      headers: { cookie: ro.cookie, "x-csrf-token": ro.csrf, "content-type": "application/json" },
      body: JSON.stringify({ hours: "8" }),
    });
    assert.equal(denied.status, 403);
    assert.equal((await json(denied)).error, "read-only");
    assert.equal(
      (await api("/api/domains/d1.example/check", { method: "POST", token: s.tokens.reader }))
        .status,
      403,
    );
    assert.equal((await alertOf("d1.example", "cert-expiry")).state, "open");
    assert.equal(await runsOf("d1.example"), runs, "no check ran");

    const admin = await login(s.url, ADMIN.user, ADMIN.password);
    const ok = await api(`/api/alerts/${a1.id}/snooze`, {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        "x-csrf-token": admin.csrf,
        "content-type": "application/json",
      },
      body: JSON.stringify({ hours: "8" }),
    });
    assert.equal(ok.status, 200);
    const until = new Date(NOW.getTime() + 8 * 3_600_000);
    assert.equal((await json(ok)).snoozedUntil, until.toISOString());
    const snoozed = await alertOf("d1.example", "cert-expiry");
    assert.deepEqual([snoozed.id, snoozed.state, snoozed.snoozedUntil], [a1.id, "snoozed", until]);
    assert.equal(
      (await api(`/api/alerts/${a2.id}/resolve`, { method: "POST", token: s.tokens.admin })).status,
      200,
    );
    const resolved = await monitor.alerts({ state: "resolved", domain: "d2.example" });
    assert.deepEqual(
      resolved.map((a) => a.id),
      [a2.id],
    );
    assert.equal(
      (await api("/api/alerts/nope/resolve", { method: "POST", token: s.tokens.admin })).status,
      404,
    );
    assert.equal(
      (await api("/api/alerts/999999/resolve", { method: "POST", token: s.tokens.admin })).status,
      404,
    );
    clock = new Date(NOW.getTime() - 2 * HOUR);
    assert.equal(
      (await api("/api/domains/d1.example/check", { method: "POST", token: s.tokens.admin }))
        .status,
      202,
    );
    assert.equal(await runsOf("d1.example"), runs + 1, "one check of d1.example ran");
    assert.deepEqual(
      (await monitor.latestChecks()).find((r) => r.domain === "d1.example")?.at,
      clock,
    );
    assert.equal(
      (await api("/api/domains/d9.example/check", { method: "POST", token: s.tokens.admin }))
        .status,
      404,
      "a reported domain that is not monitored",
    );
  });

  test("a policy change seen by a check now from the page is listed in the domain's policy history", async () => {
    await lab.update(world({ mode: "testing", id: "20250201" }));
    clock = new Date(NOW.getTime() - HOUR);
    const admin = await login(s.url, ADMIN.user, ADMIN.password);
    const checked = await api("/domains/d1.example/check", {
      method: "POST",
      redirect: "manual",
      headers: { cookie: admin.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: admin.csrf }).toString(),
    });
    assert.equal(checked.status, 303);
    assert.equal(checked.headers.get("location"), "/domains/d1.example");
    const history = await monitor.policyHistory("d1.example");
    assert.deepEqual(
      history.map((h) => [h.mode, h.policyId]),
      [
        ["testing", "20250201"],
        ["enforce", "20250101"],
      ],
    );
    const o = await json(api("/api/domains/d1.example/overview", { token: s.tokens.reader }));
    assert.deepEqual(o.policyHistory, asJson(history));
    const page = await (
      await api("/domains/d1.example", { headers: { cookie: admin.cookie } })
    ).text();
    const table = /<table class="data" id="policy-history">(.*?)<\/table>/s.exec(page)?.[1] ?? "";
    const rows = [
      ...table.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g),
    ];
    assert.deepEqual(
      rows.map((r) => [r[1], r[2], r[3]]),
      history.map((h) => [
        `${h.at.toISOString().slice(0, 16).replace("T", " ")} UTC`,
        h.mode,
        h.policyId,
      ]),
    );
    assert.match(page, /Check now/, "the admin is offered the action");
    const list = await json(api("/api/domains", { token: s.tokens.reader }));
    const d1 = list.domains.find((d: { domain: string }) => d.domain === "d1.example");
    assert.deepEqual(d1.policy, { mode: "testing", id: "20250201" });
  });
});

describe("bad input", { timeout: 60_000 }, () => {
  const cases: [string, number, RegExp][] = [
    ["/api/domains/d1.example/overview?days=abc", 400, /whole number/],
    ["/api/domains/d1.example/overview?days=0", 400, /whole number/],
    ["/api/domains/d1.example/overview?days=7&days=8", 400, /more than once/],
    ["/api/domains/d1.example/overview?dayz=7", 400, /unknown query parameter/],
    ["/api/domains/not%20a%20domain/overview", 400, /not a domain name/],
    ["/api/domains/%E0%A4%A/overview", 400, /percent-encoding/],
    ["/api/domains/unknown.example/overview", 404, /no reports for unknown.example/],
    ["/api/reports/999999", 404, /no report 999999/],
    ["/api/reports/1;DROP", 400, /not a report id/],
    ["/api/reports?limit=-1", 400, /whole number/],
    ["/api/alerts?state=burning", 400, /open, snoozed, resolved/],
    ["/api/nothing-here", 404, /docs\/dashboard.md/],
  ];
  for (const [path, status, message] of cases) {
    test(`${path} → ${status}`, async () => {
      const res = await api(path, { token: s.tokens.reader });
      assert.equal(res.status, status);
      const body = await json(res);
      assert.match(body.message, message);
      assert.doesNotMatch(JSON.stringify(body), /at .*\.ts:\d+/, "no stack trace");
    });
  }

  test("a huge period is capped at 366 days, and the answer says so", async () => {
    const o = await json(
      api("/api/domains/d1.example/overview?days=99999999999", { token: s.tokens.reader }),
    );
    assert.equal(o.periodDays, 366);
    assert.match(o.capped[0].message, /over the maximum; showing 366/);
  });

  test("an oversized POST body is refused 413 before it is read", async () => {
    const res = await api(`/api/alerts/${a1.id}/snooze`, {
      method: "POST",
      token: s.tokens.admin,
      headers: { "content-type": "application/json" },
      body: "x".repeat(64 * 1024),
    });
    assert.equal(res.status, 413);
  });

  test("the intake takes a report without a login, at its own path", async () => {
    const res = await fetch(`${s.url}/tlsrpt`, {
      method: "POST",
      headers: { "content-type": "application/tlsrpt+json" },
      body: JSON.stringify({
        "organization-name": "Intake Test",
        "date-range": {
          "start-datetime": "2025-01-30T00:00:00Z",
          "end-datetime": "2025-01-30T23:59:59Z",
        },
        "contact-info": "x@intake.example",
        "report-id": "intake-1",
        policies: [
          {
            policy: { "policy-type": "no-policy-found", "policy-domain": "intake.example" },
            summary: { "total-successful-session-count": 1, "total-failure-session-count": 0 },
          },
        ],
      }),
    });
    assert.equal(res.status, 201);
    assert.equal(
      (await api("/api/domains/intake.example/overview", { token: s.tokens.reader })).status,
      200,
    );
  });
});

describe("many alerts", { timeout: 60_000 }, () => {
  test("a report inventing 120 result types opens a bounded number of alerts, and the domain list counts each open one", async () => {
    // 120 result types d2.example never had: the ten that failed most get their own alert, the rest share one.
    await ingestDaily(s.store, {
      domain: "d2.example",
      end: new Date(clock.getTime() - HOUR),
      successful: 100_000,
      failures: Array.from({ length: 120 }, (_, i) => ({ type: `x-lab-type-${i}`, count: 1 })),
    });
    await monitor.evaluate();
    const open = await monitor.alerts({ state: "open", domain: "d2.example", limit: 10_000 });
    const fresh = open.filter((a) => a.rule === "new-result-type");
    assert.equal(fresh.length, NEW_RESULT_TYPES_MAX + 1, `${fresh.length} new-result-type alerts`);
    assert.ok(fresh.some((a) => /\d+ more failure result types never reported/.test(a.message)));
    const o = await json(api("/api/domains", { token: s.tokens.reader }));
    const d2 = o.domains.find((d: { domain: string }) => d.domain === "d2.example");
    assert.equal(d2.openAlerts, open.length);
  });
});
