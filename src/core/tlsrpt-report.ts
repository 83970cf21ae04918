// RFC 8460 aggregate reports as received: parse, normalise, validate. Receivers
// are liberal (RPT-RCV-06): every deviation real senders make becomes a warning
// on a normalised value; only a report that cannot be stored is invalid.
// Members are built in the order of the RFC 8460 §4.4 figure (RPT-GEN-11), so
// the value prints as an RFC-shaped report.

import type { Parsed } from "./diagnostic.ts";
import { failureDetails } from "./tlsrpt-report-details.ts";
import {
  count,
  dateTime,
  describe,
  Findings,
  isObject,
  type Json,
  type JsonObject,
  join,
  member,
  requiredText,
} from "./tlsrpt-report-fields.ts";
import { countMembers, scanJson, scanShape } from "./tlsrpt-report-json.ts";
import { appliedPolicy } from "./tlsrpt-report-policy.ts";

export interface TlsrptReport {
  "organization-name": string | null;
  "date-range": { "start-datetime": string; "end-datetime": string };
  "contact-info": string | null;
  /** Verbatim, angle brackets and all; see `reportKey`. */
  "report-id": string;
  policies: ReportPolicy[];
}

export interface ReportPolicy {
  policy: AppliedPolicy;
  summary: {
    "total-successful-session-count": number;
    "total-failure-session-count": number;
  };
  /** Empty when the sender gave none. */
  "failure-details": FailureDetail[];
}

export interface AppliedPolicy {
  /** `sts`, `tlsa`, `no-policy-found`, or whatever else was sent (verbatim). */
  "policy-type": string | null;
  /** Absent when the sender omitted it (RPT-JSON-08). */
  "policy-string"?: string[];
  "policy-domain": string | null;
  "mx-host"?: string[];
}

export interface FailureDetail {
  /** Verbatim: unknown types are kept (RPT-RES-01). */
  "result-type": string | null;
  "sending-mta-ip"?: string;
  "receiving-mx-hostname"?: string;
  "receiving-mx-helo"?: string;
  "receiving-ip"?: string;
  "failed-session-count": number;
  "additional-information"?: string;
  "failure-reason-code"?: string;
}

/** RPT-RCV-03 limits. */
export const REPORT_LIMITS = { depth: 32, policies: 10_000, failureDetails: 100_000 } as const;

export function parseTlsrptReport(json: string): Parsed<TlsrptReport> {
  const f = new Findings();
  const text = typeof json !== "string" ? "" : json.charCodeAt(0) === 0xfeff ? json.slice(1) : json;
  const shape = scanShape(text, REPORT_LIMITS.depth);
  if (shape.tooDeep) {
    f.add("report.json.too-deep", `JSON nesting goes deeper than ${REPORT_LIMITS.depth} levels`);
    return { ok: false, diagnostics: f.done() };
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    f.add(
      "report.json.syntax",
      `Not valid JSON: ${err instanceof Error ? err.message : "parse error"}`,
    );
    return { ok: false, diagnostics: f.done() };
  }
  // Fewer members parsed than the text names: some name was repeated; find where.
  if (countMembers(root) !== shape.members) {
    for (const path of scanJson(text, REPORT_LIMITS.depth, 20).duplicates) {
      f.add("report.json.duplicate-member", `${path} appears more than once in its object`, path);
    }
  }
  if (!isObject(root)) {
    f.add("report.json.not-object", `The JSON is ${describe(root)}, not an object`);
    return { ok: false, diagnostics: f.done() };
  }
  const report = readReport(root, f);
  if (report === null || f.errors > 0) return { ok: false, diagnostics: f.done() };
  return { ok: true, value: report, diagnostics: f.done() };
}

function readReport(root: JsonObject, f: Findings): TlsrptReport | null {
  const organization = requiredText(root, "organization-name", "", f);
  const range = readDateRange(member(root, "date-range"), f);
  const contact = readContact(member(root, "contact-info"), f);
  const id = readReportId(member(root, "report-id"), f);
  const list = readPolicyList(member(root, "policies"), f);
  if (list === null) return null;
  const policies = list.map((p, i) => readPolicy(p, `policies[${i}]`, f));
  if (range === null || id === null) return null;
  if (range["start-datetime"] > range["end-datetime"]) {
    f.add(
      "report.date.reversed",
      `date-range starts at ${range["start-datetime"]} but ends at ${range["end-datetime"]}`,
      "date-range",
    );
  }
  return {
    "organization-name": organization,
    "date-range": range,
    "contact-info": contact,
    "report-id": id,
    policies: policies.filter((p): p is ReportPolicy => p !== null),
  };
}

function readDateRange(v: Json | undefined, f: Findings): TlsrptReport["date-range"] | null {
  if (v === undefined || v === null) {
    f.add("report.field.missing", `date-range is ${v === null ? "null" : "missing"}`, "date-range");
    return null;
  }
  if (!isObject(v)) {
    f.add("report.field.type", `date-range is ${describe(v)}, not an object`, "date-range");
    return null;
  }
  const start = dateTime(member(v, "start-datetime"), "date-range.start-datetime", f);
  const end = dateTime(member(v, "end-datetime"), "date-range.end-datetime", f);
  return start === null || end === null ? null : { "start-datetime": start, "end-datetime": end };
}

function readContact(v: Json | undefined, f: Findings): string | null {
  if (typeof v === "string" && v.trim() !== "") return v;
  if (v === undefined || v === null || typeof v === "string") {
    const what = v === undefined ? "missing" : v === null ? "null" : "empty";
    f.add("report.contact-info.missing", `contact-info is ${what}`, "contact-info");
  } else {
    f.add(
      "report.field.not-string",
      `contact-info is ${describe(v)}, not a string`,
      "contact-info",
    );
  }
  return null;
}

function readReportId(v: Json | undefined, f: Findings): string | null {
  if (typeof v === "string" && v.trim() !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) {
    f.add("report.report-id.number", `report-id is the number ${v}`, "report-id");
    return String(v);
  }
  if (v === undefined || v === null || typeof v === "string") {
    const what = v === undefined ? "missing" : v === null ? "null" : "empty";
    f.add(
      "report.field.missing",
      `report-id is ${what}; reports are de-duplicated on it`,
      "report-id",
    );
  } else f.add("report.field.type", `report-id is ${describe(v)}, not a string`, "report-id");
  return null;
}

/** RPT-JSON-01 and the RPT-RCV-03 size limits, checked before any policy is read. */
function readPolicyList(v: Json | undefined, f: Findings): Json[] | null {
  let list: Json[];
  if (v === undefined || v === null) {
    f.add("report.field.missing", `policies is ${v === null ? "null" : "missing"}`, "policies");
    return null;
  }
  if (Array.isArray(v)) list = v;
  else if (isObject(v)) {
    f.add("report.policies.not-array", "policies is a single object", "policies");
    list = [v];
  } else {
    f.add("report.field.type", `policies is ${describe(v)}, not an array`, "policies");
    return null;
  }
  if (list.length > REPORT_LIMITS.policies) {
    f.add("report.too-many-policies", `policies has ${list.length} entries`, "policies");
    return null;
  }
  let details = 0;
  for (const p of list) {
    const d = isObject(p) ? member(p, "failure-details") : undefined;
    details += Array.isArray(d) ? d.length : isObject(d) ? 1 : 0;
  }
  if (details > REPORT_LIMITS.failureDetails) {
    f.add(
      "report.too-many-failure-details",
      `The policies hold ${details} failure-details in all`,
      "policies",
    );
    return null;
  }
  if (list.length === 0) f.add("report.policies.empty", "policies is an empty array", "policies");
  return list;
}

function readPolicy(v: Json, path: string, f: Findings): ReportPolicy | null {
  if (!isObject(v)) {
    f.add("report.field.type", `${path} is ${describe(v)}, not an object`, path);
    return null;
  }
  const policy = appliedPolicy(member(v, "policy"), join(path, "policy"), f);
  const summaryAt = join(path, "summary");
  let summary = member(v, "summary");
  if (summary === undefined || summary === null) {
    f.add(
      "report.field.absent",
      `${summaryAt} is ${summary === null ? "null" : "missing"}; counts taken as 0`,
      summaryAt,
    );
    summary = {};
  } else if (!isObject(summary)) {
    f.add("report.field.type", `${summaryAt} is ${describe(summary)}, not an object`, summaryAt);
    summary = {};
  }
  const errorsBefore = f.errors;
  const successful = count(summary, "total-successful-session-count", summaryAt, f);
  const failed = count(summary, "total-failure-session-count", summaryAt, f);
  const details = failureDetails(member(v, "failure-details"), join(path, "failure-details"), f);
  const sum = details.reduce((total, d) => total + d["failed-session-count"], 0);
  // RPT-JSON-03: failure types may overlap, so a difference is never an error.
  if (f.errors === errorsBefore && sum !== failed) {
    const at = join(summaryAt, "total-failure-session-count");
    f.add(
      "report.summary.count-mismatch",
      `${at} is ${failed} but the failure-details add up to ${sum}`,
      at,
    );
  }
  return {
    policy: policy ?? { "policy-type": null, "policy-domain": null },
    summary: {
      "total-successful-session-count": successful,
      "total-failure-session-count": failed,
    },
    "failure-details": details,
  };
}

/** RPT-RCV-05: the report-id as a de-duplication key, without one pair of `<>`. */
export function reportKey(report: Pick<TlsrptReport, "report-id">): string {
  const id = report["report-id"].trim();
  return (id.startsWith("<") && id.endsWith(">") ? id.slice(1, -1) : id).trim();
}

export interface ReportTotals {
  successful: number;
  failed: number;
  policies: number;
  /** Sorted, distinct. */
  policyDomains: string[];
  /** Sorted, distinct, verbatim (unknown types included). */
  resultTypes: string[];
}

export function reportTotals(r: TlsrptReport): ReportTotals {
  let successful = 0;
  let failed = 0;
  const domains = new Set<string>();
  const types = new Set<string>();
  for (const p of r.policies) {
    successful += p.summary["total-successful-session-count"];
    failed += p.summary["total-failure-session-count"];
    if (p.policy["policy-domain"] !== null) domains.add(p.policy["policy-domain"]);
    for (const d of p["failure-details"])
      if (d["result-type"] !== null) types.add(d["result-type"]);
  }
  return {
    successful,
    failed,
    policies: r.policies.length,
    policyDomains: [...domains].sort(),
    resultTypes: [...types].sort(),
  };
}
