// Check-run history: written after each check, read by the dashboard and by
// the rules (the latest run; the first run that published the current id).

import type { DomainStatus } from "../check/index.ts";
import type { PolicyMode } from "../core/policy.ts";
import { num, type Row, type SqlRunner, text } from "../reports/sql.ts";
import type { CheckRun } from "./types.ts";

const COLUMNS = "domain, at_ms, status, mode, policy_id, policy_hash, findings, certificates";

export async function insertRun(db: SqlRunner, run: CheckRun): Promise<void> {
  await db.run(`INSERT INTO monitor_check_runs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
    run.domain,
    run.at.getTime(),
    run.status,
    run.mode,
    run.policyId,
    run.policyHash ?? null,
    JSON.stringify(run.findings),
    JSON.stringify(run.certificates),
  ]);
}

/** The newest run of each of `domains` that has one, in the order of `domains`. */
export async function latestRuns(db: SqlRunner, domains: readonly string[]): Promise<CheckRun[]> {
  if (domains.length === 0) return [];
  // One index seek per domain (domain, at_ms), however long the history; by
  // time, not by id, since runs need not be written in the order they ran.
  // A VALUES list's column is `column1` in both SQLite and PostgreSQL.
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM monitor_check_runs WHERE id IN (
       SELECT (SELECT x.id FROM monitor_check_runs x WHERE x.domain = d.column1
               ORDER BY x.at_ms DESC, x.id DESC LIMIT 1)
       FROM (VALUES ${domains.map(() => "(?)").join(", ")}) AS d)`,
    [...domains],
  );
  const byDomain = new Map(rows.map((r) => [String(r.domain), runOf(r)]));
  return domains.flatMap((d) => byDomain.get(d) ?? []);
}

export async function runHistory(
  db: SqlRunner,
  domain: string,
  limit: number,
): Promise<CheckRun[]> {
  const n = Math.max(0, Math.min(Math.floor(limit), 10_000));
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM monitor_check_runs WHERE domain = ? ORDER BY at_ms DESC, id DESC LIMIT ?`,
    [domain, n],
  );
  return rows.map(runOf);
}

/**
 * Each change of (mode, published id), newest first. Incomplete runs are
 * left out: a timed-out check knows nothing new about the policy.
 */
export async function policyChanges(
  db: SqlRunner,
  domain: string,
): Promise<{ at: Date; mode: PolicyMode | null; policyId: string | null }[]> {
  const rows = await db.all(
    `SELECT at_ms, mode, policy_id FROM monitor_check_runs
     WHERE domain = ? AND status <> 'incomplete' ORDER BY at_ms, id`,
    [domain],
  );
  const out: { at: Date; mode: PolicyMode | null; policyId: string | null }[] = [];
  let last: string | undefined;
  for (const r of rows) {
    const key = JSON.stringify([text(r.mode), text(r.policy_id)]);
    if (key === last) continue;
    last = key;
    out.push({
      at: new Date(num(r.at_ms)),
      mode: text(r.mode) as PolicyMode | null,
      policyId: text(r.policy_id),
    });
  }
  return out.reverse();
}

/** The policy served when `policyId` was first seen published: what the id stood for. */
export async function firstHashOfId(
  db: SqlRunner,
  domain: string,
  policyId: string,
): Promise<string | null> {
  const [row] = await db.all(
    `SELECT policy_hash FROM monitor_check_runs
     WHERE domain = ? AND policy_id = ? AND policy_hash IS NOT NULL
     ORDER BY at_ms, id LIMIT 1`,
    [domain, policyId],
  );
  return row === undefined ? null : text(row.policy_hash);
}

export async function pruneRuns(db: SqlRunner, before: Date): Promise<number> {
  return db.run("DELETE FROM monitor_check_runs WHERE at_ms < ?", [before.getTime()]);
}

function runOf(r: Row): CheckRun {
  const certificates = JSON.parse(String(r.certificates)) as {
    mx: string;
    notAfter: string | null;
    daysLeft: number | null;
  }[];
  return {
    domain: String(r.domain),
    at: new Date(num(r.at_ms)),
    status: String(r.status) as DomainStatus,
    mode: text(r.mode) as PolicyMode | null,
    policyId: text(r.policy_id),
    findings: JSON.parse(String(r.findings)),
    certificates: certificates.map((c) => ({
      mx: c.mx,
      notAfter: c.notAfter === null ? null : new Date(c.notAfter),
      daysLeft: c.daysLeft,
    })),
    policyHash: text(r.policy_hash),
  };
}
