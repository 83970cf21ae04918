// Checks generate's (and rollout's) flags once, turning them into a spec with
// names in A-label form and numbers in range. Every refusal names the flag,
// the value and what would be accepted, so exit 2 always says how to fix it.

import { domainToASCII, domainToUnicode } from "node:url";
import { ipFamily } from "../adapters/ip.ts";
import { diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { parseMxPattern } from "../core/mx-pattern.ts";
import { policyDomain } from "../core/names.ts";
import { MAX_AGE_LIMIT, type PolicyMode } from "../core/policy.ts";
import { parseTlsrptRecord } from "../core/tlsrpt-record.ts";
import type { ArgumentError, GenerateRequest, GenerateSpec } from "./types.ts";

/** Defaults per mode (docs/generate.md): a week to try, two to enforce, a day to withdraw. */
export const DEFAULT_MAX_AGE: Record<PolicyMode, number> = {
  testing: 604_800,
  enforce: 1_209_600,
  none: 86_400,
};
export const DEFAULT_TTL = 3600;
/** The longest label we prefix a domain with (`_smtp._tls.`), so every record name fits 253. */
const LONGEST_PREFIX = "_smtp._tls.".length;

type Checked<T> = { ok: true; value: T } | { ok: false; error: ArgumentError };
const bad = (argument: string, message: string): { ok: false; error: ArgumentError } => ({
  ok: false,
  error: { argument, message },
});

export function checkDomain(text: string, argument = "<domain>"): Checked<string> {
  const d = policyDomain(text);
  const shown = JSON.stringify(text);
  if (d === null) {
    return bad(
      argument,
      `${shown} is not a domain name: give a host name such as example.com (no address, scheme or path; labels of 1-63 letters, digits or hyphens)`,
    );
  }
  const idn = idnaProblem(d);
  if (idn !== null) return bad(argument, `${shown} is not a valid internationalised name: ${idn}`);
  if (!d.includes(".")) {
    return bad(argument, `${shown} has one label; give the mail domain, e.g. example.com`);
  }
  if (d.length + LONGEST_PREFIX > 253) {
    return bad(
      argument,
      `${shown} is ${d.length} characters (as A-labels); _smtp._tls.<domain> would pass the 253-character limit of a DNS name`,
    );
  }
  return { ok: true, value: d };
}

/**
 * URL's UTS-46 pass is lenient (no hyphen checks, A-labels not decoded), and
 * a name we publish must be one every resolver and registry accepts.
 */
function idnaProblem(ascii: string): string | null {
  for (const label of ascii.split(".")) {
    if (!label.startsWith("xn--")) continue;
    const unicode = domainToUnicode(label);
    if (unicode === label || unicode === "" || domainToASCII(unicode) !== label) {
      return `the label ${label} is not valid Punycode`;
    }
    if (unicode.startsWith("-") || unicode.endsWith("-")) {
      return `the label ${JSON.stringify(unicode)} starts or ends with a hyphen`;
    }
  }
  return null;
}

export function checkMode(text: string | undefined, argument = "--mode"): Checked<PolicyMode> {
  const m = text ?? "testing";
  if (m === "testing" || m === "enforce" || m === "none") return { ok: true, value: m };
  return bad(argument, `${JSON.stringify(m)} is not a mode; use testing, enforce or none`);
}

export function checkMaxAge(
  text: string | undefined,
  mode: PolicyMode,
  argument = "--max-age",
): Checked<number> {
  if (text === undefined) return { ok: true, value: DEFAULT_MAX_AGE[mode] };
  const n = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    return bad(argument, `${JSON.stringify(text)} is not a whole number of seconds`);
  }
  if (n < 1 || n > MAX_AGE_LIMIT) {
    return bad(
      argument,
      `${n} is out of range: max_age must be 1-${MAX_AGE_LIMIT} seconds (one year); e.g. 604800 for a week`,
    );
  }
  return { ok: true, value: n };
}

/** Patterns lowercased, U-labels turned into A-labels, duplicates dropped, order kept. */
export function checkPatterns(texts: readonly string[], argument = "--mx"): Checked<string[]> {
  const out: string[] = [];
  for (const raw of texts) {
    let text = raw.trim();
    if (text.endsWith(".")) text = text.slice(0, -1);
    const wildcard = text.startsWith("*.");
    const rest = wildcard ? text.slice(2) : text;
    // A-labels first: the policy grammar is ASCII (STS-POL-09), people type U-labels.
    const ascii = /[^\p{ASCII}]/u.test(rest) ? (policyDomain(rest) ?? rest) : rest;
    const parsed = parseMxPattern(wildcard ? `*.${ascii}` : ascii);
    const problem = parsed.diagnostics[0];
    if (!parsed.ok || problem !== undefined) {
      return bad(
        argument,
        `${JSON.stringify(raw)} is not an MX host name or *.pattern: ${first(problem)}`,
      );
    }
    if (!out.includes(parsed.value.text)) out.push(parsed.value.text);
  }
  return { ok: true, value: out };
}

function first(d: Diagnostic | undefined): string {
  return d === undefined ? "invalid" : d.message.replace(/ \(RFC [^)]*\)$/, "");
}

/** `tlsrpt@example.com` is read as `mailto:tlsrpt@example.com`; each URI must be usable (RPT-REC-05). */
export function checkRua(texts: readonly string[], argument = "--rua"): Checked<string[]> {
  const out: string[] = [];
  for (const raw of texts) {
    const t = raw.trim();
    const uri = !/^[a-z][a-z0-9+.-]*:/i.test(t) && t.includes("@") ? `mailto:${t}` : t;
    const parsed = parseTlsrptRecord(`v=TLSRPTv1; rua=${uri}`);
    const problem = parsed.diagnostics.find((d) => d.severity !== "info");
    if (!parsed.ok || problem !== undefined || parsed.value.rua.length !== 1) {
      return bad(
        argument,
        `${JSON.stringify(raw)} is not a report address: ${problem ? first(problem) : "give mailto:ADDRESS or https://URL"}`,
      );
    }
    const value = parsed.value.rua[0] as string;
    if (!out.includes(value)) out.push(value);
  }
  return { ok: true, value: out };
}

export function checkTtl(text: string | undefined): Checked<number> {
  if (text === undefined) return { ok: true, value: DEFAULT_TTL };
  const n = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) {
    return bad(
      "--ttl",
      `${JSON.stringify(text)} must be a TTL in seconds, 1-2147483647 (RFC 2181)`,
    );
  }
  return { ok: true, value: n };
}

export function checkRequest(r: GenerateRequest): GenerateSpec | ArgumentError[] {
  const errors: ArgumentError[] = [];
  const take = <T>(c: Checked<T>, fallback: T): T => {
    if (c.ok) return c.value;
    errors.push(c.error);
    return fallback;
  };
  const domain = take(checkDomain(r.domain), "");
  const mode = take(checkMode(r.mode), "testing");
  const maxAge = take(checkMaxAge(r.maxAge, mode), 0);
  const mx = take(checkPatterns(r.mx ?? []), []);
  const rua = take(checkRua(r.rua ?? []), []);
  const ttl = take(checkTtl(r.ttl), DEFAULT_TTL);
  const hostAddresses: string[] = [];
  for (const a of r.hostAddresses ?? []) {
    if (ipFamily(a.trim()) === 0) {
      errors.push({
        argument: "--host-address",
        message: `${JSON.stringify(a)} is not an IPv4 or IPv6 address`,
      });
    } else if (!hostAddresses.includes(a.trim())) hostAddresses.push(a.trim());
  }
  let delegation: GenerateSpec["delegation"] = null;
  if (r.delegateTo !== undefined) {
    const host = take(checkDomain(r.delegateTo, "--delegate-to"), "");
    let record = host.startsWith("mta-sts.") ? `_mta-sts.${host.slice(8)}` : `_mta-sts.${host}`;
    if (r.delegateRecord !== undefined)
      record = take(checkDomain(r.delegateRecord, "--delegate-record"), "");
    delegation = { host, record };
    if (hostAddresses.length > 0) {
      errors.push({
        argument: "--host-address",
        message:
          "give either --host-address (you serve the policy) or --delegate-to (a provider does), not both",
      });
    }
  } else if (r.delegateRecord !== undefined) {
    errors.push({ argument: "--delegate-record", message: "applies only with --delegate-to HOST" });
  }
  if (mx.length === 0 && !r.fromDns && errors.length === 0) {
    errors.push({
      argument: "--mx",
      message:
        "the policy needs MX patterns: give --mx PATTERN (repeatable) or --from-dns to use the domain's live MX",
    });
  }
  if (r.fromDns && r.offline) {
    errors.push({
      argument: "--offline",
      message: "--from-dns reads DNS; it cannot be combined with --offline",
    });
  }
  if (errors.length > 0) return errors;
  return {
    domain,
    mode,
    maxAge,
    mx,
    fromDns: r.fromDns ?? false,
    rua,
    hostAddresses,
    delegation,
    ttl,
    offline: r.offline ?? false,
  };
}

/** Warnings about the values themselves (not errors: the policy is valid). */
export function specWarnings(spec: Pick<GenerateSpec, "mode" | "maxAge">): Diagnostic[] {
  // STS-OPS-05: the same advice check gives for a published policy.
  if (spec.mode === "enforce" && spec.maxAge < 604_800) {
    return [diag("policy.max-age.short", `max_age ${spec.maxAge} is under a week in enforce mode`)];
  }
  return [];
}
