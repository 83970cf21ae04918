// A dashboard over a real store for the tests: a fresh SQLite file (or a
// PostgreSQL schema) holding the shared samples, generated reports and one
// report whose fields carry markup, served on a free loopback port with two
// users (admin, read-only) and two API tokens. The clock is fixed at NOW so
// the generated reports (January 2025) fall inside the default periods. With
// `monitor`, the real monitor is opened on the same database after seeding
// (see lab-monitor.ts) and stopped at close.

import { readdirSync } from "node:fs";
import {
  type Dashboard,
  defaultConfig,
  hashPassword,
  newApiToken,
  type ServeConfig,
  startDashboard,
} from "../../src/dashboard/index.ts";
import type { Monitor } from "../../src/monitor/index.ts";
import { openReportReader } from "../../src/reports/dashboard-reader.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import type { ReportStore } from "../../src/reports/store.ts";
import { type Backend, freshStore, sampleBytes, samplesDir, sqlite } from "../reports/backends.ts";
import { generateReport } from "../reports/report-generator.ts";

// biome-ignore lint/suspicious/noExplicitAny: answers are read as the JSON they are; the assertions check their shape.
export type Json = any;
export const json = async (res: Response | Promise<Response>): Promise<Json> => (await res).json();

export const NOW = new Date("2025-02-01T12:00:00Z");
export const ADMIN = { user: "alice", password: "correct horse battery staple" };
export const READER = { user: "rob", password: "read only please" };
export const HOSTILE_DOMAIN = "xss.example";
export const HOSTILE_ORG = `<script>window.__pwned = 1</script>Evil <b>Corp</b> & "friends"`;
export const HOSTILE_INFO = `<img src=x onerror="window.__pwned = 2">`;

/** Opens a monitor on the served store's database (the `--db` value) and store. */
export type MonitorFactory = (where: { db: string; store: ReportStore }) => Promise<Monitor>;

export interface Served {
  url: string;
  store: ReportStore;
  /** The monitor the dashboard reads, when `serve` was given one. */
  monitor: Monitor | null;
  dashboard: Dashboard;
  tokens: { admin: string; reader: string };
  hostileId: string;
  /** Every log event the server wrote, as JSON lines. */
  logged: string[];
  close(): Promise<void>;
}

/** The hostile report: markup in every free-text field a sender controls. */
export function hostileReport(): string {
  return JSON.stringify({
    "organization-name": HOSTILE_ORG,
    "date-range": {
      "start-datetime": "2025-01-20T00:00:00Z",
      "end-datetime": "2025-01-20T23:59:59Z",
    },
    "contact-info": "<a href=javascript:alert(1)>mailto:x@evil.example</a>",
    "report-id": "<i>evil-1</i>",
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": ["version: STSv1", "mode: <b>enforce</b>"],
          "policy-domain": HOSTILE_DOMAIN,
        },
        summary: { "total-successful-session-count": 5, "total-failure-session-count": 3 },
        "failure-details": [
          {
            "result-type": "validation-failure",
            "sending-mta-ip": "192.0.2.9",
            "receiving-mx-hostname": "mx.xss.example",
            "failed-session-count": 3,
            "additional-information": HOSTILE_INFO,
          },
        ],
      },
    ],
  });
}

export async function seedStore(store: ReportStore, generated = 1200): Promise<string> {
  const files = readdirSync(samplesDir).filter(
    (f) => /\.(json|gz|eml)$/.test(f) && f !== "expected.json",
  );
  for (const file of files) {
    await ingestReport(store, {
      bytes: sampleBytes(file),
      channel: "file",
      origin: file,
      receivedAt: NOW,
    });
  }
  for (let i = 0; i < generated; i++) {
    const bytes = new TextEncoder().encode(generateReport(3, i).json);
    await ingestReport(store, { bytes, channel: "https", origin: "test", receivedAt: NOW });
  }
  const hostile = await ingestReport(store, {
    bytes: new TextEncoder().encode(hostileReport()),
    channel: "https",
    origin: "test",
    receivedAt: NOW,
  });
  if (hostile.status !== "stored")
    throw new Error(`the hostile report was not stored: ${JSON.stringify(hostile)}`);
  return hostile.id;
}

export async function serve(
  options: {
    open?: boolean;
    backend?: Backend;
    monitor?: MonitorFactory;
    config?: Partial<ServeConfig>;
    generated?: number;
  } = {},
): Promise<Served> {
  const fresh = await freshStore(options.backend ?? sqlite);
  const hostileId = await seedStore(fresh.store, options.generated);
  const reader = await openReportReader(fresh.db);
  const monitor =
    options.monitor === undefined
      ? null
      : await options.monitor({ db: fresh.db, store: fresh.store });
  // A low scrypt cost keeps the tests quick; the format and the check are the same.
  const cost = { N: 1024, r: 8, p: 1 };
  const admin = newApiToken();
  const ro = newApiToken();
  const config: ServeConfig = {
    ...defaultConfig(fresh.db),
    listen: { host: "127.0.0.1", port: 0 },
    users: [
      { name: ADMIN.user, role: "admin", passwordHash: await hashPassword(ADMIN.password, cost) },
      {
        name: READER.user,
        role: "read-only",
        passwordHash: await hashPassword(READER.password, cost),
      },
    ],
    apiTokens: [
      { name: "script", role: "admin", tokenHash: admin.hash },
      { name: "grafana", role: "read-only", tokenHash: ro.hash },
    ],
    ...options.config,
  };
  const logged: string[] = [];
  const dashboard = await startDashboard({
    config,
    store: fresh.store,
    reader: reader.sql,
    now: () => NOW,
    log: (e) => logged.push(JSON.stringify(e)),
    closeGraceMs: 1000,
    open: options.open === true,
    ...(monitor === null ? {} : { monitor }),
  }).catch(async (error: unknown) => {
    // A test whose server did not start must not leave a database open behind it.
    await monitor?.stop();
    await reader.close();
    await fresh.done();
    throw error;
  });
  return {
    url: dashboard.url,
    store: fresh.store,
    monitor,
    dashboard,
    tokens: { admin: admin.token, reader: ro.token },
    hostileId,
    logged,
    close: async () => {
      await dashboard.close();
      await monitor?.stop();
      await reader.close();
      await fresh.done();
    },
  };
}

/** The login form's double-submit cookie and token. */
export async function defaultLoginForm(url: string): Promise<{ cookie: string; csrf: string }> {
  const form = await fetch(`${url}/login`);
  const cookie = (form.headers.get("set-cookie") ?? "").split(";")[0] as string;
  return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "" };
}

/** Logs in through the form; the session cookie and a CSRF token for later requests. */
export async function login(
  url: string,
  user: string,
  password: string,
): Promise<{ cookie: string; csrf: string }> {
  const form = await fetch(`${url}/login`);
  const loginCookie = (form.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
  const res = await fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: loginCookie },
    body: new URLSearchParams({ csrf: token, user, password, next: "/" }).toString(),
  });
  if (res.status !== 303) throw new Error(`login as ${user} answered ${res.status}`);
  const cookie =
    res.headers
      .getSetCookie()
      .find((c) => c.startsWith("mtasts_session="))
      ?.split(";")[0] ?? "";
  const me = await json(fetch(`${url}/api/me`, { headers: { cookie } }));
  return { cookie, csrf: me.csrf };
}
