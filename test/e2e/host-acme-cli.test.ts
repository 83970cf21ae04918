// `mtasts host -c host.yml` with an `acme:` section, as an admin runs it: the
// real binary orders a certificate from a private pebble for the domain whose
// policy file it serves (HTTP-01 through its own port 80), then serves the
// policy over that certificate, and keeps it across a restart.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type DnsServer, startDnsServer } from "../../lab/dns-server.ts";
import { fetchFrom, policyText } from "../host/fixture.ts";
import { freePort, type Pebble, pebbleSkip, startPebble } from "../support/pebble.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const skip = pebbleSkip();
const NAME = "mta-sts.cli.acme.test";

let dir: string;
let dns: DnsServer;
let pebble: Pebble;
let httpPort: number;
let httpsPort: number;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "mtasts-host-acme-cli-"));
  dns = await startDnsServer({
    zones: [{ apex: "acme.test", records: [{ type: "A", name: NAME, address: "127.0.0.1" }] }],
  });
  httpPort = await freePort();
  httpsPort = await freePort();
  pebble = await startPebble({ dnsServer: `127.0.0.1:${dns.port}`, httpPort, tlsPort: httpsPort });
  mkdirSync(join(dir, "policies"));
  writeFileSync(join(dir, "policies", "cli.acme.test.txt"), policyText("mx1.cli.acme.test"));
  writeFileSync(join(dir, "pebble-api.pem"), pebble.apiCa);
  writeFileSync(
    join(dir, "host.yml"),
    [
      "policies: policies",
      `listen: ["127.0.0.1:${httpsPort}"]`,
      `http_listen: ["127.0.0.1:${httpPort}"]`,
      "id_check: { enabled: false }",
      "acme:",
      "  state_dir: acme-state",
      `  directory: ${pebble.directoryUrl}`,
      "  email: hostmaster@cli.acme.test",
      "  challenges: [http-01]",
      "  ca_file: pebble-api.pem",
      "",
    ].join("\n"),
  );
});

after(async () => {
  if (skip) return;
  await pebble?.close();
  await dns?.close();
  rmSync(dir, { recursive: true, force: true });
});

function startHost(): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [bin, "host", "-c", join(dir, "host.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  return { child, log: () => log };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill("SIGTERM");
  });
}

/** Fetches until the policy comes over a certificate from pebble's root (or the deadline). */
async function fetchIssued(root: string, deadline: number) {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await fetchFrom(httpsPort, root, { servername: NAME, host: NAME });
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`no policy over an issued certificate: ${(last as Error)?.message}`);
}

test("STS-FETCH-02 host -c with acme: orders a certificate through its own port 80 and serves the policy over it; a restart reuses it", {
  skip,
  timeout: 90_000,
}, async () => {
  const root = await pebble.issuingRoot();
  const first = startHost();
  try {
    const r = await fetchIssued(root, Date.now() + 45_000);
    assert.equal(r.status, 200, first.log());
    assert.equal(r.body, policyText("mx1.cli.acme.test"));
    assert.match(first.log(), /ACME HTTP-01 challenge/);
    assert.equal(await stop(first.child), 0, first.log());
  } finally {
    first.child.kill("SIGKILL");
  }
  const stored = readdirSync(join(dir, "acme-state"), { recursive: true }).map(String);
  assert.ok(
    stored.some((f) => f.includes(NAME)),
    stored.join(", "),
  );
  // Restarted: the stored certificate is served at once, with no new order.
  const second = startHost();
  try {
    const r = await fetchIssued(root, Date.now() + 20_000);
    assert.equal(r.status, 200);
    assert.doesNotMatch(second.log(), /ACME HTTP-01 challenge/);
    assert.equal(await stop(second.child), 0, second.log());
  } finally {
    second.child.kill("SIGKILL");
  }
});
