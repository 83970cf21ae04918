// The alert rules as pure judgements: given what the latest check and the
// reports say about one domain, which conditions hold now, and for which
// subjects we know enough to say a condition has cleared. An alert is
// auto-resolved only when its rule was judged and `settles` its subject, so a
// check that could not reach an MX never "resolves" that MX's expiring
// certificate.

import type { FailureRateRule } from "./config.ts";
import type { AlertRule, CheckRun } from "./types.ts";

export interface Condition {
  rule: AlertRule;
  domain: string;
  subject: string;
  message: string;
}

export interface Judgement {
  rule: AlertRule;
  domain: string;
  firing: Condition[];
  /** True when a live alert on `subject` that is not firing has cleared. */
  settles(subject: string): boolean;
}

export const SESSIONS_SUBJECT = "tls sessions";
const SUBJECT_MAX = 200;

const percent = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;
const days = (ms: number) => {
  const d = ms / 86_400_000;
  return Number.isInteger(d)
    ? `${d} day${d === 1 ? "" : "s"}`
    : `${Math.round(ms / 3_600_000)} hours`;
};

export function judgeFailureRate(
  domain: string,
  rule: FailureRateRule,
  totals: { successful: number; failed: number },
): Judgement {
  const sessions = totals.successful + totals.failed;
  const rate = sessions === 0 ? 0 : totals.failed / sessions;
  const firing: Condition[] =
    sessions >= rule.minSessions && rate > rule.threshold
      ? [
          {
            rule: "failure-rate",
            domain,
            subject: SESSIONS_SUBJECT,
            message: `${percent(rate)} of ${sessions} TLS sessions to ${domain} failed over the last ${days(rule.windowMs)} (threshold ${percent(rule.threshold)}), according to TLS-RPT reports`,
          },
        ]
      : [];
  // Below min_sessions the rule as configured does not hold: the alert clears.
  return { rule: "failure-rate", domain, firing, settles: () => true };
}

export interface ResultTypeSeen {
  type: string;
  /** End of the earliest report that carried it. */
  firstEnd: Date;
  failed: number;
}

/**
 * Result types with an alert of their own per domain; the rest share one. RFC
 * 8460 defines about fifteen, but the names come from senders' reports, and one
 * hostile report must not open (and mail) thousands of alerts.
 */
export const NEW_RESULT_TYPES_MAX = 10;
const OTHER_TYPES_SUBJECT = "(other new result types)";

export function judgeNewResultTypes(
  domain: string,
  windowStart: Date,
  seen: readonly ResultTypeSeen[],
): Judgement {
  const since = windowStart.toISOString();
  const fresh = seen
    .filter((s) => s.firstEnd.getTime() > windowStart.getTime())
    // The types that failed most get their own alerts; ties keep a stable order.
    .sort((a, b) => b.failed - a.failed || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const firing = fresh.slice(0, NEW_RESULT_TYPES_MAX).map(
    (s): Condition => ({
      rule: "new-result-type",
      domain,
      // Result types come from senders' reports: bounded before they become keys.
      subject: s.type.slice(0, SUBJECT_MAX),
      message: `TLS-RPT reports for ${domain} show the failure result type "${s.type.slice(0, SUBJECT_MAX)}" (${s.failed} failed sessions), never reported for this domain before ${since}`,
    }),
  );
  const rest = fresh.slice(NEW_RESULT_TYPES_MAX);
  if (rest.length > 0) {
    const failed = rest.reduce((n, s) => n + s.failed, 0);
    const names = rest.slice(0, 5).map((s) => `"${s.type.slice(0, 40)}"`);
    firing.push({
      rule: "new-result-type",
      domain,
      subject: OTHER_TYPES_SUBJECT,
      message: `TLS-RPT reports for ${domain} show ${rest.length} more failure result types never reported before ${since} (${failed} failed sessions), e.g. ${names.join(", ")}; a sender inventing result types may be misreporting`,
    });
  }
  return { rule: "new-result-type", domain, firing, settles: () => true };
}

export function judgeCertExpiry(domain: string, withinDays: number, run: CheckRun): Judgement {
  const firing: Condition[] = [];
  for (const c of run.certificates) {
    if (c.daysLeft === null || c.daysLeft > withinDays) continue;
    const when = c.notAfter === null ? "" : ` (${c.notAfter.toISOString().slice(0, 10)})`;
    firing.push({
      rule: "cert-expiry",
      domain,
      subject: c.mx,
      message:
        c.daysLeft < 0
          ? `The TLS certificate of MX ${c.mx} expired ${-c.daysLeft} days ago${when}: MTA-STS senders refuse to deliver to it`
          : `The TLS certificate of MX ${c.mx} expires in ${c.daysLeft} days${when} (alert threshold ${withinDays} days)`,
    });
  }
  const known = new Map(run.certificates.map((c) => [c.mx, c.daysLeft !== null]));
  // An MX no longer in DNS has cleared; one whose certificate could not be read is unknown.
  return { rule: "cert-expiry", domain, firing, settles: (mx) => known.get(mx) ?? true };
}

export function judgePolicyHost(domain: string, run: CheckRun): Judgement {
  const errors = run.findings.filter(
    (f) => f.severity === "error" && (f.code.startsWith("fetch.") || f.code.startsWith("policy.")),
  );
  const subject = `mta-sts.${domain}`;
  const firing: Condition[] =
    errors.length === 0
      ? []
      : [
          {
            rule: "policy-host",
            domain,
            subject,
            message: `The policy at https://${subject}/.well-known/mta-sts.txt cannot be used by senders: ${errors
              .slice(0, 3)
              .map((f) => `[${f.code}] ${f.message}`)
              .join("; ")}`,
          },
        ];
  const cleared = errors.length === 0 && (run.policyHash != null || run.status !== "incomplete");
  return { rule: "policy-host", domain, firing, settles: () => cleared };
}

/**
 * `firstHash`: the policy served when the current id was first seen. A policy
 * that changed under an unchanged id is not refetched by senders that cached it.
 */
export function judgeIdOutOfStep(
  domain: string,
  run: CheckRun,
  firstHash: string | null,
): Judgement | null {
  if (run.policyId === null || run.policyHash == null || firstHash === null) return null;
  const firing: Condition[] =
    firstHash === run.policyHash
      ? []
      : [
          {
            rule: "id-out-of-step",
            domain,
            subject: `_mta-sts.${domain}`,
            message: `The policy served for ${domain} changed but the _mta-sts TXT id is still ${run.policyId}: senders that cached the old policy keep using it until max_age runs out`,
          },
        ];
  return { rule: "id-out-of-step", domain, firing, settles: () => true };
}
