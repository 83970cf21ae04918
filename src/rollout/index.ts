// The face of the rollout capability: move a domain to testing, enforce or
// none. Pre-flight (check, report store) → new policy and id → the policy
// file first, then the `_mta-sts` id (STS-OPS-01), by RFC 2136 or printed.

import { diag } from "../core/catalogue.ts";
import { stsRecordName } from "../core/names.ts";
import {
  buildPolicy,
  DEFAULT_MAX_AGE,
  type DnsRecord,
  freshId,
  stsRecordValue,
} from "../generate/index.ts";
import { loosens, type Preflight, preflight } from "./preflight.ts";
import { previousState } from "./previous.ts";
import { carryOut } from "./publish.ts";
import { earliestRemoval } from "./removal.ts";
import type { RolloutDeps, RolloutOutcome, RolloutRequest } from "./types.ts";

export { policyDirectory } from "./policy-files.ts";
export type * from "./types.ts";
export { dnsPublisher, servedPolicy } from "./wiring.ts";

const DAY_MS = 86_400_000;

export async function rollout(req: RolloutRequest, deps: RolloutDeps): Promise<RolloutOutcome> {
  const now = deps.now();
  const [live, fileText] = await Promise.all([
    deps.check(req.domain),
    deps.files ? deps.files.read(req.domain) : Promise.resolve(null),
  ]);
  const previous = previousState(live, fileText);
  // The patterns: as asked, else what is served today, else the live MX names.
  const mx =
    req.mx !== undefined && req.mx.length > 0
      ? req.mx
      : previous.mx.length > 0
        ? previous.mx
        : live.mx.map((m) => m.host).filter((h) => h !== live.domain);
  const maxAge = req.maxAge ?? DEFAULT_MAX_AGE[req.to];
  const checks: Preflight = preflight(live, previous, req.to, mx);
  const blockers = [...checks.blockers];
  const warnings = [...checks.warnings];
  if (mx.length === 0 && req.to !== "none") {
    blockers.push(
      diag(
        "rollout.check.error",
        `No MX patterns are known for ${req.domain}: no policy is served and DNS lists no MX`,
        undefined,
        "Give the patterns with --mx",
      ),
    );
  }
  const failures = await reportGate(
    req,
    deps,
    previous.mode === null ? false : loosens(previous, req.to),
    now,
  );
  if (failures !== null && failures.failed > 0) {
    const list = failures.rows.map((r) => `${r.resultType ?? "unknown"} ${r.failed}`).join(", ");
    const f = diag(
      "rollout.reports.failures",
      `TLS-RPT reports since ${failures.since.slice(0, 10)} count ${failures.failed} failed sessions for ${req.domain} (${list})`,
    );
    // Only enforce makes failures bounce mail; for testing they are what to watch.
    if (req.to === "enforce") blockers.push(f);
    else warnings.push({ ...f, severity: "warning" });
  }
  const id = freshId(now, previous.id);
  const policy = buildPolicy({ mode: req.to, maxAge, mx });
  const record: DnsRecord = {
    name: stsRecordName(req.domain) as string,
    type: "TXT",
    value: stsRecordValue(id),
    ttl: req.ttl,
  };
  let removeAfter: string | null = null;
  if (req.to === "none") {
    const at = earliestRemoval(now, previous, maxAge);
    removeAfter = at === null ? null : at.toISOString();
    warnings.push(
      diag(
        "rollout.none.wait",
        at === null
          ? "No earlier policy's max_age is known: keep everything published for the largest max_age you ever served (at most a year)"
          : `Keep the records and the mode-none policy until ${at.toISOString()} (the previous max_age of ${previous.maxAge} seconds from now)`,
      ),
    );
  }
  const blocked = blockers.length > 0 && !req.force;
  const outcome: RolloutOutcome = {
    domain: req.domain,
    to: req.to,
    status: blocked ? "blocked" : req.dryRun ? "dry-run" : deps.dns ? "done" : "printed",
    previous,
    policy,
    policyPath: deps.files ? deps.files.path(req.domain) : null,
    id,
    record,
    blockers,
    warnings,
    failures:
      failures === null
        ? null
        : { since: failures.since, failed: failures.failed, rows: failures.rows },
    steps: [],
    removeAfter,
    error: null,
  };
  await carryOut(outcome, req, deps, blocked || req.dryRun);
  return outcome;
}

async function reportGate(req: RolloutRequest, deps: RolloutDeps, loosening: boolean, now: Date) {
  if (deps.failures === undefined || req.to === "none" || loosening) return null;
  const since = new Date(now.getTime() - req.days * DAY_MS);
  const summary = await deps.failures(req.domain, since);
  return {
    since: since.toISOString(),
    failed: summary.total.failed,
    rows: summary.rows
      .filter((r) => r.failed > 0)
      .map((r) => ({ resultType: r.key, failed: r.failed, reports: r.reports })),
  };
}
