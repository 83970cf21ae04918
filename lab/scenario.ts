// Scenarios as data: a list of domains with their records, policy, MX hosts
// and named faults. Tests read like
//   scenario({ domain: "example.test", mx: ["mx1", "mx2"], faults: ["mx1:cert-expired"] })
// and the lab turns that into zones, policy sites and SMTP hosts.

import type { PolicyMode } from "../src/core/policy.ts";
import type { CertFault } from "./ca.ts";
import type { SmtpFault } from "./smtp-host.ts";

export interface DomainSpec {
  domain: string;
  /** MX hosts as labels under the domain ("mx1") or full names; default ["mx1"]. */
  mx?: string[];
  mode?: PolicyMode;
  maxAge?: number;
  /** The policy's mx patterns; default: exactly the MX host names. */
  policyMx?: string[];
  /** Serve this exact policy text instead of the generated one. */
  policyText?: string;
  stsId?: string;
  /** Publish exactly these `_mta-sts` TXT strings (one RR) instead of a generated record. */
  stsTxt?: string[];
  /** Publish `_smtp._tls` (default true). */
  tlsrpt?: boolean;
  /** The zone is DNSSEC-validated: answers carry the AD bit. */
  dnssec?: boolean;
  /** Publish `3 1 1` TLSA records for every MX (implies dnssec unless set). */
  dane?: boolean;
  /**
   * Publish MTA-STS at all (default true). false: no `_mta-sts` record and no
   * policy host, like most domains on the internet; no certificate is issued.
   */
  mtaSts?: boolean;
  /**
   * Start an SMTP server, with a certificate, for each MX (default true).
   * false: the MX names and addresses are published and nothing listens
   * there; quick to build, for scans that never connect to an MX.
   */
  smtp?: boolean;
  faults?: Fault[];
  /**
   * Publish `mta-sts.<domain>` at this loopback address instead of the lab's
   * own policy host: a policy host under test (`mtasts host`) listens there.
   */
  policyAddress?: string;
}

export interface Scenario {
  domains: DomainSpec[];
}

export function scenario(...domains: DomainSpec[]): Scenario {
  return { domains };
}

/** Faults the lab knows, by target. `<mx>` is an MX label, e.g. `mx1:cert-expired`. */
export const domainFaults = {
  "dns:sts-missing": "no _mta-sts TXT record",
  "dns:sts-multiple": "two v=STSv1 TXT records",
  "dns:sts-invalid": "a _mta-sts record with a malformed id",
  "dns:sts-servfail": "SERVFAIL for _mta-sts",
  "dns:sts-timeout": "no answer at all for _mta-sts",
  "dns:sts-garbage": "random bytes instead of a DNS answer for _mta-sts",
  "dns:sts-cname": "_mta-sts delegated by CNAME to a provider zone (healthy)",
  "dns:sts-cname-loop": "_mta-sts is a CNAME loop",
  "dns:tlsrpt-invalid": "a _smtp._tls record without rua",
  "dns:mx-none": "no MX records (implicit MX)",
  "dns:mx-servfail": "SERVFAIL for the MX lookup",
  "dns:policy-host-missing": "no address for mta-sts.<domain>",
  "policy:404": "the policy URL answers 404",
  "policy:500": "the policy URL answers 500",
  "policy:redirect": "the policy URL answers 301",
  "policy:content-type-html": "served as text/html",
  "policy:no-content-type": "served without Content-Type",
  "policy:charset-latin1": "served with charset=iso-8859-1",
  "policy:oversize": "body over 64 KiB",
  "policy:slow-body": "headers, then the body never completes",
  "policy:slow-headers": "accepts the connection, never answers",
  "policy:tls-1.0": "the policy host speaks only TLS 1.0/1.1",
  "policy:no-cert": "no certificate for the policy host's SNI name",
  "policy:invalid": "a policy with a syntax error (max_age out of range)",
  "policy:mx-not-covered": "the policy leaves the last MX out",
  "policy:cert-expired": "expired certificate on the policy host",
  "policy:cert-not-yet-valid": "not-yet-valid certificate on the policy host",
  "policy:cert-wrong-name": "certificate for another name on the policy host",
  "policy:cert-self-signed": "self-signed certificate on the policy host",
  "policy:cert-untrusted-root": "certificate from an untrusted root on the policy host",
  "policy:cert-missing-intermediate": "policy host sends no intermediate",
  "policy:cert-cn-only": "policy host certificate names the host only in the CN",
  "policy:cert-absurd-fields": "policy host certificate with absurd fields (valid for its name)",
} as const;

export type DomainFault = keyof typeof domainFaults;

export const mxFaults = {
  "no-starttls": "EHLO does not offer STARTTLS",
  "starttls-refused": "STARTTLS answers 454",
  "tls-1.0": "only TLS 1.0/1.1",
  "close-after-ehlo": "closes the connection after EHLO",
  "greeting-421": "greets with 421",
  "slow-greeting": "never sends a greeting",
  garbage: "sends non-SMTP bytes",
  down: "nothing listens (connection refused)",
  "no-address": "the MX name has no A/AAAA record",
  "cert-expired": "expired certificate",
  "cert-expiring": "certificate expires in 10 days",
  "cert-not-yet-valid": "certificate not valid yet",
  "cert-wrong-name": "certificate for another name",
  "cert-self-signed": "self-signed certificate",
  "cert-untrusted-root": "certificate from an untrusted root",
  "cert-missing-intermediate": "sends no intermediate",
  "cert-cn-only": "name only in the CN",
  "cert-absurd-fields": "absurd fields: huge CN, 400 junk names, expiry in year 9999",
  "tlsa-mismatch": "TLSA record for another key",
  "tlsa-insecure": "TLSA record in an unsigned zone",
  "tlsa-servfail": "the TLSA lookup answers SERVFAIL",
  tlsa: "publishes a matching 3 1 1 TLSA record (DANE for this host only, with dnssec)",
  "tlsa-unusable": "TLSA record with a PKIX usage (1), unusable for SMTP",
} as const;

export type MxFault = keyof typeof mxFaults;
export type Fault = DomainFault | `${string}:${MxFault}`;

export function mxHostName(domain: string, mx: string): string {
  return mx.includes(".") ? mx.toLowerCase() : `${mx}.${domain}`;
}

/** The MX faults of one MX label, and the domain faults, split out of a spec. */
export function faultsOf(spec: DomainSpec): {
  domain: Set<DomainFault>;
  mx: Map<string, Set<MxFault>>;
} {
  const domain = new Set<DomainFault>();
  const mx = new Map<string, Set<MxFault>>();
  for (const f of spec.faults ?? []) {
    if (f in domainFaults) {
      domain.add(f as DomainFault);
      continue;
    }
    const at = f.lastIndexOf(":");
    const target = f.slice(0, at);
    const kind = f.slice(at + 1);
    if (at < 0 || !(kind in mxFaults)) throw new Error(`unknown lab fault ${JSON.stringify(f)}`);
    const host = mxHostName(spec.domain, target);
    if (!mx.has(host)) mx.set(host, new Set());
    mx.get(host)?.add(kind as MxFault);
  }
  return { domain, mx };
}

export function certFaultOf(faults: ReadonlySet<string>, prefix = ""): CertFault | undefined {
  for (const f of faults) {
    const name = prefix ? (f.startsWith(prefix) ? f.slice(prefix.length) : "") : f;
    if (name.startsWith("cert-") && name !== "cert-expiring") return name.slice(5) as CertFault;
  }
  return undefined;
}

export function smtpFaultOf(faults: ReadonlySet<MxFault>): SmtpFault | undefined {
  for (const f of [
    "no-starttls",
    "starttls-refused",
    "tls-1.0",
    "close-after-ehlo",
    "greeting-421",
    "slow-greeting",
    "garbage",
  ] as const) {
    if (faults.has(f)) return f;
  }
  return undefined;
}
