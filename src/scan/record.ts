// One domain's check result, cut down to the scan's line: the verdict, the
// policy's mode and age, TLS-RPT, MX coverage, and every finding by code.

import type { DomainResult } from "../check/index.ts";
import { diag } from "../core/catalogue.ts";
import type { ScanFinding, ScanMx, ScanRecord, ScanStatus } from "./types.ts";

const NO_RECORD = "dns.sts-record.missing";

export function scanRecord(result: DomainResult, input: string, probed: boolean): ScanRecord {
  const findings: ScanFinding[] = result.findings.map((f) => ({
    code: f.code,
    severity: f.severity,
    message: f.message,
    ...(f.subject !== undefined ? { subject: f.subject } : {}),
  }));
  const policy = result.policy?.valid ? result.policy : null;
  const sts = result.stsRecord?.value as { id?: unknown } | null | undefined;
  const tlsrptFailed = result.findings.some(
    (f) => f.code.startsWith("dns.lookup.") && f.subject === result.tlsrptRecord?.name,
  );
  return {
    domain: result.domain,
    status: statusOf(result),
    mode: policy?.mode ?? null,
    findings,
    ...(input !== result.domain ? { input } : {}),
    id: typeof sts?.id === "string" ? sts.id : null,
    max_age: policy?.max_age ?? null,
    tlsrpt: tlsrptFailed ? null : result.tlsrptRecord?.value != null,
    mx: result.mx.map((m) => {
      const mx: ScanMx = { host: m.host, covered: m.covered };
      if (probed) {
        mx.stsValid = m.stsValid;
        mx.tls = m.tls?.version ?? null;
        mx.daysLeft = m.certificate?.daysLeft ?? null;
      }
      return mx;
    }),
    incomplete: result.status === "incomplete",
    elapsedMs: result.elapsedMs,
  };
}

/** `none` when DNS cleanly says there is no record; an unfinished check counts as an error. */
function statusOf(result: DomainResult): ScanStatus {
  if (result.findings.some((f) => f.code === NO_RECORD)) return "none";
  return result.status === "incomplete" ? "error" : result.status;
}

/** The line for an input that is not a domain name: reported, never scanned. */
export function invalidRecord(input: string, reason: string): ScanRecord {
  const shown = shownInput(input);
  const d = diag(
    "input.domain.invalid",
    `${JSON.stringify(shown)} is not a domain name: ${reason}`,
  );
  return {
    domain: shown,
    status: "error",
    mode: null,
    findings: [{ code: d.code, severity: d.severity, message: d.message }],
    id: null,
    max_age: null,
    tlsrpt: null,
    mx: [],
    incomplete: false,
    elapsedMs: 0,
  };
}

/** An invalid input as its record names it: clipped, so a 10 kB line is not a 10 kB key. */
export function shownInput(input: string): string {
  return input.length > 300 ? `${input.slice(0, 300)}…` : input;
}
