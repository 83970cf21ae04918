// `mtasts generate` as scripts run it: the real binary, every format, the
// JSON contract fixed by issue 6, output our own `validate` accepts, the
// live MX from the lab's DNS, and exit 2 naming the bad argument.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const NOW = "2026-12-02T08:15:30Z";
let lab: Lab;

before(async () => {
  lab = await startLab(scenario({ domain: "live.test", mx: ["mx1", "mx2"], smtp: false }));
});
after(() => lab?.close());

function mtasts(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

const base = ["generate", "example.com", "--offline", "--now", NOW, "--mx", "mx1.example.com"];

test("--format json prints exactly policy and records (name, type, value) first", async () => {
  const r = await mtasts([
    ...base,
    "--format",
    "json",
    "--rua",
    "mailto:tlsrpt@example.com",
    "--host-address",
    "192.0.2.1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out).slice(0, 2), ["policy", "records"]);
  assert.equal(out.policy, "version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 604800\n");
  assert.deepEqual(
    out.records.map((x: { name: string; type: string; value: string }) => [
      x.name,
      x.type,
      x.value,
    ]),
    [
      ["mta-sts.example.com", "A", "192.0.2.1"],
      ["_smtp._tls.example.com", "TXT", "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"],
      ["_mta-sts.example.com", "TXT", "v=STSv1; id=20261202081530;"],
    ],
  );
  // What we print, our own validator accepts.
  const policy = await mtasts(
    ["validate", "policy", "--json", "--mx", "mx1.example.com", "-"],
    out.policy,
  );
  assert.equal(policy.code, 0, policy.stdout);
  assert.deepEqual(JSON.parse(policy.stdout).diagnostics, []);
  for (const rec of out.records.filter((x: { type: string }) => x.type === "TXT")) {
    const kind = rec.name.startsWith("_mta-sts") ? "sts-record" : "tlsrpt-record";
    const v = await mtasts(["validate", kind, "--json", rec.value]);
    assert.equal(v.code, 0, v.stdout);
    assert.deepEqual(JSON.parse(v.stdout).diagnostics, []);
  }
});

test("--format zone prints the policy as comments and quoted zone lines", async () => {
  const r = await mtasts([
    ...base,
    "--format",
    "zone",
    "--ttl",
    "300",
    "--host-address",
    "2001:db8::1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.ok(lines.filter((l) => !l.startsWith(";")).length === 2, r.stdout);
  assert.ok(lines.includes(";   mode: testing"), r.stdout);
  assert.deepEqual(
    lines.filter((l) => !l.startsWith(";")),
    [
      "mta-sts.example.com.\t300\tIN\tAAAA\t2001:db8::1",
      '_mta-sts.example.com.\t300\tIN\tTXT\t"v=STSv1; id=20261202081530;"',
    ],
  );
});

test("--format nsupdate prints a script that replaces the records and sends", async () => {
  const r = await mtasts([
    ...base,
    "--format",
    "nsupdate",
    "--rua",
    "https://reports.example.com/v1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const commands = r.stdout.split("\n").filter((l) => l !== "" && !l.startsWith(";"));
  assert.deepEqual(commands, [
    "update delete _smtp._tls.example.com. TXT",
    'update add _smtp._tls.example.com. 3600 TXT "v=TLSRPTv1; rua=https://reports.example.com/v1"',
    "update delete _mta-sts.example.com. TXT",
    'update add _mta-sts.example.com. 3600 TXT "v=STSv1; id=20261202081530;"',
    "send",
  ]);
});

test("the default text view shows the policy, then the records; notes go to stderr", async () => {
  const r = await mtasts(base);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stdout.indexOf("mode: testing") < r.stdout.indexOf("_mta-sts.example.com."),
    r.stdout,
  );
  assert.match(r.stderr, /generate\.host\.unset/);
});

test("STS-OPS-02 --delegate-to prints the customer's two CNAMEs and what the provider publishes", async () => {
  const r = await mtasts([
    "generate",
    "customer.example",
    "--offline",
    "--now",
    NOW,
    "--mx",
    "mx.provider.net",
    "--delegate-to",
    "mta-sts.provider.net",
    "--format",
    "json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.records.map((x: { name: string; type: string; value: string }) => [
      x.name,
      x.type,
      x.value,
    ]),
    [
      ["mta-sts.customer.example", "CNAME", "mta-sts.provider.net"],
      ["_mta-sts.customer.example", "CNAME", "_mta-sts.provider.net"],
    ],
  );
  assert.equal(out.provider_records[0].name, "_mta-sts.provider.net");
});

test("STS-MX-01 --from-dns reads the lab's MX; --mx warns for the MX it leaves out", async () => {
  const live = await mtasts([
    "generate",
    "live.test",
    "--from-dns",
    "--resolver",
    lab.resolver,
    "--format",
    "json",
  ]);
  assert.equal(live.code, 0, live.stderr);
  assert.deepEqual(JSON.parse(live.stdout).live_mx, ["mx1.live.test", "mx2.live.test"]);
  assert.match(JSON.parse(live.stdout).policy, /mx: mx1\.live\.test\nmx: mx2\.live\.test\n/);
  const partial = await mtasts([
    "generate",
    "live.test",
    "--mx",
    "mx1.live.test",
    "--resolver",
    lab.resolver,
  ]);
  assert.equal(partial.code, 0, partial.stderr);
  assert.match(partial.stderr, /warning generate\.mx\.not-covered: .*mx2\.live\.test/);
  const json = await mtasts([
    "generate",
    "live.test",
    "--mx",
    "mx1.live.test",
    "--resolver",
    lab.resolver,
    "--format",
    "json",
  ]);
  assert.equal(json.stderr, "", "JSON carries its warnings inside");
  assert.deepEqual(
    JSON.parse(json.stdout).warnings.map((w: { code: string }) => w.code),
    ["generate.mx.not-covered", "generate.host.unset"],
  );
  const nomx = await mtasts([
    "generate",
    "nothing.live.test",
    "--from-dns",
    "--resolver",
    lab.resolver,
  ]);
  assert.equal(nomx.code, 1, nomx.stderr);
  assert.match(nomx.stderr, /has no MX records; give the patterns with --mx/);
});

test("bad input: exit 2, the message names the argument", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["generate", "bücher..example", "--mx", "mx.example.com"],
      /<domain>: "bücher\.\.example" is not a domain name/,
    ],
    [["generate", "xn--a.example", "--mx", "mx.example.com"], /<domain>: .*Punycode/],
    [["generate", `${"x".repeat(250)}.com`, "--mx", "mx.example.com"], /<domain>:/],
    [[...base, "--max-age", "0"], /--max-age: 0 is out of range/],
    [[...base, "--max-age", "99999999"], /--max-age: 99999999 is out of range/],
    [
      [...base, "--rua", "http://example.com/r"],
      /--rua: "http:\/\/example\.com\/r" is not a report address/,
    ],
    [[...base, "--format", "yaml"], /--format "yaml" is not one of/],
    [["generate", "example.com", "--offline"], /--mx: the policy needs MX patterns/],
    [["generate", "example.com", "--from-dns", "--offline"], /--offline: --from-dns reads DNS/],
    [["generate"], /generate needs a domain/],
    [[...base, "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, expected] of cases) {
    const r = await mtasts(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.equal(r.stdout, "");
  }
});
