// What the parser accepts but a store must not: strings of megabytes, counts no
// sender can have, dates before the epoch our day grouping starts at. The
// parser already guarantees counts are non-negative safe integers and caps the
// number of policies and failure details (RPT-RCV-03); these bounds keep sums
// exact and rows small whatever a hostile sender writes.

import type { FailureDetail, ReportPolicy, TlsrptReport } from "../core/tlsrpt-report.ts";
import type { QuarantineCode } from "./quarantine-codes.ts";

/** Identifiers: names, ids, addresses, result types. */
export const NAME_MAX = 1024;
/** Free text: a policy line, additional-information, failure-reason-code. */
export const TEXT_MAX = 64 * 1024;
/** One count; 10^10 sessions a day is over 100,000 a second. */
export const COUNT_MAX = 10_000_000_000;
/** One report's successful + failed; keeps summary sums over many reports exact. */
export const REPORT_SESSIONS_MAX = 100_000_000_000;

export type BoundsProblem = { code: QuarantineCode; reason: string };

/** `textLength`: the report JSON's length; no member can be longer than the whole text. */
export function checkBounds(
  r: TlsrptReport,
  textLength = Number.POSITIVE_INFINITY,
): BoundsProblem | null {
  const long = textLength <= NAME_MAX ? null : tooLong(r);
  if (long !== null) return long;
  let total = 0;
  // Plain loops, paths spelt only for a finding: this runs for every report.
  for (let i = 0; i < r.policies.length; i++) {
    const p = r.policies[i] as ReportPolicy;
    const successful = p.summary["total-successful-session-count"];
    const failed = p.summary["total-failure-session-count"];
    if (successful > COUNT_MAX) {
      return implausible(`policies[${i}].summary.total-successful-session-count`, successful);
    }
    if (failed > COUNT_MAX) {
      return implausible(`policies[${i}].summary.total-failure-session-count`, failed);
    }
    const details = p["failure-details"];
    for (let j = 0; j < details.length; j++) {
      const n = (details[j] as FailureDetail)["failed-session-count"];
      if (n > COUNT_MAX) {
        return implausible(`policies[${i}].failure-details[${j}].failed-session-count`, n);
      }
    }
    total += successful + failed;
  }
  if (total > REPORT_SESSIONS_MAX) {
    return {
      code: "ingest.count.implausible",
      reason: `the report counts ${total} sessions in all, over the bound of ${REPORT_SESSIONS_MAX}`,
    };
  }
  for (const key of ["start-datetime", "end-datetime"] as const) {
    const value = r["date-range"][key];
    if (Date.parse(value) < 0) {
      return {
        code: "ingest.date.out-of-range",
        reason: `date-range.${key} is ${value}, before 1970`,
      };
    }
  }
  return null;
}

function implausible(at: string, n: number): BoundsProblem {
  return {
    code: "ingest.count.implausible",
    reason: `${at} is ${n}, over the bound of ${COUNT_MAX}`,
  };
}

function tooLong(r: TlsrptReport): BoundsProblem | null {
  for (const key of ["organization-name", "contact-info", "report-id"] as const) {
    if (over(r[key], NAME_MAX)) return longAt(key, r[key] as string, NAME_MAX);
  }
  for (let i = 0; i < r.policies.length; i++) {
    const a = (r.policies[i] as ReportPolicy).policy;
    for (const key of ["policy-type", "policy-domain"] as const) {
      if (over(a[key], NAME_MAX))
        return longAt(`policies[${i}].policy.${key}`, a[key] as string, NAME_MAX);
    }
    const found =
      inList(a["mx-host"], (j) => `policies[${i}].policy.mx-host[${j}]`, NAME_MAX) ??
      inList(a["policy-string"], (j) => `policies[${i}].policy.policy-string[${j}]`, TEXT_MAX);
    if (found !== null) return found;
    const details = (r.policies[i] as ReportPolicy)["failure-details"];
    for (let j = 0; j < details.length; j++) {
      const d = details[j] as FailureDetail;
      for (const [key, max] of DETAIL_BOUNDS) {
        const value = d[key];
        if (over(value, max)) {
          return longAt(`policies[${i}].failure-details[${j}].${key}`, value as string, max);
        }
      }
    }
  }
  return null;
}

const DETAIL_BOUNDS = [
  ["result-type", NAME_MAX],
  ["sending-mta-ip", NAME_MAX],
  ["receiving-mx-hostname", NAME_MAX],
  ["receiving-mx-helo", NAME_MAX],
  ["receiving-ip", NAME_MAX],
  ["additional-information", TEXT_MAX],
  ["failure-reason-code", TEXT_MAX],
] as const;

function over(value: string | null | undefined, max: number): boolean {
  return typeof value === "string" && value.length > max;
}

function longAt(at: string, value: string, max: number): BoundsProblem {
  return {
    code: "ingest.field.too-long",
    reason: `${at} is ${value.length} characters long, over the bound of ${max}`,
  };
}

function inList(
  list: readonly string[] | undefined,
  at: (index: number) => string,
  max: number,
): BoundsProblem | null {
  if (list === undefined) return null;
  for (let j = 0; j < list.length; j++) {
    const value = list[j] as string;
    if (value.length > max) return longAt(at(j), value, max);
  }
  return null;
}
