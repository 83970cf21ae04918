// `mtasts host` as an admin runs it: the real binary, the quick mode and a
// host.yml, fetched with curl, reloaded with SIGHUP, stopped with SIGTERM.

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { createTestCa, type TestCa } from "../../lab/ca.ts";
import { curlSkip } from "../host/fixture.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
let dir: string;
let ca: TestCa;
const policy = (mx: string) => `version: STSv1\nmode: enforce\nmx: ${mx}\nmax_age: 86400\n`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mtasts-host-cli-"));
  mkdirSync(join(dir, "policies"));
  ca = await createTestCa();
  const cert = await ca.issue({ names: ["mta-sts.a.test", "mta-sts.b.test"] });
  writeFileSync(join(dir, "cert.pem"), cert.chainPem);
  writeFileSync(join(dir, "key.pem"), cert.keyPem);
  ca.writeCaFile(dir);
  writeFileSync(join(dir, "policies", "a.test.txt"), policy("mx1.a.test"));
  writeFileSync(join(dir, "policies", "b.test.txt"), policy("mx1.b.test"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function mtasts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the host and waits until it logs that it listens (or exits). */
async function start(
  args: string[],
  ready: (stderr: string) => boolean = (e) => /policy host (listening|started)/.test(e),
): Promise<Running> {
  const child = spawn(process.execPath, [bin, "host", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`not ready within 20 s:\n${err}`));
    }, 20_000);
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      if (ready(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`exited with ${code}:\n${err}`));
    });
  });
  return { child, stderr: () => err, exited };
}

async function curl(port: number, domain: string): Promise<string> {
  const r = await run("curl", [
    "--silent",
    "--show-error",
    "--resolve",
    `mta-sts.${domain}:${port}:127.0.0.1`,
    "--cacert",
    join(dir, "mtasts-lab-root.pem"),
    "--write-out",
    "%{http_code}",
    `https://mta-sts.${domain}:${port}/.well-known/mta-sts.txt`,
  ]);
  return r.stdout;
}

test("quick mode serves DIR/<domain>.txt under one certificate; SIGTERM stops it cleanly", {
  skip: curlSkip(),
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const host = await start([
    "--policies",
    join(dir, "policies"),
    "--listen",
    `127.0.0.1:${port}`,
    "--cert",
    join(dir, "cert.pem"),
    "--key",
    join(dir, "key.pem"),
  ]);
  try {
    assert.equal(await curl(port, "a.test"), `${policy("mx1.a.test")}200`);
    assert.equal(await curl(port, "b.test"), `${policy("mx1.b.test")}200`);
  } finally {
    host.child.kill("SIGTERM");
  }
  assert.equal(await host.exited, 0);
  assert.match(host.stderr(), /stopped/);
});

test("host.yml: SIGHUP reloads a changed policy; an invalid one keeps the last good version", {
  skip: curlSkip(),
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const policies = join(dir, "hup");
  mkdirSync(policies);
  writeFileSync(join(policies, "a.test.txt"), policy("mx1.a.test"));
  const config = join(dir, "host.yml");
  // A long debounce and rescan: only SIGHUP can reload within the test.
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}\npolicies: hup\ncertificate: { cert: cert.pem, key: key.pem }\nreload: { debounce: 60, rescan: 3600 }\nid_check: { enabled: false }\n`,
  );
  const host = await start(["-c", config]);
  try {
    writeFileSync(join(policies, "a.test.txt"), policy("mx2.a.test"));
    host.child.kill("SIGHUP");
    for (let i = 0; i < 50 && !(await curl(port, "a.test")).includes("mx2"); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await curl(port, "a.test"), `${policy("mx2.a.test")}200`);
    writeFileSync(join(policies, "a.test.txt"), "version: STSv1\nmode: sometimes\n");
    host.child.kill("SIGHUP");
    for (let i = 0; i < 50 && !/still serving/.test(host.stderr()); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(host.stderr(), /still serving the last good version .*a\.test\.txt:2/);
    assert.equal(await curl(port, "a.test"), `${policy("mx2.a.test")}200`);
  } finally {
    host.child.kill("SIGTERM");
  }
  assert.equal(await host.exited, 0);
});

test("workers: 2 serve the same port, one /metrics sums them; SIGTERM stops them all", {
  skip: curlSkip(),
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const metricsPort = await freePort();
  const config = join(dir, "workers.yml");
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}\nmetrics_listen: 127.0.0.1:${metricsPort}\npolicies: policies\ncertificate: { cert: cert.pem, key: key.pem }\nworkers: 2\n`,
  );
  const host = await start(
    ["-c", config],
    (e) => /\[w0\] .*policy host listening/.test(e) && /\[w1\] .*policy host listening/.test(e),
  );
  try {
    for (let i = 0; i < 6; i++)
      assert.equal(await curl(port, "a.test"), `${policy("mx1.a.test")}200`);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(text, /^mtasts_host_policy_replies_total 6$/m);
    assert.match(text, /^mtasts_host_policies_served 2$/m);
  } finally {
    host.child.kill("SIGTERM");
  }
  assert.equal(await host.exited, 0);
});

test("workers that cannot listen (port in use) make the host exit 1, not restart forever", {
  timeout: 60_000,
}, async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  const port = (busy.address() as { port: number }).port;
  const config = join(dir, "busy.yml");
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}\npolicies: policies\ncertificate: { cert: cert.pem, key: key.pem }\nworkers: 2\n`,
  );
  try {
    const r = await mtasts(["host", "-c", config]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /EADDRINUSE/);
    assert.match(r.stderr, /before it was listening/);
  } finally {
    busy.close();
  }
});

test("a broken host.yml exits 2 naming the key, value and what is accepted", {
  timeout: 60_000,
}, async () => {
  const config = join(dir, "broken.yml");
  writeFileSync(config, "policies: policies\nlimits:\n  max_connections: lots\n");
  const r = await mtasts(["host", "-c", config]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /broken\.yml: limits\.max_connections = "lots": expected an integer from 1 to 1000000 \(line 3\)/,
  );
});

test("--check-config lists invalid policy files with their line and exits 1", {
  timeout: 60_000,
}, async () => {
  const policies = join(dir, "check");
  mkdirSync(policies);
  writeFileSync(join(policies, "a.test.txt"), policy("mx1.a.test"));
  writeFileSync(join(policies, "b.test.txt"), "version: STSv1\nmode: enforce\nmax_age: 1\n");
  const r = await mtasts([
    "host",
    "--check-config",
    "--policies",
    policies,
    "--listen",
    "127.0.0.1:0",
    "--cert",
    join(dir, "cert.pem"),
    "--key",
    join(dir, "key.pem"),
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /invalid: .*b\.test\.txt/);
  assert.match(r.stdout, /1 domain\(s\) served: a\.test/);
});

test("usage errors exit 2; a missing certificate file exits 1 naming it", {
  timeout: 60_000,
}, async () => {
  assert.equal((await mtasts(["host"])).code, 2);
  assert.equal((await mtasts(["host", "--policies", dir])).code, 2);
  assert.equal((await mtasts(["host", "--help"])).code, 0);
  const r = await mtasts([
    "host",
    "--policies",
    join(dir, "policies"),
    "--listen",
    "127.0.0.1:0",
    "--cert",
    join(dir, "nope.pem"),
    "--key",
    join(dir, "key.pem"),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nope\.pem.*file not found/);
});
