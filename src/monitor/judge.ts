// Gathers what the rules need for every managed domain (the latest check
// run, the id's first policy, the reports' figures) and asks each enabled
// rule. A rule whose inputs cannot be read is left out, so its alerts stay
// as they are rather than being resolved on missing data.

import { num, type SqlRunner, text } from "../reports/sql.ts";
import type { ReportStore } from "../reports/store.ts";
import type { MonitorConfig } from "./config.ts";
import {
  type Judgement,
  judgeCertExpiry,
  judgeFailureRate,
  judgeIdOutOfStep,
  judgeNewResultTypes,
  judgePolicyHost,
  type ResultTypeSeen,
} from "./rules.ts";
import { firstHashOfId, latestRuns } from "./run-queries.ts";

export async function judgeAll(
  config: MonitorConfig,
  db: SqlRunner,
  reports: ReportStore | undefined,
  now: Date,
  log: (line: string) => void,
): Promise<Judgement[]> {
  const out: Judgement[] = [];
  const rules = config.rules;
  const runs = new Map((await latestRuns(db, config.domains)).map((r) => [r.domain, r]));
  for (const domain of config.domains) {
    const run = runs.get(domain);
    if (run !== undefined) {
      if (rules.certExpiryDays !== null)
        out.push(judgeCertExpiry(domain, rules.certExpiryDays, run));
      if (rules.policyHost) out.push(judgePolicyHost(domain, run));
      if (rules.idOutOfStep && run.policyId !== null) {
        const first = await firstHashOfId(db, domain, run.policyId);
        const j = judgeIdOutOfStep(domain, run, first);
        if (j !== null) out.push(j);
      }
    }
    if (reports === undefined) continue;
    const failureRate = rules.failureRate;
    if (failureRate !== null) {
      try {
        const since = new Date(now.getTime() - failureRate.windowMs);
        const { total } = await reports.summary({ domain, since }, "result-type");
        out.push(judgeFailureRate(domain, failureRate, total));
      } catch (error) {
        log(`monitor: failure-rate of ${domain} not evaluated: ${reasonOf(error)}`);
      }
    }
    if (rules.newResultType !== null) {
      try {
        const start = new Date(now.getTime() - rules.newResultType.windowMs);
        out.push(judgeNewResultTypes(domain, start, await resultTypesSeen(db, domain)));
      } catch (error) {
        log(`monitor: new-result-type of ${domain} not evaluated: ${reasonOf(error)}`);
      }
    }
  }
  return out;
}

/**
 * Every failure result type ever reported for `domain`, with the end of the
 * first report that carried it. Read from the report store's tables (same
 * database): reports are split by their end time, so a daily report that
 * straddles the window start counts as new, not as history.
 */
async function resultTypesSeen(db: SqlRunner, domain: string): Promise<ResultTypeSeen[]> {
  const rows = await db.all(
    `SELECT d.result_type AS t, min(r.end_ms) AS first_end, sum(d.failed_sessions) AS failed
     FROM tlsrpt_failure_details d
     JOIN tlsrpt_policies p ON p.id = d.policy
     JOIN tlsrpt_reports r ON r.id = p.report
     WHERE p.policy_domain = ? AND d.result_type IS NOT NULL
     GROUP BY d.result_type`,
    [domain],
  );
  return rows.map((r) => ({
    type: text(r.t) ?? "",
    firstEnd: new Date(num(r.first_end)),
    failed: num(r.failed),
  }));
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
