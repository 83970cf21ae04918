// `mtasts resolver` as an admin runs it: the real binary with a
// mta-sts-daemon.yml, asked by `mtasts resolver query` and Postfix's postmap,
// stopped with SIGTERM; a SQLite cache that survives a restart.

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { postmapQuery } from "../resolver/postmap.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
let lab: Lab;
let dir: string;

before(async () => {
  lab = await startLab(
    scenario({ domain: "good.test" }, { domain: "plain.test", faults: ["dns:sts-missing"] }),
  );
  dir = mkdtempSync(join(tmpdir(), "mtasts-resolver-cli-"));
});
after(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function configYaml(listen: string, extra = ""): string {
  return `# written by the test, PMSR keys first
${listen}
shutdown_timeout: 5
cache:
  type: sqlite
  options:
    filename: ${join(dir, "cache.db")}
default_zone:
  timeout: 3
zones:
  postfix:
    require_sni: true
dns:
  servers: ["${lab.resolver}"]
tls:
  ca_file: ${lab.caFile}
  policy_port: ${lab.httpsPort}
${extra}`;
}

async function mtasts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Daemon {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startDaemon(
  config: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Daemon> {
  const child = spawn(process.execPath, [bin, "resolver", "-c", config, ...extraArgs], {
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  let err = "";
  child.stderr?.on("data", (c) => {
    err += c;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + 20_000;
  while (!err.includes("resolver listening")) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`daemon did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stderr: () => err, exited };
}

test("resolver -c FILE serves Postfix over TCP; query and postmap agree; SIGTERM stops it cleanly", async () => {
  const port = await freePort();
  const config = join(dir, "tcp.yml");
  const pidfile = join(dir, "resolver.pid");
  writeFileSync(config, configYaml(`host: 127.0.0.1\nport: ${port}`));
  const d = await startDaemon(config, ["-p", pidfile, "-v", "info"]);
  try {
    assert.ok(existsSync(pidfile));
    const q = await mtasts(["resolver", "query", "good.test", "-c", config]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.stdout, "secure match=mx1.good.test servername=hostname\n");
    const j = await mtasts([
      "resolver",
      "query",
      "--json",
      "--socket",
      `127.0.0.1:${port}`,
      "plain.test",
    ]);
    assert.equal(j.code, 1);
    assert.deepEqual(JSON.parse(j.stdout), {
      zone: "postfix",
      key: "plain.test",
      status: "NOTFOUND",
      data: "",
    });
    const pm = await postmapQuery("good.test", `socketmap:inet:127.0.0.1:${port}:postfix`);
    assert.equal(pm.stdout, "secure match=mx1.good.test servername=hostname\n");
  } finally {
    d.child.kill("SIGTERM");
  }
  assert.equal(await d.exited, 0, d.stderr());
  assert.match(d.stderr(), /stopping signal=SIGTERM/);
  assert.ok(!existsSync(pidfile), "the pid file is removed on exit");
});

test("the SQLite cache survives a restart: the policy is served without a new fetch", async () => {
  const port = await freePort();
  const config = join(dir, "restart.yml");
  writeFileSync(config, configYaml(`port: ${port}`));
  const fetches = () =>
    lab.policyHost.requests.filter((r) => r.host.startsWith("mta-sts.good.test")).length;
  const before = fetches();
  const d = await startDaemon(config);
  try {
    const q = await mtasts(["resolver", "query", "good.test", "-c", config]);
    assert.equal(q.code, 0, q.stderr);
  } finally {
    d.child.kill("SIGTERM");
    await d.exited;
  }
  const mid = fetches();
  const again = await startDaemon(config);
  try {
    const q = await mtasts(["resolver", "query", "good.test", "-c", config]);
    assert.equal(q.stdout, "secure match=mx1.good.test servername=hostname\n");
  } finally {
    again.child.kill("SIGTERM");
    await again.exited;
  }
  assert.ok(mid <= before + 1);
  assert.equal(fetches(), mid, "the restarted daemon used the stored policy");
});

test("SM-PMSR-02 SM-PMSR-13 a unix socket with mode 0666, asked by postmap socketmap:unix", async () => {
  const sock = join(dir, "mta-sts.sock");
  const config = join(dir, "unix.yml");
  writeFileSync(config, configYaml(`path: ${sock}\nmode: 0666`));
  const d = await startDaemon(config);
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o666);
    const pm = await postmapQuery("good.test", `socketmap:unix:${sock}:postfix`);
    assert.equal(pm.stdout, "secure match=mx1.good.test servername=hostname\n");
  } finally {
    d.child.kill("SIGTERM");
    await d.exited;
  }
  assert.ok(!existsSync(sock), "the socket file is removed on exit");
});

test("SM-WEAK-02 start-up does not wait for postconf; its TLSRPT advice is logged when it answers", async () => {
  // A postconf that answers only once told to: the daemon must serve before then.
  const fakeBin = join(dir, "fake-bin");
  const go = join(dir, "postconf-go");
  mkdirSync(fakeBin, { recursive: true });
  writeFileSync(
    join(fakeBin, "postconf"),
    `#!/bin/sh\nwhile [ ! -e '${go}' ]; do sleep 0.05; done\necho 3.7.11\n`,
    { mode: 0o755 },
  );
  const port = await freePort();
  const config = join(dir, "postconf.yml");
  writeFileSync(
    config,
    configYaml(`port: ${port}`).replace("require_sni: true", "require_sni: true\n    tlsrpt: true"),
  );
  const d = await startDaemon(config, [], {
    ...process.env,
    PATH: `${fakeBin}:${process.env.PATH}`,
  });
  try {
    const q = await mtasts(["resolver", "query", "good.test", "-c", config]);
    assert.equal(q.code, 0, q.stderr);
    assert.doesNotMatch(d.stderr(), /TLSRPT/, "postconf has not answered yet");
    writeFileSync(go, "");
    const deadline = Date.now() + 20_000;
    while (
      !/Postfix 3\.7\.11 rejects the TLSRPT attributes that zones\.postfix enable/.test(d.stderr())
    ) {
      assert.ok(Date.now() < deadline, `no TLSRPT advice logged:\n${d.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    writeFileSync(go, "");
    d.child.kill("SIGTERM");
    await d.exited;
  }
});

test("--check-config prints the effective configuration; a bad file exits 2 naming the key", async () => {
  const good = join(dir, "check.yml");
  writeFileSync(good, configYaml("port: 8461"));
  const ok = await mtasts(["resolver", "--check-config", "-c", good]);
  assert.equal(ok.code, 0, ok.stderr);
  const effective = JSON.parse(ok.stdout.slice(ok.stdout.indexOf("\n") + 1));
  assert.equal(effective.listen.port, 8461);
  assert.equal(effective.cache.type, "sqlite");
  assert.equal(effective.zones.postfix.requireSni, true);

  const bad = join(dir, "bad.yml");
  writeFileSync(bad, "port: 8461\ndefault_zone:\n  timeot: 4\n");
  const r = await mtasts(["resolver", "--check-config", "-c", bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /default_zone\.timeot/);
  const missing = await mtasts(["resolver", "-c", join(dir, "nope.yml")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.yml.*cannot read/);
});

test("resolver query without a daemon: exit 3 and a message naming the address", async () => {
  const port = await freePort();
  const r = await mtasts(["resolver", "query", "good.test", "--socket", `127.0.0.1:${port}`]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`cannot reach the resolver at 127\\.0\\.0\\.1:${port}`));
});
