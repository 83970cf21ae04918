// generate as a library: checked flags, the policy and records it builds
// (re-parsed by our own validators), and the live MX from the lab's DNS.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { createResolver } from "../../src/adapters/dns.ts";
import { parsePolicy } from "../../src/core/policy.ts";
import { parseStsRecord } from "../../src/core/sts-record.ts";
import { parseTlsrptRecord } from "../../src/core/tlsrpt-record.ts";
import {
  freshId,
  type GenerateRequest,
  generate,
  nsupdateScript,
  txtStrings,
  zoneLine,
} from "../../src/generate/index.ts";

const NOW = new Date("2026-12-02T08:15:30Z");
const offline = (r: Omit<GenerateRequest, "offline">) => ok({ ...r, offline: true });

async function ok(r: GenerateRequest, resolver?: ReturnType<typeof createResolver>) {
  const out = await generate(r, { now: () => NOW, ...(resolver ? { resolver } : {}) });
  assert.ok(out.ok, JSON.stringify(!out.ok && out.failure));
  return out.value;
}

async function refused(r: GenerateRequest): Promise<string[]> {
  const out = await generate({ offline: true, ...r }, { now: () => NOW });
  assert.equal(out.ok, false, `expected a refusal of ${JSON.stringify(r)}`);
  assert.ok(!out.ok && out.failure.kind === "usage", JSON.stringify(!out.ok && out.failure));
  return out.failure.kind === "usage"
    ? out.failure.errors.map((e) => `${e.argument}: ${e.message}`)
    : [];
}

test("the id is the injected clock as UTC YYYYMMDDHHMMSS, and never the previous id", () => {
  assert.equal(freshId(NOW), "20261202081530");
  assert.equal(freshId(NOW, "20261202081530"), "20261202081531");
  const id = freshId(new Date("9999-12-31T23:59:59Z"));
  assert.match(id, /^[A-Za-z0-9]{1,32}$/);
});

test("policy and records re-parse cleanly with our validators", async () => {
  const g = await ok({
    domain: "Example.COM.",
    mode: "enforce",
    mx: ["MX1.example.com", "*.mail.example.com", "mx1.example.com"],
    rua: ["tlsrpt@example.com", "https://reports.example.com/tlsrpt"],
    hostAddresses: ["192.0.2.7", "2001:db8::7"],
    offline: true,
  });
  assert.equal(g.domain, "example.com");
  const policy = parsePolicy(g.policy);
  assert.ok(policy.ok);
  assert.deepEqual(policy.diagnostics, []);
  assert.equal(policy.value.mode, "enforce");
  assert.equal(policy.value.max_age, 1_209_600, "enforce defaults to two weeks");
  assert.deepEqual(policy.value.mx, ["mx1.example.com", "*.mail.example.com"]);
  const byName = (n: string) => g.records.filter((r) => r.name === n);
  const sts = byName("_mta-sts.example.com");
  assert.equal(sts.length, 1);
  const stsParsed = parseStsRecord(sts[0]?.value ?? "");
  assert.ok(stsParsed.ok);
  assert.equal(stsParsed.value.id, "20261202081530");
  assert.deepEqual(stsParsed.diagnostics, []);
  const rpt = parseTlsrptRecord(byName("_smtp._tls.example.com")[0]?.value ?? "");
  assert.ok(rpt.ok);
  assert.deepEqual(rpt.value.rua, [
    "mailto:tlsrpt@example.com",
    "https://reports.example.com/tlsrpt",
  ]);
  assert.deepEqual(
    byName("mta-sts.example.com").map((r) => [r.type, r.value]),
    [
      ["A", "192.0.2.7"],
      ["AAAA", "2001:db8::7"],
    ],
  );
});

test("STS-OPS-01 the records come policy host first and the _mta-sts id last", async () => {
  const g = await offline({
    domain: "example.com",
    mx: ["mx.example.com"],
    rua: ["mailto:r@example.com"],
    hostAddresses: ["192.0.2.1"],
  });
  assert.deepEqual(
    g.records.map((r) => r.name),
    ["mta-sts.example.com", "_smtp._tls.example.com", "_mta-sts.example.com"],
  );
  assert.equal(g.mode, "testing");
  assert.equal(g.maxAge, 604_800, "testing defaults to one week");
});

test("STS-OPS-02 delegation prints the customer's CNAMEs and the provider's TXT", async () => {
  const g = await offline({
    domain: "customer.example",
    mx: ["mx.provider.net"],
    delegateTo: "mta-sts.provider.net",
  });
  assert.deepEqual(
    g.records.map((r) => [r.name, r.type, r.value]),
    [
      ["mta-sts.customer.example", "CNAME", "mta-sts.provider.net"],
      ["_mta-sts.customer.example", "CNAME", "_mta-sts.provider.net"],
    ],
  );
  assert.deepEqual(
    g.provider.map((r) => [r.name, r.type]),
    [["_mta-sts.provider.net", "TXT"]],
  );
  assert.ok(parseStsRecord(g.provider[0]?.value ?? "").ok);
  assert.ok(
    g.warnings.some(
      (w) => w.code === "generate.delegated" && w.message.includes("mta-sts.customer.example"),
    ),
  );
  const own = await offline({
    domain: "customer.example",
    mx: ["mx.provider.net"],
    delegateTo: "policy.provider.net",
    delegateRecord: "_mta-sts-customer.provider.net",
  });
  assert.equal(own.records[1]?.value, "_mta-sts-customer.provider.net");
});

test("IDN domains and patterns come out as A-labels", async () => {
  const g = await offline({
    domain: "bücher.example",
    mx: ["mx.bücher.example", "*.bücher.example"],
  });
  assert.equal(g.domain, "xn--bcher-kva.example");
  assert.deepEqual(g.mx, ["mx.xn--bcher-kva.example", "*.xn--bcher-kva.example"]);
  assert.ok(parsePolicy(g.policy).ok);
  assert.equal(g.records.at(-1)?.name, "_mta-sts.xn--bcher-kva.example");
});

test("bad input is refused with the argument named", async () => {
  const cases: [GenerateRequest, RegExp][] = [
    [
      { domain: "exa mple.com", mx: ["mx.example.com"] },
      /^<domain>: "exa mple\.com" is not a domain name/,
    ],
    [{ domain: "192.0.2.1", mx: ["mx.example.com"] }, /^<domain>: .* is not a domain name/],
    [{ domain: `${"a".repeat(64)}.example`, mx: ["mx.example.com"] }, /^<domain>:/],
    [
      { domain: `${"abcdefghi.".repeat(24)}com`, mx: ["mx.example.com"] },
      /^<domain>: .*253-character limit/,
    ],
    [{ domain: "xn--a.example", mx: ["mx.example.com"] }, /^<domain>: .*not valid Punycode/],
    [{ domain: "-bücher.example", mx: ["mx.example.com"] }, /^<domain>: .*hyphen/],
    [{ domain: "a\u202eb.example", mx: ["mx.example.com"] }, /^<domain>: .*not a domain name/],
    [{ domain: "localhost", mx: ["mx.example.com"] }, /^<domain>: .*one label/],
    [
      { domain: "example.com", mx: ["mx.example.com"], maxAge: "0" },
      /^--max-age: 0 is out of range/,
    ],
    [
      { domain: "example.com", mx: ["mx.example.com"], maxAge: "31557601" },
      /^--max-age: 31557601 is out of range/,
    ],
    [
      { domain: "example.com", mx: ["mx.example.com"], maxAge: "1w" },
      /^--max-age: "1w" is not a whole number/,
    ],
    [
      { domain: "example.com", mx: ["mx.example.com"], mode: "Enforce" },
      /^--mode: "Enforce" is not a mode/,
    ],
    [{ domain: "example.com", mx: ["mx..example.com"] }, /^--mx: "mx\.\.example\.com"/],
    [{ domain: "example.com", mx: ["mail.*.example.com"] }, /^--mx:/],
    [{ domain: "example.com", mx: ["192.0.2.1"] }, /^--mx: .*address/],
    [
      { domain: "example.com", mx: ["mx.example.com"], rua: ["ftp://example.com/x"] },
      /^--rua: .*ftp:/,
    ],
    [
      {
        domain: "example.com",
        mx: ["mx.example.com"],
        rua: ["mailto:a@example.com,b@example.com"],
      },
      /^--rua:/,
    ],
    [
      { domain: "example.com", mx: ["mx.example.com"], hostAddresses: ["mta-sts.example.com"] },
      /^--host-address:/,
    ],
    [
      {
        domain: "example.com",
        mx: ["mx.example.com"],
        delegateTo: "p.example",
        hostAddresses: ["192.0.2.1"],
      },
      /^--host-address: give either/,
    ],
    [{ domain: "example.com" }, /^--mx: the policy needs MX patterns/],
    [{ domain: "example.com", mx: ["mx.example.com"], ttl: "0" }, /^--ttl:/],
  ];
  for (const [request, expected] of cases) {
    const errors = await refused(request);
    assert.ok(
      errors.some((e) => expected.test(e)),
      `${JSON.stringify(request)} → ${JSON.stringify(errors)} (wanted ${expected})`,
    );
  }
});

test("enforce with a short max_age is built, with the check's warning", async () => {
  const g = await offline({
    domain: "example.com",
    mode: "enforce",
    maxAge: "86400",
    mx: ["mx.example.com"],
  });
  assert.ok(g.warnings.some((w) => w.code === "policy.max-age.short"));
});

test("TXT values longer than 255 bytes are split into strings that join back", () => {
  const value = `v=TLSRPTv1; rua=${Array.from({ length: 12 }, (_, i) => `mailto:reports-${i}@a-rather-long-domain-name.example`).join(",")}`;
  const text = txtStrings(value);
  const strings = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
  assert.ok(strings.length > 1);
  for (const s of strings) assert.ok(Buffer.byteLength(s) <= 255, `${s.length}`);
  assert.equal(strings.join(""), value);
  assert.equal(txtStrings('a"b\\c'), '"a\\"b\\\\c"');
  const line = zoneLine({ name: "_smtp._tls.example.com", type: "TXT", value, ttl: 300 });
  assert.match(line, /^_smtp\._tls\.example\.com\.\t300\tIN\tTXT\t"/);
});

test("the nsupdate script replaces each RRset, clears a CNAME's name, and ends with send", () => {
  const script = nsupdateScript([
    { name: "mta-sts.example.com", type: "A", value: "192.0.2.1", ttl: 60 },
    { name: "mta-sts.example.com", type: "A", value: "192.0.2.2", ttl: 60 },
    { name: "_mta-sts.example.com", type: "CNAME", value: "_mta-sts.provider.net", ttl: 60 },
  ]);
  assert.equal(
    script,
    [
      "update delete mta-sts.example.com. A",
      "update add mta-sts.example.com. 60 A 192.0.2.1",
      "update add mta-sts.example.com. 60 A 192.0.2.2",
      "update delete _mta-sts.example.com.",
      "update add _mta-sts.example.com. 60 CNAME _mta-sts.provider.net.",
      "send",
      "",
    ].join("\n"),
  );
});

describe("against the lab's DNS", () => {
  let lab: Lab;
  let resolver: ReturnType<typeof createResolver>;
  before(async () => {
    lab = await startLab(
      scenario(
        { domain: "two.test", mx: ["mx1", "mx2"], smtp: false },
        { domain: "nomx.test", faults: ["dns:mx-none"], smtp: false },
        { domain: "broken.test", faults: ["dns:mx-servfail"], smtp: false },
      ),
    );
    resolver = createResolver({
      servers: [{ host: lab.dns.address, port: lab.dns.port }],
      timeoutMs: 1500,
      attempts: 1,
    });
  });
  after(() => lab?.close());

  test("STS-MX-01 --from-dns makes exact patterns from the live MX, in preference order", async () => {
    const g = await ok({ domain: "two.test", fromDns: true }, resolver);
    assert.deepEqual(g.mx, ["mx1.two.test", "mx2.two.test"]);
    assert.deepEqual(g.liveMx, ["mx1.two.test", "mx2.two.test"]);
    assert.deepEqual(
      g.warnings.filter((w) => w.code.startsWith("generate.mx")),
      [],
    );
  });

  test("STS-MX-01 --mx warns for each live MX the patterns leave out, and notes idle patterns", async () => {
    const g = await ok({ domain: "two.test", mx: ["mx1.two.test", "mx9.two.test"] }, resolver);
    const codes = g.warnings.map((w) => [w.code, w.severity]);
    assert.deepEqual(
      codes.filter(([c]) => String(c).startsWith("generate.mx")),
      [
        ["generate.mx.not-covered", "warning"],
        ["generate.mx.unused", "info"],
      ],
    );
    assert.match(g.warnings[0]?.message ?? "", /mx2\.two\.test/);
    const wild = await ok({ domain: "two.test", mx: ["*.two.test"] }, resolver);
    assert.deepEqual(
      wild.warnings.filter((w) => w.code.startsWith("generate.mx")),
      [],
    );
  });

  test("--from-dns refuses a domain without MX, and a failed look-up is not guessed around", async () => {
    const none = await generate(
      { domain: "nomx.test", fromDns: true },
      { resolver, now: () => NOW },
    );
    assert.ok(!none.ok && none.failure.kind === "no-mx", JSON.stringify(none));
    const failed = await generate(
      { domain: "broken.test", fromDns: true },
      { resolver, now: () => NOW },
    );
    assert.ok(!failed.ok && failed.failure.kind === "dns", JSON.stringify(failed));
    const warned = await ok({ domain: "broken.test", mx: ["mx1.broken.test"] }, resolver);
    assert.ok(warned.warnings.some((w) => w.code === "generate.mx.lookup-failed"));
  });
});
