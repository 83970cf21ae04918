// The shapes `mtasts scan` produces. The ndjson line is a contract other tools
// read (issue 9): `domain`, `status`, `mode` and `findings` with
// `code`/`severity`/`message` never change meaning; fields may be added.

import type { Severity } from "../core/diagnostic.ts";
import type { PolicyMode } from "../core/policy.ts";

/** `none`: the domain publishes no `_mta-sts` record (DNS said so, cleanly). */
export type ScanStatus = "ok" | "warning" | "error" | "none";

export interface ScanFinding {
  code: string;
  severity: Severity;
  message: string;
  /** The host or record the finding is about. */
  subject?: string;
}

export interface ScanMx {
  host: string;
  /** Matched by a policy pattern; null without a valid policy. */
  covered: boolean | null;
  /** With --probe-mx: would an MTA-STS sender accept this MX? */
  stsValid?: boolean | null;
  /** With --probe-mx: the negotiated TLS version, null without TLS. */
  tls?: string | null;
  /** With --probe-mx: days until the certificate expires. */
  daysLeft?: number | null;
}

export interface ScanRecord {
  domain: string;
  status: ScanStatus;
  /** The valid policy's mode; null without one. */
  mode: PolicyMode | null;
  findings: ScanFinding[];
  /** The input as given, when normalising changed it (IDN, case, trailing dot, an address). */
  input?: string;
  /** The `_mta-sts` record's id; null without a valid record. */
  id: string | null;
  max_age: number | null;
  /** A valid `_smtp._tls` record; null when its lookup failed. */
  tlsrpt: boolean | null;
  mx: ScanMx[];
  /** A DNS timeout or the per-domain time bound cut the checks short (status is then `error`). */
  incomplete: boolean;
  elapsedMs: number;
}

/** One thing to scan, as read from arguments, a list or a log. */
export type ScanInput =
  | { domain: string; input: string }
  /** Looked like a domain but is not one (over-long, bad label): reported as an `error` record. */
  | { invalid: string; input: string };
