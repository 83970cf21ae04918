// `runServe` with a monitor hook, as the host program will wire src/monitor:
// the `monitor:` section reaches the hook untouched, its view feeds the
// pages, stored reports call reportsStored(), and close() runs at shutdown.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type MonitorHook, runServe } from "../../src/cli/serve.ts";
import { newApiToken } from "../../src/dashboard/index.ts";
import { sampleBytes } from "../reports/backends.ts";
import { json } from "./fixture.ts";
import { memoryMonitor } from "./memory-monitor.ts";

test("the monitor hook gets the monitor: section untouched; reports stored call reportsStored()", {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-serve-hook-"));
  const token = newApiToken();
  writeFileSync(
    join(dir, "serve.yml"),
    `api_tokens:\n  - { name: t, role: admin, token_hash: "${token.hash}" }\nmonitor:\n  domains: [watched.example]\n  anything: { goes: [1, 2] }\n`,
  );
  const seen: unknown[] = [];
  let stored = 0;
  let closed = false;
  const hook: MonitorHook = async (settings, { store }) => {
    seen.push(settings);
    assert.equal(typeof store.getReport, "function");
    return {
      view: memoryMonitor(["watched.example"], [], []),
      reportsStored: async () => {
        stored++;
      },
      close: async () => {
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
    assert.deepEqual(seen, [{ domains: ["watched.example"], anything: { goes: [1, 2] } }]);
    const domains = await json(
      fetch(`${url}/api/domains`, { headers: { authorization: `Bearer ${token.token}` } }),
    );
    assert.equal(domains.monitoring, true);
    assert.deepEqual(
      domains.domains.map((d: { domain: string }) => d.domain),
      ["watched.example"],
    );
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
  }
  assert.equal(closed, true);
});
