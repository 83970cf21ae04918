// `runServe` with the real monitor hook (src/cli/serve-monitor.ts), checking
// the lab: the `monitor:` section reaches the hook untouched, the monitor's
// view feeds the API (its checks and alerts, read back from the monitor),
// "check now" runs a check, stored reports call reportsStored(), and close()
// runs at shutdown.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { scenario, startLab } from "../../lab/index.ts";
import type { MonitorHook } from "../../src/cli/serve.ts";
import { runServe } from "../../src/cli/serve.ts";
import { monitorHook } from "../../src/cli/serve-monitor.ts";
import { newApiToken } from "../../src/dashboard/index.ts";
import type { MonitorView } from "../../src/monitor/index.ts";
import { sampleBytes } from "../reports/backends.ts";
import { json } from "./fixture.ts";

test("the monitor hook gets the monitor: section untouched; reports stored call reportsStored()", {
  timeout: 60_000,
}, async () => {
  const lab = await startLab(scenario({ domain: "watched.example", faults: ["policy:404"] }));
  const dir = mkdtempSync(join(tmpdir(), "mtasts-serve-hook-"));
  const token = newApiToken();
  const section = {
    domains: ["watched.example"],
    check: {
      resolvers: [lab.resolver],
      ca_file: lab.caFile,
      https_port: lab.httpsPort,
      smtp_port: lab.smtpPort,
    },
  };
  // JSON is YAML: the section as written is the section the hook must get.
  writeFileSync(
    join(dir, "serve.yml"),
    `api_tokens:\n  - { name: t, role: admin, token_hash: "${token.hash}" }\nmonitor: ${JSON.stringify(section)}\n`,
  );
  const seen: unknown[] = [];
  let view: MonitorView | undefined;
  let stored = 0;
  let closed = false;
  const hook: MonitorHook = async (settings, where) => {
    seen.push(structuredClone(settings));
    assert.equal(typeof where.store.getReport, "function");
    const real = await monitorHook(settings, where);
    view = real.view;
    return {
      view: real.view,
      reportsStored: async () => {
        stored++;
        await real.reportsStored?.();
      },
      close: async () => {
        await real.close();
        closed = true;
      },
    };
  };
  let out = "";
  let err = "";
  let stop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  let listening: (url: string) => void = () => {};
  const started = new Promise<string>((resolve) => {
    listening = resolve;
  });
  const io = {
    stdout: {
      write: (s: string | Uint8Array) => {
        out += String(s);
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) listening(m[1] as string);
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
    env: {},
  };
  const args = ["-c", join(dir, "serve.yml"), "--db", join(dir, "r.db"), "--listen", "127.0.0.1:0"];
  const exit = runServe(args, io, { monitor: hook, stopSignal: () => stopped });
  try {
    const url = await Promise.race([
      started,
      exit.then((code) => Promise.reject(new Error(`exited ${code}: ${err}`))),
    ]);
    assert.deepEqual(seen, [section]);
    const monitor = view as MonitorView;
    const get = async (path: string) =>
      json(fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token.token}` } }));
    const check = await fetch(`${url}/api/domains/watched.example/check`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.token}` },
    });
    assert.equal(check.status, 202);
    // The check ran (the schedule's first round may have run too): the answers are the monitor's.
    const [latest] = await monitor.latestChecks();
    assert.ok(latest, "a check run is stored");
    assert.ok((await monitor.checkHistory("watched.example", 10)).length >= 1);
    const domains = await get("/api/domains");
    assert.equal(domains.monitoring, true);
    assert.deepEqual(
      domains.domains.map((d: { domain: string }) => d.domain),
      ["watched.example"],
    );
    const [row] = domains.domains;
    assert.deepEqual(row.lastCheck, { at: latest.at.toISOString(), status: latest.status });
    assert.ok(
      latest.findings.some((f) => f.code === "fetch.status"),
      "the lab's 404 was seen",
    );
    const alerts = await get("/api/alerts");
    const held = await monitor.alerts({ limit: 200 });
    assert.deepEqual(alerts.alerts, JSON.parse(JSON.stringify(held)));
    assert.deepEqual(
      held.map((a) => [a.rule, a.domain, a.state]),
      [["policy-host", "watched.example", "open"]],
    );
    assert.equal(row.openAlerts, held.filter((a) => a.state === "open").length);
    const posted = await fetch(`${url}/tlsrpt`, {
      method: "POST",
      body: sampleBytes("phiag-rfc8460-example.json"),
    });
    assert.equal(posted.status, 201);
    for (let i = 0; i < 50 && stored === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(stored, 1);
  } finally {
    stop("test");
    assert.equal(await exit, 0, err);
    rmSync(dir, { recursive: true, force: true });
    await lab.close();
  }
  assert.equal(closed, true);
});
