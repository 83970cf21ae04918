// Building findings from catalogue codes, and the status they add up to.

import type { DnsAnswer } from "../adapters/dns.ts";
import { type Code, diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import type { DomainStatus, Finding } from "./types.ts";

export function finding(code: Code, detail: string, subject?: string, fix?: string): Finding {
  const d: Finding = diag(code, detail, undefined, fix);
  if (subject !== undefined) d.subject = subject;
  return d;
}

/** Parser diagnostics, tagged with what they are about. */
export function about(subject: string, diagnostics: readonly Diagnostic[]): Finding[] {
  return diagnostics.map((d) => ({ ...d, subject }));
}

/** A domain with any error is `error`; otherwise unfinished work makes it `incomplete`. */
export function statusOf(findings: readonly Finding[], incomplete: boolean): DomainStatus {
  if (findings.some((f) => f.severity === "error")) return "error";
  if (incomplete) return "incomplete";
  if (findings.some((f) => f.severity === "warning")) return "warning";
  return "ok";
}

/** Why a DNS answer is not an answer, in words, or null for answers and clean negatives. */
export function dnsFailure(answer: DnsAnswer<unknown>): string | null {
  switch (answer.kind) {
    case "answer":
    case "nxdomain":
    case "nodata":
      return null;
    case "servfail":
      return "the resolver answered SERVFAIL";
    case "refused":
      return "the resolver REFUSED the query";
    case "timeout":
      return "no answer from the resolver (timeout)";
    case "error":
      return answer.message;
  }
}

/**
 * Names a peer chose (certificate SANs and subjects) as message text: a
 * hostile certificate can carry hundreds of names or kilobytes of subject, so
 * both the count and each name's length are capped.
 */
export function nameList(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).map((n) => clip(n));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(", ")} … and ${more} more` : shown.join(", ");
}

export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * A timeout may be our own network, so it leaves the check incomplete; SERVFAIL,
 * REFUSED and CNAME loops are the zone's fault, so they are errors (STS-REC-12).
 */
export function lookupFailure(
  answer: DnsAnswer<unknown>,
  detail: string,
  subject: string,
): Finding {
  return finding(
    answer.kind === "timeout" ? "dns.lookup.timeout" : "dns.lookup.failed",
    detail,
    subject,
  );
}
