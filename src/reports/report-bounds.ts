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
  for (const [i, p] of r.policies.entries()) {
    const counts: [string, number][] = [
      [
        `policies[${i}].summary.total-successful-session-count`,
        p.summary["total-successful-session-count"],
      ],
      [
        `policies[${i}].summary.total-failure-session-count`,
        p.summary["total-failure-session-count"],
      ],
      ...p["failure-details"].map((d, j): [string, number] => [
        `policies[${i}].failure-details[${j}].failed-session-count`,
        d["failed-session-count"],
      ]),
    ];
    for (const [at, n] of counts) {
      if (n > COUNT_MAX) {
        return {
          code: "ingest.count.implausible",
          reason: `${at} is ${n}, over the bound of ${COUNT_MAX}`,
        };
      }
    }
    total += p.summary["total-successful-session-count"] + p.summary["total-failure-session-count"];
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

function tooLong(r: TlsrptReport): BoundsProblem | null {
  const over = (value: string | null | undefined, at: () => string, max: number) =>
    typeof value === "string" && value.length > max
      ? {
          code: "ingest.field.too-long" as const,
          reason: `${at()} is ${value.length} characters long, over the bound of ${max}`,
        }
      : null;
  const top =
    over(r["organization-name"], () => "organization-name", NAME_MAX) ??
    over(r["contact-info"], () => "contact-info", NAME_MAX) ??
    over(r["report-id"], () => "report-id", NAME_MAX);
  if (top !== null) return top;
  // Plain loops: this runs for every report, most of which have a handful of strings.
  for (let i = 0; i < r.policies.length; i++) {
    const p = r.policies[i] as ReportPolicy;
    const at = (key: string) => () => `policies[${i}].policy.${key}`;
    const a = p.policy;
    const found =
      over(a["policy-type"], at("policy-type"), NAME_MAX) ??
      over(a["policy-domain"], at("policy-domain"), NAME_MAX) ??
      inList(a["mx-host"], (j) => `policies[${i}].policy.mx-host[${j}]`, NAME_MAX) ??
      inList(a["policy-string"], (j) => `policies[${i}].policy.policy-string[${j}]`, TEXT_MAX);
    if (found !== null) return found;
    const details = p["failure-details"];
    for (let j = 0; j < details.length; j++) {
      const d = details[j] as FailureDetail;
      const dat = (key: string) => () => `policies[${i}].failure-details[${j}].${key}`;
      const bad =
        over(d["result-type"], dat("result-type"), NAME_MAX) ??
        over(d["sending-mta-ip"], dat("sending-mta-ip"), NAME_MAX) ??
        over(d["receiving-mx-hostname"], dat("receiving-mx-hostname"), NAME_MAX) ??
        over(d["receiving-mx-helo"], dat("receiving-mx-helo"), NAME_MAX) ??
        over(d["receiving-ip"], dat("receiving-ip"), NAME_MAX) ??
        over(d["additional-information"], dat("additional-information"), TEXT_MAX) ??
        over(d["failure-reason-code"], dat("failure-reason-code"), TEXT_MAX);
      if (bad !== null) return bad;
    }
  }
  return null;
}

function inList(
  list: readonly string[] | undefined,
  at: (index: number) => string,
  max: number,
): BoundsProblem | null {
  if (list === undefined) return null;
  for (let j = 0; j < list.length; j++) {
    const value = list[j] as string;
    if (value.length > max) {
      return {
        code: "ingest.field.too-long",
        reason: `${at(j)} is ${value.length} characters long, over the bound of ${max}`,
      };
    }
  }
  return null;
}
