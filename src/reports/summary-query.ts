// `summary`: totals over the selected reports and one grouping of them. The
// total is always the policies' summary counts (RFC 8460 §4.4); groupings by
// mx or result-type come from failure-details, which count failures only and
// may overlap (RPT-JSON-03), so their rows need not add up to the total.

import { periodWhere } from "./report-queries.ts";
import { num, type SqlRunner, text } from "./sql.ts";
import type { ReportFilter, Summary, SummaryGrouping, SummaryRow } from "./store.ts";

const DAY_MS = 86_400_000;

export async function summary(
  db: SqlRunner,
  filter: ReportFilter,
  by: SummaryGrouping,
): Promise<Summary> {
  const where = periodWhere(filter);
  // Without a domain, the report rows carry their own totals and no join is needed.
  const policyJoin =
    filter.domain === undefined
      ? ""
      : "JOIN tlsrpt_policies p ON p.report = r.id AND p.policy_domain = ?";
  const joinParams = filter.domain === undefined ? [] : [filter.domain];
  const counted = filter.domain === undefined ? "r" : "p";
  const whereSql = where.sql.length > 0 ? `WHERE ${where.sql.join(" AND ")}` : "";

  const [total] = await db.all(
    `SELECT count(DISTINCT r.id) AS reports, sum(${counted}.successful) AS successful,
       sum(${counted}.failed) AS failed
     FROM tlsrpt_reports r ${policyJoin} ${whereSql}`,
    [...joinParams, ...where.params],
  );

  let rows: SummaryRow[];
  if (by === "mx" || by === "result-type") {
    const key = by === "mx" ? "lower(d.receiving_mx_hostname)" : "d.result_type";
    const detailJoin = `JOIN tlsrpt_policies p ON p.id = d.policy${filter.domain === undefined ? "" : " AND p.policy_domain = ?"}
       JOIN tlsrpt_reports r ON r.id = p.report`;
    const found = await db.all(
      `SELECT ${key} AS k, count(DISTINCT p.report) AS reports, sum(d.failed_sessions) AS failed
       FROM tlsrpt_failure_details d ${detailJoin} ${whereSql} GROUP BY ${key}`,
      [...joinParams, ...where.params],
    );
    rows = found.map((r) => ({ key: text(r.k), reports: num(r.reports), failed: num(r.failed) }));
  } else {
    const key =
      by === "day"
        ? `r.start_ms / ${DAY_MS}`
        : by === "reporter"
          ? "r.organization"
          : "p2.policy_domain";
    // Grouping by domain always needs the policies; a domain filter already joined them.
    const domainJoin =
      by === "domain" && filter.domain === undefined
        ? "JOIN tlsrpt_policies p2 ON p2.report = r.id"
        : "";
    const source = by === "domain" && filter.domain === undefined ? "p2" : counted;
    const groupKey = by === "domain" && filter.domain !== undefined ? "p.policy_domain" : key;
    const found = await db.all(
      `SELECT ${groupKey} AS k, count(DISTINCT r.id) AS reports,
         sum(${source}.successful) AS successful, sum(${source}.failed) AS failed
       FROM tlsrpt_reports r ${policyJoin} ${domainJoin} ${whereSql} GROUP BY ${groupKey}`,
      [...joinParams, ...where.params],
    );
    rows = found.map((r) => ({
      key: by === "day" && r.k !== null ? dayOf(num(r.k)) : text(r.k),
      reports: num(r.reports),
      successful: num(r.successful),
      failed: num(r.failed),
    }));
  }
  return {
    total: { successful: num(total?.successful), failed: num(total?.failed) },
    reports: num(total?.reports),
    rows: sortRows(rows, by),
  };
}

function dayOf(index: number): string {
  return new Date(index * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Sorted here, not in SQL, so both backends agree whatever the database's
 * collation: days in order; otherwise most failures first, then most
 * successes, then by name (code-point order), unnamed last.
 */
function sortRows(rows: SummaryRow[], by: SummaryGrouping): SummaryRow[] {
  const byKey = (a: SummaryRow, b: SummaryRow) =>
    a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1;
  if (by === "day") return rows.sort(byKey);
  return rows.sort(
    (a, b) => b.failed - a.failed || (b.successful ?? 0) - (a.successful ?? 0) || byKey(a, b),
  );
}
