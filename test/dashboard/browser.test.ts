// The dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download). Logs in, reads the overview and a
// domain page and compares the charted numbers (the data table each chart is
// drawn from, and what the chart says it plotted) with the store's own
// summary; shows a report full of markup, and an alert built from a sender's
// result type full of markup, as text; refuses the unauthenticated, forged
// CSRF tokens and the read-only role. Alerts come from the real monitor
// checking the lab. Screenshots go to test-artifacts/ (git-ignored). Off CI,
// skipped only when chromium is missing.

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import type { Alert, Monitor } from "../../src/monitor/index.ts";
import {
  ADMIN,
  HOSTILE_DOMAIN,
  HOSTILE_INFO,
  HOSTILE_ORG,
  NOW,
  READER,
  type Served,
  serve,
} from "./fixture.ts";
import { ingestDaily, labMonitor } from "./lab-monitor.ts";

const CHROMIUM = process.env.MTASTS_TEST_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;
const DAY = 86_400_000;
const skip = existsSync(CHROMIUM)
  ? false
  : process.env.CI
    ? (() => {
        throw new Error(
          `chromium not found at ${CHROMIUM} [CI is set, so a missing browser fails]`,
        );
      })()
    : `chromium not found at ${CHROMIUM}; install Debian's chromium package`;

let s: Served;
let lab: Lab;
let monitor: Monitor;
let browser: Browser;
const cspViolations: string[] = [];
const logs: string[] = [];
const clock = new Date(NOW.getTime() - 3_600_000);
/** A result type a sender made up: it becomes an alert's subject and message. */
const HOSTILE_TYPE = `<img src=x onerror="window.__pwned = 3">`;
/** The lab's expired MX certificate of d7.example, as the monitor's alert. */
let expired: Alert;

const alertState = async (id: string) =>
  (await monitor.alerts({ domain: "d7.example" })).find((a) => a.id === id)?.state;

before(async () => {
  if (skip !== false) return;
  lab = await startLab(
    scenario({ domain: "d7.example", faults: ["mx1:cert-expired"] }, { domain: HOSTILE_DOMAIN }),
  );
  s = await serve({
    monitor: labMonitor(lab, ["d7.example", HOSTILE_DOMAIN], () => clock, logs),
  });
  monitor = s.monitor as Monitor;
  await monitor.checkNow();
  await ingestDaily(s.store, {
    domain: HOSTILE_DOMAIN,
    end: new Date(clock.getTime() - 3_600_000),
    successful: 1000,
    failures: [{ type: HOSTILE_TYPE, count: 1 }],
  });
  await monitor.evaluate();
  const found = (await monitor.alerts({ domain: "d7.example" })).find(
    (a) => a.rule === "cert-expiry",
  );
  assert.ok(found, `no cert-expiry alert for d7.example; monitor log: ${logs.join("\n")}`);
  expired = found;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox"],
    timeout: 60_000,
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await s?.close();
  await lab?.close();
});

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on("dialog", (d) => {
    cspViolations.push(`dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  return page;
}

async function logIn(page: Page, user: string, password: string, path = "/"): Promise<void> {
  await page.goto(`${s.url}${path}`);
  assert.match(
    page.url(),
    /\/login\?next=/,
    "an unauthenticated page sends the browser to the login",
  );
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

test("log in, overview and a domain: the charted numbers equal the store's summary", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = await newPage();
  await logIn(page, ADMIN.user, ADMIN.password);
  assert.equal(new URL(page.url()).pathname, "/");

  // Keyboard: the skip link comes first.
  await page.keyboard.press("Tab");
  assert.equal(
    await page.evaluate("document.activeElement && document.activeElement.textContent"),
    "Skip to content",
  );

  const domain = "d7.example";
  const filter = { domain, since: new Date(NOW.getTime() - 30 * DAY), until: NOW };
  const byDay = await s.store.summary(filter, "day");
  const row = page.locator("#domains tbody tr", {
    has: page.locator(`a[href="/domains/${domain}"]`),
  });
  const all = byDay.total.successful + byDay.total.failed;
  assert.equal(
    await row.locator("td[data-rate30]").textContent(),
    `${((byDay.total.successful / all) * 100).toFixed(1)}%`,
  );
  await page.screenshot({ path: `${ARTIFACTS}dashboard-overview.png`, fullPage: true });

  await row.locator("a").first().click();
  await page.waitForURL(`${s.url}/domains/${domain}`);
  const figure = page.locator("#chart-sessions");
  await figure.locator("canvas").first().waitFor({ state: "attached" });
  await page.waitForFunction('document.querySelectorAll("figure[data-plotted]").length === 2');

  // The data table the chart is drawn from, against summary --by day.
  // A string, as it runs in the page (this file is type-checked without the DOM library).
  const table =
    (await page.evaluate(`[...document.querySelectorAll("#t-days tbody tr")].map((r) => ({
    day: r.dataset.day,
    values: [...r.querySelectorAll("td[data-value]")].map((c) => Number(c.dataset.value)),
    failed: Number(r.querySelector("td[data-failed]").dataset.failed),
    reports: Number(r.querySelector("td[data-reports]").dataset.reports),
  }))`)) as { day: string; values: number[]; failed: number; reports: number }[];

  assert.deepEqual(
    table.map((r) => [r.day, r.values[0], r.failed, r.reports]),
    byDay.rows.map((r) => [r.key, r.successful, r.failed, r.reports]),
  );
  // What the chart says it plotted, against summary --by result-type.
  const plotted = JSON.parse((await figure.getAttribute("data-plotted")) ?? "{}");
  const byType = await s.store.summary(filter, "result-type");
  assert.equal(plotted.points, byDay.rows.length);
  assert.deepEqual(plotted.sums, {
    successful: byDay.total.successful,
    ...Object.fromEntries(byType.rows.map((r) => [r.key, r.failed])),
  });
  assert.equal(
    await page.locator("#total-successful").textContent(),
    byDay.total.successful.toLocaleString("en-US"),
  );
  assert.equal(
    await page.locator("#total-failed").textContent(),
    byDay.total.failed.toLocaleString("en-US"),
  );
  await page.screenshot({ path: `${ARTIFACTS}dashboard-domain.png`, fullPage: true });

  // The same page on a phone.
  const phone = await newPage({ width: 390, height: 844 });
  await logIn(phone, ADMIN.user, ADMIN.password, `/domains/${domain}`);
  await phone.locator("figure canvas").first().waitFor({ state: "attached" });
  const overflow = Number(
    await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
  );
  assert.ok(overflow <= 1, `the page fits a phone's width (overflows by ${overflow}px)`);
  await phone.screenshot({ path: `${ARTIFACTS}dashboard-domain-phone.png`, fullPage: true });
  assert.deepEqual(cspViolations, [], "no Content-Security-Policy violations, no dialogs");
});

test("RPT-RCV-04 a report whose fields carry <script> and markup is shown as text", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = await newPage();
  await logIn(page, READER.user, READER.password, `/reports/${s.hostileId}`);
  assert.equal(await page.locator("#organization").textContent(), HOSTILE_ORG);
  await page.screenshot({ path: `${ARTIFACTS}dashboard-hostile-report.png`, fullPage: true });
  assert.ok((await page.locator("main").textContent())?.includes(HOSTILE_INFO));
  assert.equal(await page.evaluate("window.__pwned"), undefined);
  // No element came from the report: our pages have no inline script and no <img> or <b> at all.
  assert.equal(await page.locator("main script, main img, main b, main i").count(), 0);
  await page.goto(`${s.url}/reports?domain=xss.example`);
  assert.ok((await page.locator("#reports").textContent())?.includes(HOSTILE_ORG));
  await page.goto(`${s.url}/`);
  assert.equal(await page.evaluate("window.__pwned"), undefined);

  // The monitor's alert for the sender's made-up result type carries it as subject and message.
  const [alert] = await monitor.alerts({ domain: HOSTILE_DOMAIN, state: "open" });
  assert.deepEqual([alert?.rule, alert?.subject], ["new-result-type", HOSTILE_TYPE]);
  await page.goto(`${s.url}/alerts?state=open`);
  const row = page.locator("#alerts tbody tr", {
    has: page.locator(`a[href="/domains/${HOSTILE_DOMAIN}"]`),
  });
  assert.equal(await row.locator("td").nth(1).textContent(), HOSTILE_TYPE);
  assert.equal(await row.locator("td").nth(2).textContent(), alert?.message);
  await page.screenshot({ path: `${ARTIFACTS}dashboard-hostile-alert.png`, fullPage: true });
  assert.equal(await page.locator("main script, main img, main b, main i").count(), 0);
  assert.equal(await page.evaluate("window.__pwned"), undefined);
  assert.deepEqual(cspViolations, []);
});

test("unauthenticated API calls get 401; forged CSRF tokens 403; the read-only role cannot act", {
  skip,
  timeout: 120_000,
}, async () => {
  const anon = await newPage();
  await anon.goto(`${s.url}/healthz`);
  assert.equal(await anon.evaluate(async () => (await fetch("/api/domains")).status), 401);

  const admin = await newPage();
  await logIn(admin, ADMIN.user, ADMIN.password, "/alerts");
  const action = `/alerts/${expired.id}/resolve`;
  // A state-changing call from the page without the token, then a form whose token was tampered with.
  assert.equal(
    await admin.evaluate(
      async (path) => (await fetch(path, { method: "POST" })).status,
      `/api${action}`,
    ),
    403,
  );
  await admin.evaluate(
    `document.querySelector('form[action="${action}"] input[name="csrf"]').value = "forged"`,
  );
  const resolve = admin
    .locator(`form[action="${action}"]`)
    .getByRole("button", { name: "Resolve" });
  const [response] = await Promise.all([
    admin.waitForResponse((r) => r.url().endsWith(action)),
    resolve.click(),
  ]);
  assert.equal(response.status(), 403);
  assert.equal(await alertState(expired.id), "open");

  const reader = await newPage();
  await logIn(reader, READER.user, READER.password, "/alerts");
  assert.equal(
    await reader.getByRole("button", { name: "Snooze" }).count(),
    0,
    "no actions offered to the read-only role",
  );
  const status = await reader.evaluate(async (path) => {
    const me = (await (await fetch("/api/me")).json()) as { csrf: string };
    const res = await fetch(path, {
      method: "POST",
      headers: { "x-csrf-token": me.csrf },
    });
    return res.status;
  }, `/api${action}`);
  assert.equal(status, 403);
  assert.equal(await alertState(expired.id), "open");

  // The admin with the real token can.
  await admin.goto(`${s.url}/alerts`);
  await resolve.click();
  await admin.waitForURL(`${s.url}/alerts`);
  assert.equal(await alertState(expired.id), "resolved");
});
