// The shapes `check` produces and the adapters it needs. The JSON schema of
// `mtasts check --json` is these types: add fields, never rename them.

import type { DnsAnswer, Resolver } from "../adapters/dns.ts";
import type { fetchPolicy } from "../adapters/policy-fetch.ts";
import type { probeSmtp } from "../adapters/smtp-probe.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import type { PolicyMode } from "../core/policy.ts";

/** A diagnostic about one part of the domain; `subject` names the host or record it is about. */
export interface Finding extends Diagnostic {
  subject?: string;
}

export type DomainStatus = "ok" | "warning" | "error" | "incomplete";

export interface CheckDeps {
  resolver: Resolver;
  fetchPolicy: typeof fetchPolicy;
  probeSmtp: typeof probeSmtp;
  now: () => Date;
}

export interface CheckOptions {
  /** The whole check of one domain, however many MX hosts (default 30 s). */
  timeoutMs?: number;
  /** Extra trusted roots (PEM) for the policy host and the MX hosts (--ca-file). */
  ca?: string[];
  /** Test-only port overrides, so the lab can run on unprivileged ports. */
  httpsPort?: number;
  smtpPort?: number;
  /** Warn when an MX certificate expires within this many days (default 21). */
  expiryWarningDays?: number;
  /**
   * Connect to each MX: STARTTLS, TLS version, certificate, DANE (default true).
   * false judges only the MX names against the policy: no SMTP connection and
   * no A/AAAA/TLSA lookups for MX hosts (what a survey of many domains wants).
   */
  probeMx?: boolean;
  /**
   * Fetch the policy and look up the MX records even when DNS says the domain
   * has no `_mta-sts` record (default true: a broken record beside a working
   * policy host is a different fix from having neither). A survey sets false:
   * most domains publish nothing, and each skipped fetch and lookup is load
   * on someone else's servers.
   */
  fetchWithoutRecord?: boolean;
  /**
   * Read and describe the policy host's certificate after a verified handshake
   * (default true: `policy.certificate` in the result). A survey sets false:
   * it never shows it, and reading the chain is a large share of a fetch's CPU.
   * A certificate that fails verification is described either way.
   */
  describePolicyCertificate?: boolean;
}

export interface RecordResult {
  name: string;
  /** The selected record's text, when exactly one was found. */
  text: string | null;
  cnames: string[];
  value: object | null;
}

export interface PolicyResult {
  url: string;
  fetched: boolean;
  valid: boolean;
  mode: PolicyMode | null;
  max_age: number | null;
  mx: string[];
  id: string | null;
  tls?: { version: string; cipher: string };
  certificate?: CertificateView;
}

export interface CertificateView {
  subject: string;
  issuer: string;
  dnsNames: string[];
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  fingerprint256: string;
}

export type DaneStatus = "none" | "match" | "mismatch" | "insecure" | "unusable" | "failed";

export interface MxResult {
  host: string;
  preference: number;
  addresses: string[];
  /** Matched by a policy mx pattern (null when there is no valid policy). */
  covered: boolean | null;
  pattern: string | null;
  starttls: boolean | null;
  tls: { version: string; cipher: string } | null;
  certificate: CertificateView | null;
  /** Would an MTA-STS sender accept this MX (STS-CERT-05)? */
  stsValid: boolean | null;
  dane: { status: DaneStatus; records: string[] };
  elapsedMs: number | null;
}

export interface DomainResult {
  domain: string;
  status: DomainStatus;
  findings: Finding[];
  stsRecord: RecordResult | null;
  tlsrptRecord: RecordResult | null;
  policy: PolicyResult | null;
  mx: MxResult[];
  elapsedMs: number;
}

export type AnyAnswer = DnsAnswer<unknown>;
