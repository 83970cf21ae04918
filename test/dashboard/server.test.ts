// The server's edges: HTTPS with Secure cookies, metrics on their own
// address, the login rate limit, oversized intake posts, session expiry, and
// the open (--insecure-no-auth) mode.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createTestCa } from "../../lab/ca.ts";
import { createSessionTable } from "../../src/dashboard/sessions.ts";
import { ADMIN, defaultLoginForm, login, serve } from "./fixture.ts";

test("over HTTPS the login and session cookies are Secure, HttpOnly and SameSite=Strict", {
  timeout: 60_000,
}, async () => {
  const ca = await createTestCa();
  const cert = await ca.issue({ names: ["dashboard.test"] });
  const dir = mkdtempSync(join(tmpdir(), "mtasts-dash-tls-"));
  writeFileSync(join(dir, "cert.pem"), cert.chainPem);
  writeFileSync(join(dir, "key.pem"), cert.keyPem);
  const s = await serve({
    generated: 5,
    config: { tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } },
  });
  try {
    assert.match(s.url, /^https:\/\//);
    const get = (
      path: string,
      init: { method?: string; headers?: Record<string, string>; body?: string } = {},
    ) =>
      new Promise<{ status: number; cookies: string[]; body: string; hsts: string | undefined }>(
        (resolve, reject) => {
          const u = new URL(path, s.url);
          const req = request(
            {
              host: u.hostname,
              port: u.port,
              path: u.pathname + u.search,
              method: init.method ?? "GET",
              headers: init.headers,
              ca: ca.rootPem,
              servername: "dashboard.test",
              timeout: 10_000,
            },
            (res) => {
              let body = "";
              res.on("data", (d) => {
                body += String(d);
              });
              res.on("end", () =>
                resolve({
                  status: res.statusCode ?? 0,
                  cookies: res.headers["set-cookie"] ?? [],
                  hsts: res.headers["strict-transport-security"],
                  body,
                }),
              );
            },
          );
          req.on("error", reject);
          req.end(init.body);
        },
      );
    const form = await get("/login");
    assert.equal(form.status, 200);
    assert.equal(form.hsts, "max-age=31536000");
    assert.match(form.cookies[0] ?? "", /^mtasts_login=.*; HttpOnly; SameSite=Strict; .*Secure$/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? "";
    const done = await get("/login", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: (form.cookies[0] ?? "").split(";")[0] as string,
      },
      body: new URLSearchParams({ csrf, user: ADMIN.user, password: ADMIN.password }).toString(),
    });
    assert.equal(done.status, 303);
    const session = done.cookies.find((c) => c.startsWith("mtasts_session=")) ?? "";
    assert.match(session, /; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("metrics on their own address without auth, and not on the main port", {
  timeout: 60_000,
}, async () => {
  const s = await serve({
    generated: 5,
    config: { metrics: { expose: "listen", listen: { host: "127.0.0.1", port: 0 } } },
  });
  try {
    const at = s.dashboard.metricsAddress();
    assert.ok(at !== null);
    assert.equal(
      (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.tokens.admin}` } }))
        .status,
      404,
    );
    const m = await fetch(`http://127.0.0.1:${at.port}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /# TYPE mtasts_serve_sessions gauge/);

    // Without a monitor: pages for checks and alerts say how to enable it; actions answer 409.
    const { cookie } = await login(s.url, ADMIN.user, ADMIN.password);
    for (const path of ["/alerts", "/", "/domains/example.com?days=366"]) {
      const page = await (await fetch(`${s.url}${path}`, { headers: { cookie } })).text();
      assert.match(page, /Monitoring is not enabled.*<code>monitor:<\/code> section/s, path);
    }
    const act = await fetch(`${s.url}/api/alerts/a1/resolve`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.tokens.admin}` },
    });
    assert.equal(act.status, 409);
  } finally {
    await s.close();
  }
});

/** A failed login attempt, optionally claiming a client address; its status. */
async function wrongLogin(url: string, forwardedFor?: string): Promise<Response> {
  const { cookie, csrf } = await defaultLoginForm(url);
  return fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie,
      ...(forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }),
    },
    body: new URLSearchParams({ csrf, user: ADMIN.user, password: "wrong" }).toString(),
  });
}

test("logins are rate limited per client; the intake refuses an oversized report with 413", {
  timeout: 60_000,
}, async () => {
  const s = await serve({
    generated: 5,
    config: {
      session: {
        lifetimeMs: 3_600_000,
        secureCookie: "auto",
        loginsPerMinute: 3,
        trustProxy: false,
      },
    },
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // Without trust_proxy a claimed address changes nothing: the socket is the client.
      const res = await wrongLogin(s.url, `198.51.100.${i}`);
      statuses.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) > 0);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);

    const big = new Uint8Array(11 * 1024 * 1024).fill(0x20);
    const res = await fetch(`${s.url}/tlsrpt`, {
      method: "POST",
      headers: { "content-type": "application/tlsrpt+json" },
      body: big,
    });
    assert.equal(res.status, 413);
  } finally {
    await s.close();
  }
});

test("behind a proxy (session.trust_proxy) logins are limited per X-Forwarded-For client", {
  timeout: 60_000,
}, async () => {
  const s = await serve({
    generated: 1,
    config: {
      session: {
        lifetimeMs: 3_600_000,
        secureCookie: "auto",
        loginsPerMinute: 2,
        trustProxy: true,
      },
    },
  });
  try {
    const one: number[] = [];
    // The proxy appends the address it saw; an earlier entry is the client's own claim.
    for (let i = 0; i < 3; i++)
      one.push((await wrongLogin(s.url, `10.9.9.${i}, 203.0.113.1`)).status);
    assert.deepEqual(one, [401, 401, 429]);
    // Another client behind the same proxy has a bucket of its own.
    assert.equal((await wrongLogin(s.url, "203.0.113.2")).status, 401);
  } finally {
    await s.close();
  }
});

test("intake.managed_domains: a report for another policy domain is quarantined (202), ours stored (201)", {
  timeout: 60_000,
}, async () => {
  const s = await serve({
    generated: 1,
    config: {
      intake: {
        path: "/tlsrpt",
        perMinute: 0,
        trustProxy: false,
        managedDomains: ["ours.example"],
      },
    },
  });
  const report = (domain: string) =>
    JSON.stringify({
      "organization-name": "Sender Ltd",
      "date-range": {
        "start-datetime": "2026-11-20T00:00:00Z",
        "end-datetime": "2026-11-20T23:59:59Z",
      },
      "contact-info": "tlsrpt@sender.example",
      "report-id": `2026-11-20_${domain}`,
      policies: [
        {
          policy: { "policy-type": "no-policy-found", "policy-domain": domain },
          summary: { "total-successful-session-count": 9, "total-failure-session-count": 0 },
        },
      ],
    });
  const post = (body: string) =>
    fetch(`${s.url}/tlsrpt`, {
      method: "POST",
      headers: { "content-type": "application/tlsrpt+json" },
      body,
    });
  try {
    const theirs = await post(report("theirs.example"));
    assert.equal(theirs.status, 202);
    assert.equal(((await theirs.json()) as { status: string }).status, "quarantined");
    const ours = await post(report("ours.example"));
    assert.equal(ours.status, 201);
    assert.equal(((await ours.json()) as { status: string }).status, "stored");
  } finally {
    await s.close();
  }
});

test("sessions expire after their lifetime; forged ids are not sessions", {
  timeout: 60_000,
}, () => {
  let now = 1_000_000;
  const table = createSessionTable(60_000, () => now);
  const { id } = table.create("alice", "admin", "");
  assert.equal(table.get(id)?.user, "alice");
  now += 59_999;
  assert.ok(table.get(id) !== null);
  now += 1;
  assert.equal(table.get(id), null);
  assert.equal(table.get("../../etc/passwd"), null);
  assert.equal(table.get(`${id.slice(0, -1)}x`), null);
});

test("--insecure-no-auth: pages open without a login, state changes still need the CSRF token", {
  timeout: 60_000,
}, async () => {
  const s = await serve({ generated: 5, config: { users: [], apiTokens: [] }, open: true });
  try {
    const page = await fetch(`${s.url}/`, { redirect: "manual" });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("set-cookie") ?? "", /^mtasts_session=/);
    assert.equal((await fetch(`${s.url}/api/domains`)).status, 200);
    assert.equal(
      (await fetch(`${s.url}/api/domains/d1.example/check`, { method: "POST" })).status,
      403,
    );
  } finally {
    await s.close();
  }
});
