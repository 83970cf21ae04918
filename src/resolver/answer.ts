// The socketmap replies Postfix reads from us (SM-PROTO-02, SM-PF-05..09), as
// bytes postfix-mta-sts-resolver users already rely on (SM-PMSR-07..09), with
// two deliberate differences: `match=` keeps policy order (SM-WEAK-08) and
// policy lines that could break Postfix's `{ … }` syntax are left out of the
// TLSRPT attributes (SM-WEAK-11).

import type { Policy } from "../core/policy.ts";
import type { ZoneConfig } from "./types.ts";

/** "Not ours to decide": Postfix applies its default TLS level (SM-PMSR-07). */
export const NOTFOUND = "NOTFOUND ";

/** What Postfix should do for one destination. */
export type Verdict =
  | { kind: "none" }
  | { kind: "sts"; policy: Policy }
  /** Every MX has usable DNSSEC-validated TLSA records: mandatory DANE (SM-WEAK-01). */
  | { kind: "dane-only" }
  /** Some MX have usable TLSA records: Postfix's own DANE level decides per host. */
  | { kind: "dane" }
  /** DANE state could not be learned in a signed zone: defer rather than guess (STS-DANE-02). */
  | { kind: "temp"; reason: string };

export function replyFor(verdict: Verdict, domain: string, zone: ZoneConfig): string {
  switch (verdict.kind) {
    case "none":
      return NOTFOUND;
    case "dane-only":
      return "OK dane-only";
    case "dane":
      return "OK dane";
    case "temp":
      return `TEMP ${verdict.reason}`;
    case "sts":
      return stsReply(verdict.policy, domain, zone);
  }
}

/**
 * `testing` is enforced only under `strict_testing` (SM-PMSR-07/08); `none`
 * never is. Whether a policy is applied at all is decided here, once.
 */
export function enforced(policy: Pick<Policy, "mode">, zone: ZoneConfig): boolean {
  return policy.mode === "enforce" || (policy.mode === "testing" && zone.strictTesting);
}

/** `OK secure match=…` for a policy that is enforced in this zone; NOTFOUND otherwise. */
export function stsReply(policy: Policy, domain: string, zone: ZoneConfig): string {
  if (!enforced(policy, zone)) return NOTFOUND;
  const matches: string[] = [];
  for (const p of policy.patterns) {
    // Postfix's `.example.net` is STS's `*.example.net` (SM-PF-06); with the
    // TLSRPT attributes Postfix 3.10.5+ narrows it to one label (SM-PF-09).
    const m = p.wildcard ? `.${p.domain}` : p.domain;
    if (!matches.includes(m)) matches.push(m);
  }
  // A policy whose every mx is an IP literal names no host (STS-POL-10): no
  // MX can pass, and an empty match list would make Postfix defer anyway.
  if (matches.length === 0) return "TEMP MTA-STS policy names no MX host";
  let reply = `OK secure match=${matches.join(":")}`;
  if (zone.requireSni) reply += " servername=hostname";
  if (zone.tlsrpt) reply += tlsrptAttributes(policy, domain);
  return reply;
}

/**
 * Postfix 3.10 TLSRPT attributes (SM-PF-08, SM-PMSR-09): the policy type and
 * domain, one `mx_host_pattern` per mx (Postfix 3.10.5+ connects only to MX
 * matching them, SM-PF-09), then the policy lines, `mx` lines first.
 */
function tlsrptAttributes(policy: Policy, domain: string): string {
  let out = ` policy_type=sts policy_domain=${domain}`;
  for (const mx of policy.mx) out += ` mx_host_pattern=${mx}`;
  for (const line of policyStrings(policy)) out += ` { policy_string = ${line} }`;
  return out;
}

// Anything that could close Postfix's `{ … }` early or be mangled by it.
const UNSAFE = /[{}\p{Cc}]/u;

/** `key: value` lines, `mx` first, then the other keys in file order, each once. */
export function policyStrings(policy: Policy): string[] {
  const mx: string[] = [];
  const rest: string[] = [];
  const seen = new Set<string>();
  for (const raw of policy.lines) {
    const colon = raw.indexOf(":");
    if (colon <= 0) continue;
    const key = raw.slice(0, colon).trim();
    const value = raw.slice(colon + 1).trim();
    if (key === "" || value === "" || UNSAFE.test(key) || UNSAFE.test(value)) continue;
    if (key === "mx") mx.push(`mx: ${value}`);
    else if (!seen.has(key)) {
      seen.add(key);
      rest.push(`${key}: ${value}`);
    }
  }
  return [...mx, ...rest];
}
