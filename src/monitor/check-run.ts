// A `check` result as kept in history: what the dashboard shows and what the
// rules read (status, mode, published id, findings, certificate expiry), not
// the whole DomainResult.

import { createHash } from "node:crypto";
import type { DomainResult } from "../check/index.ts";
import type { CheckRun } from "./types.ts";

/** Findings' messages are clipped: a hostile host's text must not grow the history unbounded. */
const MESSAGE_MAX = 1000;
const FINDINGS_MAX = 200;

export function checkRunOf(result: DomainResult, at: Date): CheckRun {
  const record = result.stsRecord?.value as { id?: unknown } | null | undefined;
  const published = typeof record?.id === "string" ? record.id : (result.policy?.id ?? null);
  return {
    domain: result.domain,
    at,
    status: result.status,
    mode: result.policy?.valid ? result.policy.mode : null,
    policyId: published,
    findings: result.findings.slice(0, FINDINGS_MAX).map((f) => ({
      code: f.code,
      severity: f.severity,
      message: f.message.slice(0, MESSAGE_MAX),
      ...(f.subject === undefined ? {} : { subject: f.subject }),
    })),
    certificates: result.mx.map((mx) => {
      const notAfter = mx.certificate ? new Date(mx.certificate.notAfter) : null;
      return {
        mx: mx.host,
        notAfter: notAfter && !Number.isNaN(notAfter.getTime()) ? notAfter : null,
        daysLeft: mx.certificate ? mx.certificate.daysLeft : null,
      };
    }),
    policyHash: policyHash(result),
  };
}

/**
 * What senders act on in the served policy: mode, max_age and the mx patterns
 * (as a set). Spacing, line order and comments do not change it; anything a
 * sender would cache differently does.
 */
function policyHash(result: DomainResult): string | null {
  const p = result.policy;
  if (p === null || !p.valid) return null;
  const meaning = JSON.stringify([p.mode, p.max_age, [...p.mx].map((m) => m.toLowerCase()).sort()]);
  return createHash("sha256").update(meaning).digest("hex").slice(0, 32);
}
