// Pre-flight: may this domain move to the new mode? A move that loosens the
// policy (enforce → testing, anything → none) never blocks: it cannot make a
// delivery fail that the current policy lets through. A move that tightens
// or keeps it blocks on any check error the rollout itself would not fix,
// and `enforce` also needs every live MX covered and passing STS-CERT-05.

import type { DomainResult, Finding } from "../check/index.ts";
import { diag } from "../core/catalogue.ts";
import { type MxPattern, matchMx, parseMxPattern } from "../core/mx-pattern.ts";
import type { PolicyMode } from "../core/policy.ts";
import type { PreviousState } from "./types.ts";

const RANK: Record<PolicyMode, number> = { none: 0, testing: 1, enforce: 2 };

/** Findings about what the rollout replaces: the record, the policy text, coverage by the old patterns. */
function fixedByRollout(f: Finding): boolean {
  return (
    f.code === "dns.sts-record.missing" ||
    f.code.startsWith("sts-record.") ||
    f.code.startsWith("policy.") ||
    f.code === "mx.not-covered" ||
    f.code.startsWith("mx.pattern.") ||
    // A 404 from a host that serves our directory is cured by writing the file;
    // a 500 or 403 is the host's own problem.
    (f.code === "fetch.status" && / answered HTTP 404\b/.test(f.message))
  );
}

export function loosens(previous: PreviousState, to: PolicyMode): boolean {
  return previous.mode !== null && RANK[to] < RANK[previous.mode];
}

export interface Preflight {
  blockers: Finding[];
  warnings: Finding[];
}

export function preflight(
  live: DomainResult,
  previous: PreviousState,
  to: PolicyMode,
  patterns: readonly string[],
): Preflight {
  const blockers: Finding[] = [];
  const warnings: Finding[] = [];
  if (previous.delegatedTo !== null) {
    blockers.push({
      ...diag(
        "rollout.check.error",
        `_mta-sts.${live.domain} is a CNAME to ${previous.delegatedTo}: the policy id is published by the provider (RFC 8461 §8.2)`,
        undefined,
        "Run the rollout for the provider's record, or remove the delegation first",
      ),
      subject: `_mta-sts.${live.domain}`,
    });
  }
  if (to === "none" || loosens(previous, to)) return { blockers, warnings };
  if (live.status === "incomplete") {
    const why = live.findings.filter((f) => f.severity !== "info").map((f) => f.message);
    blockers.push(
      diag(
        "rollout.check.incomplete",
        `The check of ${live.domain} did not complete: ${why.join("; ") || "timeout"}`,
      ),
    );
  }
  const parsed: MxPattern[] = [];
  for (const p of patterns) {
    const r = parseMxPattern(p);
    if (r.ok) parsed.push(r.value);
  }
  const mxBlocked = new Set<string>();
  if (to === "enforce") {
    if (previous.mode !== "testing" && previous.mode !== "enforce") {
      warnings.push(
        diag(
          "rollout.enforce.untested",
          previous.mode === null
            ? `${live.domain} publishes no MTA-STS policy today; going straight to enforce skips the testing period`
            : `${live.domain} is in mode ${previous.mode} today; going straight to enforce skips the testing period`,
        ),
      );
    }
    for (const mx of live.mx) {
      if (matchMx(mx.host, parsed) === null) {
        mxBlocked.add(mx.host);
        blockers.push({
          ...diag(
            "rollout.mx.not-covered",
            `The MX ${mx.host} matches none of ${patterns.join(", ")}`,
          ),
          subject: mx.host,
        });
      } else if (mx.starttls !== true || mx.certificate === null || !tlsValid(live, mx.host)) {
        mxBlocked.add(mx.host);
        const why = live.findings
          .filter((f) => f.subject === mx.host && f.severity === "error")
          .map((f) => f.message.replace(/ \(RFC [^)]*\)$/, ""));
        blockers.push({
          ...diag(
            "rollout.mx.tls-invalid",
            `Senders could not validate ${mx.host}${why.length > 0 ? `: ${why.join("; ")}` : ""}`,
          ),
          subject: mx.host,
        });
      }
    }
  }
  for (const f of live.findings) {
    if (f.severity !== "error" || fixedByRollout(f)) continue;
    if (f.subject !== undefined && mxBlocked.has(f.subject)) continue;
    blockers.push({
      ...diag("rollout.check.error", `${f.code}: ${f.message.replace(/ \(RFC [^)]*\)$/, "")}`),
      subject: f.subject ?? live.domain,
    });
  }
  return { blockers, warnings };
}

/**
 * STS-CERT-05 without the policy: the check's `stsValid` also requires the
 * old policy to cover the host, which the new policy may change.
 */
function tlsValid(live: DomainResult, host: string): boolean {
  return !live.findings.some(
    (f) =>
      f.subject === host &&
      f.severity === "error" &&
      (f.code.startsWith("mx.cert.") ||
        f.code.startsWith("mx.tls.") ||
        f.code.startsWith("mx.starttls.")),
  );
}
