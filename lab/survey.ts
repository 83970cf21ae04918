// Worlds for surveys (`mtasts scan` tests and benchmarks): many domains in
// the proportions a real list has (most publish nothing), every lab fault
// that a scan sees without connecting to an MX, slow and hanging servers,
// and each domain's expected verdict. Domains carry no SMTP server unless
// they are MX cases, so even 100,000 of them build in seconds.

import type { PolicyMode } from "../src/core/policy.ts";
import type { DomainSpec, Fault } from "./scenario.ts";

export type Verdict = "ok" | "warning" | "error" | "none";

export interface SurveyDomain {
  spec: DomainSpec;
  /** What to give the scan (differs from spec.domain for IDN). */
  input: string;
  expect: {
    status: Verdict;
    mode: PolicyMode | null;
    /** A code the findings must include. */
    code?: string;
  };
}

type Case = [
  name: string,
  spec: Partial<DomainSpec>,
  status: Verdict,
  mode: PolicyMode | null,
  code?: string,
];

const f = (...faults: Fault[]): Partial<DomainSpec> => ({ faults });

/** Every fault a scan without --probe-mx can see, and the policy advice, once each. */
const POLICY_CASES: Case[] = [
  ["sts-missing", f("dns:sts-missing"), "none", null, "dns.sts-record.missing"],
  ["sts-multiple", f("dns:sts-multiple"), "error", "enforce", "sts-record.count.multiple"],
  ["sts-invalid", f("dns:sts-invalid"), "error", "enforce", "sts-record.id.invalid-char"],
  ["sts-servfail", f("dns:sts-servfail"), "error", "enforce", "dns.lookup.failed"],
  ["sts-timeout", f("dns:sts-timeout"), "error", "enforce", "dns.lookup.timeout"],
  ["sts-garbage", f("dns:sts-garbage"), "error", "enforce", "dns.lookup.failed"],
  ["sts-cname", f("dns:sts-cname"), "ok", "enforce", "dns.sts-record.cname"],
  ["sts-cname-loop", f("dns:sts-cname-loop"), "error", "enforce", "dns.lookup.failed"],
  ["tlsrpt-invalid", f("dns:tlsrpt-invalid"), "error", "enforce", "tlsrpt-record.rua.missing"],
  ["tlsrpt-missing", { tlsrpt: false }, "warning", "enforce", "dns.tlsrpt-record.missing"],
  ["mx-none", f("dns:mx-none"), "warning", "enforce", "dns.mx.implicit"],
  ["mx-servfail", f("dns:mx-servfail"), "error", "enforce", "dns.lookup.failed"],
  ["policy-host-missing", f("dns:policy-host-missing"), "error", null, "fetch.dns"],
  ["policy-404", f("policy:404"), "error", null, "fetch.status"],
  ["policy-500", f("policy:500"), "error", null, "fetch.status"],
  ["policy-redirect", f("policy:redirect"), "error", null, "fetch.redirect"],
  ["policy-html", f("policy:content-type-html"), "error", null, "fetch.content-type"],
  ["policy-no-ct", f("policy:no-content-type"), "error", null, "fetch.content-type"],
  ["policy-latin1", f("policy:charset-latin1"), "warning", "enforce", "fetch.charset"],
  ["policy-oversize", f("policy:oversize"), "error", null, "fetch.too-large"],
  ["policy-slow-body", f("policy:slow-body"), "error", null, "fetch.timeout"],
  ["policy-slow-headers", f("policy:slow-headers"), "error", null, "fetch.timeout"],
  ["policy-tls10", f("policy:tls-1.0"), "error", null, "fetch.tls"],
  ["policy-no-cert", f("policy:no-cert"), "error", null, "fetch.tls"],
  ["policy-invalid", f("policy:invalid"), "error", null, "policy.max-age.out-of-range"],
  [
    "policy-mx-not-covered",
    { mx: ["mx1", "mx2"], faults: ["policy:mx-not-covered"] },
    "error",
    "enforce",
    "mx.not-covered",
  ],
  ["cert-expired", f("policy:cert-expired"), "error", null, "fetch.certificate.expired"],
  ["cert-future", f("policy:cert-not-yet-valid"), "error", null, "fetch.certificate.not-yet-valid"],
  ["cert-name", f("policy:cert-wrong-name"), "error", null, "fetch.certificate.name-mismatch"],
  ["cert-self", f("policy:cert-self-signed"), "error", null, "fetch.certificate.untrusted"],
  ["cert-root", f("policy:cert-untrusted-root"), "error", null, "fetch.certificate.untrusted"],
  [
    "cert-chain",
    f("policy:cert-missing-intermediate"),
    "error",
    null,
    "fetch.certificate.untrusted",
  ],
  ["cert-cn", f("policy:cert-cn-only"), "error", null, "fetch.certificate.name-mismatch"],
  ["cert-absurd", f("policy:cert-absurd-fields"), "ok", "enforce"],
  ["mode-testing", { mode: "testing" }, "ok", "testing", "policy.mode.testing"],
  ["mode-none", { mode: "none" }, "warning", "none", "policy.mode.none"],
  ["max-age-short", { maxAge: 3600 }, "warning", "enforce", "policy.max-age.short"],
  ["broad", { policyMx: ["*.broad.survey.test"] }, "warning", "enforce", "mx.pattern.broad"],
];

/** The faults that hang a server: each one costs a scan its per-domain time bound. */
export const HANGING = new Set(["sts-timeout", "policy-slow-body", "policy-slow-headers"]);

/**
 * Those, and garbage DNS answers (a resolver ignores what does not match its
 * question and waits for the real answer until its own timeout).
 */
export const WAITING = new Set([...HANGING, "sts-garbage"]);

/** MX faults only --probe-mx sees (two MX hosts, the second broken), with their verdicts. */
const MX_CASES: Case[] = [
  ["mx-healthy", {}, "ok", "enforce", "mx.tls.ok"],
  ["mx-no-starttls", f("mx2:no-starttls"), "error", "enforce", "mx.starttls.missing"],
  ["mx-starttls-refused", f("mx2:starttls-refused"), "error", "enforce", "mx.starttls.refused"],
  ["mx-tls10", f("mx2:tls-1.0"), "error", "enforce", "mx.tls.version"],
  ["mx-close", f("mx2:close-after-ehlo"), "error", "enforce", "mx.smtp"],
  ["mx-421", f("mx2:greeting-421"), "error", "enforce", "mx.smtp"],
  ["mx-slow", f("mx2:slow-greeting"), "error", "enforce", "mx.timeout"],
  ["mx-garbage", f("mx2:garbage"), "error", "enforce", "mx.smtp"],
  ["mx-down", f("mx2:down"), "error", "enforce", "mx.connect"],
  ["mx-no-address", f("mx2:no-address"), "error", "enforce", "dns.mx.no-address"],
  ["mx-cert-expired", f("mx2:cert-expired"), "error", "enforce", "mx.cert.expired"],
  ["mx-cert-expiring", f("mx2:cert-expiring"), "warning", "enforce", "mx.cert.expiring"],
  ["mx-cert-future", f("mx2:cert-not-yet-valid"), "error", "enforce", "mx.cert.not-yet-valid"],
  ["mx-cert-name", f("mx2:cert-wrong-name"), "error", "enforce", "mx.cert.name-mismatch"],
  ["mx-cert-self", f("mx2:cert-self-signed"), "error", "enforce", "mx.cert.untrusted"],
  ["mx-cert-root", f("mx2:cert-untrusted-root"), "error", "enforce", "mx.cert.untrusted"],
  ["mx-cert-chain", f("mx2:cert-missing-intermediate"), "error", "enforce", "mx.cert.untrusted"],
  ["mx-cert-cn", f("mx2:cert-cn-only"), "error", "enforce", "mx.cert.name-mismatch"],
  ["mx-cert-absurd", f("mx2:cert-absurd-fields"), "ok", "enforce", "mx.tls.ok"],
  ["dane-ok", { dane: true }, "ok", "enforce", "dane.tlsa.match"],
  [
    "dane-mismatch",
    { dane: true, faults: ["mx2:tlsa-mismatch"] },
    "error",
    "enforce",
    "dane.tlsa.mismatch",
  ],
  ["dane-insecure", f("mx2:tlsa-insecure"), "warning", "enforce", "dane.tlsa.insecure"],
  [
    "dane-unusable",
    { dnssec: true, faults: ["mx2:tlsa-unusable"] },
    "warning",
    "enforce",
    "dane.tlsa.unusable",
  ],
  [
    "dane-servfail",
    { dnssec: true, faults: ["mx2:tlsa-servfail"] },
    "error",
    "enforce",
    "dane.dnssec.failed",
  ],
];

export interface SurveyOptions {
  /** Domains in all (at least the fault cases). */
  size: number;
  /** Parent of every domain, e.g. `survey.test`. */
  zone?: string;
  /** Include the MX cases (SMTP servers, for --probe-mx). */
  mx?: boolean;
  /** Share of the filler domains that publish MTA-STS (default 0.55). */
  publishing?: number;
  /** How many times the fault cases repeat (default 1). */
  faultRounds?: number;
  /** Include the fault cases that wait for a timeout (WAITING; default true). */
  hanging?: boolean;
}

/**
 * The fault cases (and MX cases), then filler in a fixed cycle: healthy
 * `enforce` (some with two MX, some without TLS-RPT), `testing`, an IDN, and
 * domains that publish nothing (half of them with TLS-RPT).
 */
export function surveyWorld(options: SurveyOptions): SurveyDomain[] {
  const zone = options.zone ?? "survey.test";
  const out: SurveyDomain[] = [];
  const add = ([name, spec, status, mode, code]: Case, n: number | "", smtp: boolean) => {
    const domain = `${name}${n}.${zone}`;
    const fixedSpec: DomainSpec = {
      ...spec,
      domain,
      ...(spec.policyMx
        ? { policyMx: spec.policyMx.map((p) => p.replace("broad.survey.test", domain)) }
        : {}),
      smtp,
    };
    out.push({
      spec: fixedSpec,
      input: domain,
      expect: { status, mode, ...(code ? { code } : {}) },
    });
  };
  for (let round = 0; round < (options.faultRounds ?? 1); round++)
    for (const c of POLICY_CASES)
      if (options.hanging !== false || !WAITING.has(c[0])) add(c, round === 0 ? "" : round, false);
  if (options.mx)
    for (const [name, spec, ...verdict] of MX_CASES)
      add([name, { mx: ["mx1", "mx2"], ...spec }, ...verdict], "", true);
  const idn = `xn--bcher-kva.${zone}`;
  out.push({
    spec: { domain: idn, smtp: false },
    input: `bücher.${zone}`,
    expect: { status: "ok", mode: "enforce" },
  });
  const publishing = options.publishing ?? 0.55;
  for (let i = 0; out.length < options.size; i++) {
    const domain = `d${i}.${zone}`;
    // A fixed, evenly spread pattern rather than randomness: the same world every run.
    const publishes = (i * publishing) % 1 >= 1 - publishing - 1e-9;
    if (!publishes) {
      const tlsrpt = i % 2 === 0;
      out.push({
        spec: { domain, mtaSts: false, tlsrpt, smtp: false },
        input: domain,
        expect: { status: "none", mode: null },
      });
    } else if (i % 10 === 3) {
      out.push({
        spec: { domain, mode: "testing", smtp: false },
        input: domain,
        expect: { status: "ok", mode: "testing" },
      });
    } else if (i % 10 === 7) {
      out.push({
        spec: { domain, tlsrpt: false, smtp: false },
        input: domain,
        expect: { status: "warning", mode: "enforce", code: "dns.tlsrpt-record.missing" },
      });
    } else {
      out.push({
        spec: { domain, mx: i % 4 === 1 ? ["mx1", "mx2"] : ["mx1"], smtp: false },
        input: domain,
        expect: { status: "ok", mode: "enforce" },
      });
    }
  }
  return out;
}
