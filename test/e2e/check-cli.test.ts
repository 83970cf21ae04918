// `mtasts check` as scripts run it: the real binary against the lab, holding
// the --json schema and the exit codes (0 ok, 1 errors, 2 usage, 3 incomplete).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type Lab, scenario, startLab } from "../../lab/index.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
let lab: Lab;

before(async () => {
  lab = await startLab(
    scenario(
      { domain: "good.test", mx: ["mx1", "mx2"] },
      { domain: "broken.test", mx: ["mx1"], faults: ["mx1:cert-expired", "policy:redirect"] },
      { domain: "slow-dns.test", faults: ["dns:sts-timeout"] },
    ),
  );
});
after(() => lab?.close());

async function mtasts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("check --json on a healthy domain: exit 0, documented top level", async () => {
  const r = await mtasts(["check", "--json", ...lab.checkArgs(), "good.test"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ["domains"]);
  const [d] = out.domains;
  assert.equal(d.domain, "good.test");
  assert.equal(d.status, "ok");
  assert.ok(Array.isArray(d.findings));
  for (const f of d.findings) {
    assert.deepEqual(Object.keys(f).slice(0, 3), ["code", "severity", "message"]);
    assert.ok(["error", "warning", "info"].includes(f.severity));
  }
  assert.equal(d.mx.length, 2);
  assert.equal(d.policy.mode, "enforce");
});

test("check: errors found → exit 1, status error, each finding coded", async () => {
  const r = await mtasts(["check", "--json", ...lab.checkArgs(), "broken.test", "good.test"]);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.domains.map((d: { domain: string; status: string }) => [d.domain, d.status]),
    [
      ["broken.test", "error"],
      ["good.test", "ok"],
    ],
  );
  const codes = out.domains[0].findings.map((f: { code: string }) => f.code);
  assert.ok(codes.includes("mx.cert.expired"), codes.join(" "));
  assert.ok(codes.includes("fetch.redirect"), codes.join(" "));
});

test("check: a DNS timeout leaves the check incomplete → exit 3", async () => {
  const r = await mtasts([
    "check",
    "--json",
    "--timeout",
    "5",
    ...lab.checkArgs(),
    "slow-dns.test",
  ]);
  assert.equal(r.code, 3, r.stdout);
  assert.equal(JSON.parse(r.stdout).domains[0].status, "incomplete");
});

test("check text output groups findings per domain, without colour off a TTY", async () => {
  const r = await mtasts(["check", ...lab.checkArgs(), "broken.test"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^broken\.test {2}✗ errors/);
  assert.match(r.stdout, /mx\.cert\.expired/);
  assert.ok(!r.stdout.includes("\u001b["));
});

test("check usage errors exit 2", async () => {
  for (const args of [
    ["check"],
    ["check", "not a domain"],
    ["check", "--resolver", "nonsense", "good.test"],
    ["check", "--timeout", "-1", "good.test"],
    ["check", "--ca-file", "/nonexistent/ca.pem", "good.test"],
    ["check", "--bogus", "good.test"],
  ]) {
    const r = await mtasts(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^mtasts: /);
  }
});
