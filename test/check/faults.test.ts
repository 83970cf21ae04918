// Every named lab fault, checked end to end against real DNS, HTTPS and SMTP
// servers on loopback: `check` must report the exact catalogue code for it.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type DomainSpec, type Lab, scenario, startLab } from "../../lab/index.ts";
import { checkDomain, type DomainResult } from "../../src/check/index.ts";

interface Case {
  spec: DomainSpec;
  code: string;
  status?: DomainResult["status"];
  subject?: string;
}

const c = (
  name: string,
  faults: DomainSpec["faults"],
  code: string,
  extra: Partial<DomainSpec> = {},
  status?: DomainResult["status"],
): Case => ({
  spec: { domain: `${name}.test`, mx: ["mx1", "mx2"], faults, ...extra },
  code,
  ...(status ? { status } : {}),
});

const cases: Case[] = [
  // DNS
  c("sts-missing", ["dns:sts-missing"], "dns.sts-record.missing", {}, "error"),
  c("sts-multiple", ["dns:sts-multiple"], "sts-record.count.multiple", {}, "error"),
  c("sts-invalid", ["dns:sts-invalid"], "sts-record.id.invalid-char", {}, "error"),
  c("sts-servfail", ["dns:sts-servfail"], "dns.lookup.failed", {}, "error"),
  c("sts-timeout", ["dns:sts-timeout"], "dns.lookup.timeout", {}, "incomplete"),
  c("sts-cname", ["dns:sts-cname"], "dns.sts-record.cname", {}, "ok"),
  c("sts-cname-loop", ["dns:sts-cname-loop"], "dns.lookup.failed", {}, "error"),
  c("tlsrpt-missing", [], "dns.tlsrpt-record.missing", { tlsrpt: false }, "warning"),
  c("tlsrpt-invalid", ["dns:tlsrpt-invalid"], "tlsrpt-record.rua.missing"),
  c("mx-none", ["dns:mx-none"], "dns.mx.implicit"),
  c("mx-servfail", ["dns:mx-servfail"], "dns.lookup.failed", {}, "error"),
  c("policy-host-missing", ["dns:policy-host-missing"], "fetch.dns", {}, "error"),
  // Policy host
  c("policy-404", ["policy:404"], "fetch.status", {}, "error"),
  c("policy-500", ["policy:500"], "fetch.status", {}, "error"),
  c("policy-redirect", ["policy:redirect"], "fetch.redirect", {}, "error"),
  c("policy-html", ["policy:content-type-html"], "fetch.content-type", {}, "error"),
  c("policy-no-ct", ["policy:no-content-type"], "fetch.content-type", {}, "error"),
  c("policy-latin1", ["policy:charset-latin1"], "fetch.charset", {}, "warning"),
  c("policy-oversize", ["policy:oversize"], "fetch.too-large", {}, "error"),
  c("policy-slow-body", ["policy:slow-body"], "fetch.timeout", {}, "error"),
  c("policy-slow-headers", ["policy:slow-headers"], "fetch.timeout", {}, "error"),
  c("policy-tls10", ["policy:tls-1.0"], "fetch.tls", {}, "error"),
  c("policy-no-cert", ["policy:no-cert"], "fetch.tls", {}, "error"),
  c("policy-invalid", ["policy:invalid"], "policy.max-age.out-of-range", {}, "error"),
  c("policy-mx-not-covered", ["policy:mx-not-covered"], "mx.not-covered", {}, "error"),
  c("policy-cert-expired", ["policy:cert-expired"], "fetch.certificate.expired", {}, "error"),
  c(
    "policy-cert-future",
    ["policy:cert-not-yet-valid"],
    "fetch.certificate.not-yet-valid",
    {},
    "error",
  ),
  c("policy-cert-name", ["policy:cert-wrong-name"], "fetch.certificate.name-mismatch", {}, "error"),
  c("policy-cert-self", ["policy:cert-self-signed"], "fetch.certificate.untrusted", {}, "error"),
  c("policy-cert-root", ["policy:cert-untrusted-root"], "fetch.certificate.untrusted", {}, "error"),
  c(
    "policy-cert-chain",
    ["policy:cert-missing-intermediate"],
    "fetch.certificate.untrusted",
    {},
    "error",
  ),
  c("policy-cert-cn", ["policy:cert-cn-only"], "fetch.certificate.name-mismatch", {}, "error"),
  // MX hosts
  c("mx-no-starttls", ["mx2:no-starttls"], "mx.starttls.missing", {}, "error"),
  c("mx-starttls-refused", ["mx2:starttls-refused"], "mx.starttls.refused", {}, "error"),
  c("mx-tls10", ["mx2:tls-1.0"], "mx.tls.version", {}, "error"),
  c("mx-close", ["mx2:close-after-ehlo"], "mx.smtp", {}, "error"),
  c("mx-421", ["mx2:greeting-421"], "mx.smtp", {}, "error"),
  c("mx-slow", ["mx2:slow-greeting"], "mx.timeout", {}, "error"),
  c("mx-garbage", ["mx2:garbage"], "mx.smtp", {}, "error"),
  c("mx-down", ["mx2:down"], "mx.connect", {}, "error"),
  c("mx-no-address", ["mx2:no-address"], "dns.mx.no-address", {}, "error"),
  c("mx-cert-expired", ["mx2:cert-expired"], "mx.cert.expired", {}, "error"),
  c("mx-cert-expiring", ["mx2:cert-expiring"], "mx.cert.expiring", {}, "warning"),
  c("mx-cert-future", ["mx2:cert-not-yet-valid"], "mx.cert.not-yet-valid", {}, "error"),
  c("mx-cert-name", ["mx2:cert-wrong-name"], "mx.cert.name-mismatch", {}, "error"),
  c("mx-cert-self", ["mx2:cert-self-signed"], "mx.cert.untrusted", {}, "error"),
  c("mx-cert-root", ["mx2:cert-untrusted-root"], "mx.cert.untrusted", {}, "error"),
  c("mx-cert-chain", ["mx2:cert-missing-intermediate"], "mx.cert.untrusted", {}, "error"),
  c("mx-cert-cn", ["mx2:cert-cn-only"], "mx.cert.name-mismatch", {}, "error"),
  // DANE
  c("dane-ok", [], "dane.tlsa.match", { dane: true }, "ok"),
  c("dane-mismatch", ["mx2:tlsa-mismatch"], "dane.tlsa.mismatch", { dane: true }, "error"),
  c("dane-insecure", ["mx2:tlsa-insecure"], "dane.tlsa.insecure", {}, "warning"),
  // Policy advice
  c("mode-testing", [], "policy.mode.testing", { mode: "testing" }, "ok"),
  c("mode-none", [], "policy.mode.none", { mode: "none" }, "warning"),
  c("max-age-short", [], "policy.max-age.short", { maxAge: 3600 }, "warning"),
  c("broad-wildcard", [], "mx.pattern.broad", { policyMx: ["*.broad-wildcard.test"] }, "warning"),
  c(
    "unused-pattern",
    [],
    "mx.pattern.unused",
    { policyMx: ["mx1.unused-pattern.test", "mx2.unused-pattern.test", "old.unused-pattern.test"] },
    "ok",
  ),
];

let lab: Lab;
const results = new Map<string, DomainResult>();

before(async () => {
  lab = await startLab(
    scenario({ domain: "healthy.test", mx: ["mx1", "mx2", "mx3"] }, ...cases.map((k) => k.spec)),
  );
  const deps = lab.checkDeps();
  // A few domains at a time, as a polite scanner would: a burst of hundreds
  // of parallel UDP queries is lost on loopback as it is on real networks.
  const queue = ["healthy.test", ...cases.map((k) => k.spec.domain)];
  const worker = async () => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      const r = await checkDomain(d, deps, { ...lab.checkOptions, timeoutMs: 4000 });
      results.set(r.domain, r);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
});

after(async () => {
  await lab?.close();
});

test("a healthy domain with three MX hosts is ok, each MX passes MTA-STS", () => {
  const r = results.get("healthy.test");
  assert.ok(r);
  assert.equal(r.status, "ok", JSON.stringify(r.findings, null, 1));
  assert.equal(r.mx.length, 3);
  for (const mx of r.mx) {
    assert.equal(mx.stsValid, true, mx.host);
    assert.equal(mx.covered, true);
    assert.match(mx.tls?.version ?? "", /^TLSv1\.[23]$/);
  }
  assert.equal(r.policy?.mode, "enforce");
  assert.equal(r.findings.filter((f) => f.code === "mx.tls.ok").length, 3);
});

test("describePolicyCertificate: false skips the policy host's certificate, and only that", async () => {
  const deps = lab.checkDeps();
  const full = results.get("healthy.test");
  assert.ok(full?.policy?.certificate, "by default the policy host's certificate is described");
  const lean = await checkDomain("healthy.test", deps, {
    ...lab.checkOptions,
    timeoutMs: 4000,
    describePolicyCertificate: false,
  });
  assert.equal(lean.policy?.certificate, undefined);
  assert.equal(lean.status, full.status);
  assert.deepEqual(
    lean.findings.map((f) => f.code),
    full.findings.map((f) => f.code),
  );
  // A certificate that fails verification is still described, whatever the option.
  const bad = cases.find((k) => k.code === "fetch.certificate.expired");
  assert.ok(bad);
  const failed = await checkDomain(bad.spec.domain, deps, {
    ...lab.checkOptions,
    timeoutMs: 4000,
    describePolicyCertificate: false,
  });
  assert.ok(failed.policy?.certificate, "the refused certificate is shown");
});

for (const k of cases) {
  test(`fault ${k.spec.faults?.join(",") || JSON.stringify(Object.fromEntries(Object.entries(k.spec).filter(([key]) => !["domain", "mx"].includes(key))))} → ${k.code}`, () => {
    const r = results.get(k.spec.domain);
    assert.ok(r, `no result for ${k.spec.domain}`);
    const codes = r.findings.map((f) => f.code);
    assert.ok(
      codes.includes(k.code),
      `${k.spec.domain}: expected ${k.code}, got ${codes.join(", ")}`,
    );
    if (k.status)
      assert.equal(r.status, k.status, `${k.spec.domain} status; findings: ${codes.join(", ")}`);
    for (const f of r.findings) assert.ok(f.message.length > 20, `${f.code} has a message`);
  });
}
