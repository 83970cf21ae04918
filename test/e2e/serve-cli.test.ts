// `mtasts serve` as an admin runs it: the real binary, a config written with
// `serve hash-password` / `serve new-token`, a report POSTed to the intake
// without a login, the API with a token, and a clean stop on SIGTERM. Also
// the refusals: no users, --insecure-no-auth off loopback, a bad config.

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { scenario, startLab } from "../../lab/index.ts";
import { login } from "../dashboard/fixture.ts";
import { sampleBytes } from "../reports/backends.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "mtasts-serve-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function mtasts(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({
          code: err === null ? 0 : Number((err as { code?: number }).code ?? 1),
          stdout,
          stderr,
        });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

test("serve refuses to start without users, and --insecure-no-auth off loopback", {
  timeout: 60_000,
}, async () => {
  const none = await mtasts(["serve", "--db", join(dir, "a.db"), "--listen", "127.0.0.1:0"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no users or API tokens are configured.*hash-password/);
  const wide = await mtasts([
    "serve",
    "--insecure-no-auth",
    "--listen",
    "0.0.0.0:0",
    "--db",
    join(dir, "a.db"),
  ]);
  assert.equal(wide.code, 2);
  assert.match(wide.stderr, /only on a loopback address/);
  const badFlag = await mtasts(["serve", "--listen", "nowhere"]);
  assert.equal(badFlag.code, 2);
});

test("serve -c with a bad config names the key path and exits 1", { timeout: 60_000 }, async () => {
  writeFileSync(join(dir, "bad.yml"), "users:\n  - name: x\n    role: boss\n");
  const r = await mtasts(["serve", "-c", join(dir, "bad.yml")]);
  assert.equal(r.code, 1);
  // The shared config error: key path, value, what is accepted, and the line.
  assert.match(r.stderr, /users\[0\]\.role = "boss": expected admin or read-only \(line 3\)/);
});

test("serve: hash-password and new-token, then intake, API and a clean SIGTERM", {
  timeout: 60_000,
}, async () => {
  const hashed = await mtasts(["serve", "hash-password"], "a password\n");
  assert.equal(hashed.code, 0, hashed.stderr);
  const hash = hashed.stdout.trim();
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  const issued = await mtasts(["serve", "new-token"]);
  const token = /^token: (\S+)$/m.exec(issued.stdout)?.[1] as string;
  const tokenHash = /token_hash: (\S+)$/m.exec(issued.stdout)?.[1] as string;
  writeFileSync(
    join(dir, "serve.yml"),
    `users:\n  - { name: admin, role: admin, password_hash: "${hash}" }\napi_tokens:\n  - { name: ci, role: read-only, token_hash: "${tokenHash}" }\n`,
  );
  const start = () =>
    spawn(
      process.execPath,
      [
        bin,
        "serve",
        "-c",
        "serve.yml",
        "--db",
        "r.db",
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      { cwd: dir },
    );
  const child = start();
  const stderr: string[] = [];
  child.stderr.on("data", (d) => stderr.push(String(d)));
  let again: ChildProcess | null = null;
  try {
    const url = await listeningUrl(child);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const posted = await fetch(`${url}/tlsrpt`, {
      method: "POST",
      headers: { "content-type": "application/tlsrpt+json" },
      body: sampleBytes("phiag-rfc8460-example.json"),
    });
    assert.equal(posted.status, 201);
    assert.equal((await fetch(`${url}/api/reports?days=366`)).status, 401);
    const list = await fetch(`${url}/api/reports?days=366&limit=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(list.status, 200);
    assert.equal(((await list.json()) as { filter: { days: number } }).filter.days, 366);
    const { cookie } = await login(url, "admin", "a password");
    const code = await stop(child);
    assert.equal(code, 0, stderr.join(""));
    const log = stderr.join("");
    assert.match(log, /"event":"stopped"/);
    assert.ok(!log.includes(token) && !log.includes(hash), "no secret in the log");
    // Restarted on the same database, the browser's session still holds.
    again = start();
    const back = await listeningUrl(again);
    assert.equal((await fetch(`${back}/api/me`, { headers: { cookie } })).status, 200);
    assert.equal(await stop(again), 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    if (again !== null && again.exitCode === null) again.kill("SIGKILL");
  }
});

test("serve with monitor: checks the lab on start, an expiring MX certificate opens one alert, sent once by webhook and listed by the API", {
  timeout: 120_000,
}, async () => {
  const lab = await startLab(
    scenario(
      { domain: "expiring.test", mode: "enforce", faults: ["mx1:cert-expiring"] },
      { domain: "healthy.test", mode: "enforce" },
    ),
  );
  const events: { event: string; alert: { rule: string; domain: string; subject: string } }[] = [];
  const hook = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += String(d);
    });
    req.on("end", () => {
      events.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const hookPort = (hook.address() as { port: number }).port;
  writeFileSync(
    join(dir, "monitor.yml"),
    [
      "monitor:",
      "  domains: [expiring.test, healthy.test]",
      "  rules: { cert_expiry_days: 21, failure_rate: false, new_result_type: false }",
      `  delivery: { webhooks: [{ url: "http://127.0.0.1:${hookPort}/alerts" }] }`,
      "  check:",
      `    resolvers: ["${lab.resolver}"]`,
      `    ca_file: ${JSON.stringify(lab.caFile)}`,
      `    https_port: ${lab.httpsPort}`,
      `    smtp_port: ${lab.smtpPort}`,
      "",
    ].join("\n"),
  );
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "-c",
      "monitor.yml",
      "--db",
      "m.db",
      "--listen",
      "127.0.0.1:0",
      "--insecure-no-auth",
    ],
    { cwd: dir },
  );
  const stderr: string[] = [];
  child.stderr.on("data", (d) => stderr.push(String(d)));
  try {
    const url = await listeningUrl(child);
    const deadline = Date.now() + 60_000;
    while (events.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(events.length, 1, `webhook events: ${JSON.stringify(events)}\n${stderr.join("")}`);
    assert.equal(events[0]?.event, "alert.opened");
    assert.deepEqual(
      [events[0]?.alert.rule, events[0]?.alert.domain, events[0]?.alert.subject],
      ["cert-expiry", "expiring.test", "mx1.expiring.test"],
    );
    const api = (await (await fetch(`${url}/api/alerts`)).json()) as {
      alerts: { rule: string; domain: string; state: string }[];
    };
    assert.deepEqual(
      api.alerts.map((a) => [a.rule, a.domain, a.state]),
      [["cert-expiry", "expiring.test", "open"]],
    );
    const page = await (await fetch(`${url}/domains/expiring.test`)).text();
    assert.match(page, /mx1\.expiring\.test/);
    assert.equal(await stop(child), 0, stderr.join(""));
    assert.equal(events.length, 1, "sent once");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    hook.close();
    await lab.close();
  }
});

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
    child.stdout?.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${out}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill("SIGTERM");
  });
}
