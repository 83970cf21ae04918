// The shapes `generate` takes and produces. `mtasts generate --format json`
// prints `policy` and `records` exactly as named here (fixed by issue 6):
// add fields, never rename them.

import type { Resolver } from "../adapters/dns.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import type { PolicyMode } from "../core/policy.ts";

export type RecordType = "TXT" | "A" | "AAAA" | "CNAME";

/** One DNS record to publish; `name` without a trailing dot, TXT `value` unquoted. */
export interface DnsRecord {
  name: string;
  type: RecordType;
  value: string;
  ttl: number;
}

/** Flags as given on the command line, before any checking. */
export interface GenerateRequest {
  domain: string;
  mode?: string;
  maxAge?: string;
  mx?: string[];
  fromDns?: boolean;
  rua?: string[];
  hostAddresses?: string[];
  delegateTo?: string;
  /** The provider's own `_mta-sts` name the customer's record points at (delegation). */
  delegateRecord?: string;
  ttl?: string;
  /** Skip the live MX look-up that warns about uncovered hosts. */
  offline?: boolean;
}

/** A request that passed every check: names in A-label form, numbers in range. */
export interface GenerateSpec {
  domain: string;
  mode: PolicyMode;
  maxAge: number;
  /** Patterns as given (lowercase, A-labels), in order, without duplicates. */
  mx: string[];
  fromDns: boolean;
  rua: string[];
  hostAddresses: string[];
  delegation: { host: string; record: string } | null;
  ttl: number;
  offline: boolean;
}

/** A bad flag: which argument, and what is wrong with it. */
export interface ArgumentError {
  argument: string;
  message: string;
}

export interface Generated {
  domain: string;
  /** The policy file text, exactly as it must be served (LF line ends). */
  policy: string;
  /** What the domain publishes, in the order to publish it (after the policy is served). */
  records: DnsRecord[];
  /** Delegation only: what the provider publishes for this domain. */
  provider: DnsRecord[];
  id: string;
  mode: PolicyMode;
  maxAge: number;
  mx: string[];
  /** Live MX hosts read from DNS (empty when none were read). */
  liveMx: string[];
  warnings: Diagnostic[];
}

export interface GenerateDeps {
  /** Absent: no live look-up is possible (coverage is not checked, --from-dns fails). */
  resolver?: Resolver;
  now: () => Date;
}

/** Why generate could not build anything (not a usage error). */
export type GenerateFailure =
  | { kind: "usage"; errors: ArgumentError[] }
  | { kind: "dns"; message: string }
  | { kind: "no-mx"; message: string };
