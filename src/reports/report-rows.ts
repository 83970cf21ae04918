// A report as table rows and back: the column lists both backends insert with,
// the values in the same order, and the normalised report rebuilt from rows.

import type {
  AppliedPolicy,
  FailureDetail,
  ReportPolicy,
  TlsrptReport,
} from "../core/tlsrpt-report.ts";
import { iso, num, type Row, type SqlValue, text } from "./sql.ts";
import type { NewReport } from "./store.ts";

export const REPORT_COLUMNS = [
  "organization",
  "reporter_key",
  "report_id",
  "report_key",
  "contact",
  "start_ms",
  "end_ms",
  "received_ms",
  "channel",
  "origin",
  "dkim_result",
  "dkim_domain",
  "dkim_aligned",
  "dkim_detail",
  "content_sha256",
  "raw_size",
  "warnings",
  "successful",
  "failed",
] as const;

export const POLICY_COLUMNS = [
  "position",
  "policy_type",
  "policy_domain",
  "policy_strings",
  "mx_hosts",
  "successful",
  "failed",
] as const;

/** `policy_position` is not a column: it ties a detail to its policy row while inserting. */
export const DETAIL_COLUMNS = [
  "position",
  "result_type",
  "sending_mta_ip",
  "receiving_mx_hostname",
  "receiving_mx_helo",
  "receiving_ip",
  "failed_sessions",
  "additional_information",
  "failure_reason_code",
] as const;

export interface ReportRows {
  report: SqlValue[];
  policies: SqlValue[][];
  /** Each: [policy position, ...DETAIL_COLUMNS values]. */
  details: SqlValue[][];
}

export function toRows(r: NewReport): ReportRows {
  const report = r.report;
  let successful = 0;
  let failed = 0;
  const policies: SqlValue[][] = [];
  const details: SqlValue[][] = [];
  for (let i = 0; i < report.policies.length; i++) {
    const p = report.policies[i] as ReportPolicy;
    successful += p.summary["total-successful-session-count"];
    failed += p.summary["total-failure-session-count"];
    const domain = p.policy["policy-domain"];
    policies.push([
      i,
      p.policy["policy-type"],
      domain === null ? null : domainKey(domain),
      jsonOrNull(p.policy["policy-string"]),
      jsonOrNull(p.policy["mx-host"]),
      p.summary["total-successful-session-count"],
      p.summary["total-failure-session-count"],
    ]);
    const list = p["failure-details"];
    for (let j = 0; j < list.length; j++) {
      const d = list[j] as FailureDetail;
      details.push([
        i,
        j,
        d["result-type"],
        d["sending-mta-ip"] ?? null,
        d["receiving-mx-hostname"] ?? null,
        d["receiving-mx-helo"] ?? null,
        d["receiving-ip"] ?? null,
        d["failed-session-count"],
        d["additional-information"] ?? null,
        d["failure-reason-code"] ?? null,
      ]);
    }
  }
  const dkim = r.dkim;
  return {
    report: [
      report["organization-name"],
      r.reporterKey,
      report["report-id"],
      r.reportKey,
      report["contact-info"],
      Date.parse(report["date-range"]["start-datetime"]),
      Date.parse(report["date-range"]["end-datetime"]),
      r.receivedAt.getTime(),
      r.channel,
      r.origin,
      dkim?.result ?? null,
      dkim?.domain ?? null,
      dkim === null || dkim.aligned === null ? null : dkim.aligned ? 1 : 0,
      dkim?.detail ?? null,
      r.contentSha256,
      r.raw.length,
      JSON.stringify(r.warnings),
      successful,
      failed,
    ],
    policies,
    details,
  };
}

/** Policy domains compare case-insensitively and without a root dot; stored that way. */
export function domainKey(domain: string): string {
  const key = domain.trim().toLowerCase();
  return key.endsWith(".") ? key.slice(0, -1) : key;
}

function jsonOrNull(v: string[] | undefined): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

/** The normalised report from its rows (policies and details in position order). */
export function fromRows(report: Row, policies: Row[], details: Row[]): TlsrptReport {
  const byPolicy = new Map<number, FailureDetail[]>();
  for (const d of details) {
    const list = byPolicy.get(num(d.policy)) ?? [];
    list.push(detailFrom(d));
    byPolicy.set(num(d.policy), list);
  }
  return {
    "organization-name": text(report.organization),
    "date-range": { "start-datetime": iso(report.start_ms), "end-datetime": iso(report.end_ms) },
    "contact-info": text(report.contact),
    "report-id": String(report.report_id),
    policies: policies.map(
      (p): ReportPolicy => ({
        policy: policyFrom(p),
        summary: {
          "total-successful-session-count": num(p.successful),
          "total-failure-session-count": num(p.failed),
        },
        "failure-details": byPolicy.get(num(p.id)) ?? [],
      }),
    ),
  };
}

// Members are set in RFC 8460 §4.4 order, as the parser does.
function policyFrom(p: Row): AppliedPolicy {
  const out = { "policy-type": text(p.policy_type) } as AppliedPolicy;
  const strings = text(p.policy_strings);
  if (strings !== null) out["policy-string"] = JSON.parse(strings);
  out["policy-domain"] = text(p.policy_domain);
  const mx = text(p.mx_hosts);
  if (mx !== null) out["mx-host"] = JSON.parse(mx);
  return out;
}

function detailFrom(d: Row): FailureDetail {
  const out = { "result-type": text(d.result_type) } as FailureDetail;
  const optional = [
    ["sending-mta-ip", d.sending_mta_ip],
    ["receiving-mx-hostname", d.receiving_mx_hostname],
    ["receiving-mx-helo", d.receiving_mx_helo],
    ["receiving-ip", d.receiving_ip],
  ] as const;
  for (const [key, value] of optional)
    if (value !== null && value !== undefined) out[key] = String(value);
  out["failed-session-count"] = num(d.failed_sessions);
  if (d.additional_information !== null && d.additional_information !== undefined) {
    out["additional-information"] = String(d.additional_information);
  }
  if (d.failure_reason_code !== null && d.failure_reason_code !== undefined) {
    out["failure-reason-code"] = String(d.failure_reason_code);
  }
  return out;
}
