// Reading reports back, shared by both backends: list (newest period end
// first), show (normalised and raw), prune, counts. Filters select by period overlap (end > since, start <
// until) and, for a domain, by the policies for it.

import type { Diagnostic } from "../core/diagnostic.ts";
import { decompressRaw, unpack } from "./raw.ts";
import { fromRows } from "./report-rows.ts";
import { bytes, iso, num, rowId, type SqlRunner, type SqlValue, text } from "./sql.ts";
import type {
  DkimRecord,
  ReportFilter,
  ReportListItem,
  ReportRef,
  StoreCounts,
  StoredReport,
} from "./store.ts";
import type { ReportChannel } from "./types.ts";

/** Reports deleted per statement while pruning, so no single statement holds locks for long. */
const PRUNE_BATCH = 500;

/** WHERE conditions on `r` (tlsrpt_reports) for the period of a filter. */
export function periodWhere(filter: ReportFilter): { sql: string[]; params: SqlValue[] } {
  const sql: string[] = [];
  const params: SqlValue[] = [];
  if (filter.since !== undefined) {
    sql.push("r.end_ms > ?");
    params.push(filter.since.getTime());
  }
  if (filter.until !== undefined) {
    sql.push("r.start_ms < ?");
    params.push(filter.until.getTime());
  }
  return { sql, params };
}

const LIST_COLUMNS = `r.id, r.organization, r.report_id, r.start_ms, r.end_ms, r.received_ms,
  r.channel, r.dkim_result, r.successful, r.failed`;

export async function listReports(
  db: SqlRunner,
  filter: ReportFilter,
  limit: number,
): Promise<ReportListItem[]> {
  const where = periodWhere(filter);
  if (filter.domain !== undefined) {
    where.sql.push(
      "EXISTS (SELECT 1 FROM tlsrpt_policies p WHERE p.report = r.id AND p.policy_domain = ?)",
    );
    where.params.push(filter.domain);
  }
  const rows = await db.all(
    `SELECT ${LIST_COLUMNS} FROM tlsrpt_reports r
     ${where.sql.length > 0 ? `WHERE ${where.sql.join(" AND ")}` : ""}
     ORDER BY r.end_ms DESC, r.id DESC ${limit > 0 ? `LIMIT ${Math.floor(limit)}` : ""}`,
    where.params,
  );
  const domains = await domainsOf(
    db,
    rows.map((r) => num(r.id)),
  );
  return rows.map((r) => ({
    id: String(num(r.id)),
    organization: text(r.organization),
    reportId: String(r.report_id),
    start: iso(r.start_ms),
    end: iso(r.end_ms),
    receivedAt: iso(r.received_ms),
    channel: String(r.channel) as ReportChannel,
    dkim: text(r.dkim_result) as DkimRecord["result"] | null,
    domains: domains.get(num(r.id)) ?? [],
    successful: num(r.successful),
    failed: num(r.failed),
  }));
}

async function domainsOf(db: SqlRunner, ids: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  // Chunks keep the parameter count far below both engines' limits.
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await db.all(
      `SELECT DISTINCT report, policy_domain FROM tlsrpt_policies
       WHERE policy_domain IS NOT NULL AND report IN (${chunk.map(() => "?").join(", ")})`,
      chunk,
    );
    for (const row of rows) {
      const list = out.get(num(row.report)) ?? [];
      list.push(String(row.policy_domain));
      out.set(num(row.report), list);
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

export async function getReport(db: SqlRunner, id: string): Promise<StoredReport | null> {
  const n = rowId(id);
  if (n === null) return null;
  const [row] = await db.all(
    `SELECT ${LIST_COLUMNS}, r.contact, r.origin, r.dkim_domain, r.dkim_aligned, r.dkim_detail,
       r.content_sha256, r.raw_size, r.warnings
     FROM tlsrpt_reports r WHERE r.id = ?`,
    [n],
  );
  if (row === undefined) return null;
  const policies = await db.all(
    "SELECT * FROM tlsrpt_policies WHERE report = ? ORDER BY position",
    [n],
  );
  const details = await db.all(
    `SELECT d.* FROM tlsrpt_failure_details d JOIN tlsrpt_policies p ON p.id = d.policy
     WHERE p.report = ? ORDER BY d.policy, d.position`,
    [n],
  );
  const report = fromRows(row, policies, details);
  const domains = [
    ...new Set(report.policies.map((p) => p.policy["policy-domain"]).filter((d) => d !== null)),
  ].sort();
  const dkim = text(row.dkim_result) as DkimRecord["result"] | null;
  return {
    id: String(n),
    organization: text(row.organization),
    reportId: String(row.report_id),
    start: iso(row.start_ms),
    end: iso(row.end_ms),
    receivedAt: iso(row.received_ms),
    channel: String(row.channel) as ReportChannel,
    dkim,
    domains,
    successful: num(row.successful),
    failed: num(row.failed),
    contact: text(row.contact),
    origin: text(row.origin),
    dkimDetail:
      dkim === null
        ? null
        : {
            domain: text(row.dkim_domain),
            aligned: row.dkim_aligned === null ? null : num(row.dkim_aligned) === 1,
            detail: text(row.dkim_detail),
          },
    contentSha256: String(row.content_sha256),
    rawSize: num(row.raw_size),
    warnings: JSON.parse(String(row.warnings)) as Diagnostic[],
    report,
  };
}

export async function getReportRaw(db: SqlRunner, id: string): Promise<Uint8Array | null> {
  const n = rowId(id);
  if (n === null) return null;
  const [row] = await db.all(
    `SELECT r.raw_size, r.raw_offset, w.encoding, w.bytes,
       p.encoding AS pack_encoding, p.bytes AS pack_bytes
     FROM tlsrpt_reports r
     LEFT JOIN tlsrpt_report_raw w ON w.report = r.id
     LEFT JOIN tlsrpt_raw_packs p ON p.id = r.raw_pack
     WHERE r.id = ?`,
    [n],
  );
  if (row === undefined) return null;
  if (row.pack_bytes !== null && row.pack_bytes !== undefined) {
    const pack = decompressRaw(String(row.pack_encoding), bytes(row.pack_bytes));
    return unpack(pack, num(row.raw_offset), num(row.raw_size));
  }
  if (row.bytes === null || row.bytes === undefined) return null;
  return decompressRaw(String(row.encoding), bytes(row.bytes));
}

export async function findByContent(db: SqlRunner, sha256: string): Promise<ReportRef | null> {
  const [row] = await db.all(
    "SELECT id, report_id, organization FROM tlsrpt_reports WHERE content_sha256 = ?",
    [sha256],
  );
  if (row === undefined) return null;
  return {
    id: String(num(row.id)),
    reportId: String(row.report_id),
    organization: text(row.organization),
  };
}

/** Reports whose period ended before `before`; their rows and raw bytes go with them (cascade). */
export async function prune(
  db: SqlRunner,
  before: Date,
  dryRun: boolean,
): Promise<{ reports: number; quarantine: number }> {
  const cutoff = before.getTime();
  if (dryRun) {
    const [r] = await db.all("SELECT count(*) AS n FROM tlsrpt_reports WHERE end_ms < ?", [cutoff]);
    const [q] = await db.all("SELECT count(*) AS n FROM tlsrpt_quarantine WHERE received_ms < ?", [
      cutoff,
    ]);
    return { reports: num(r?.n), quarantine: num(q?.n) };
  }
  let reports = 0;
  for (;;) {
    const n = await db.run(
      `DELETE FROM tlsrpt_reports WHERE id IN
         (SELECT id FROM tlsrpt_reports WHERE end_ms < ? ORDER BY id LIMIT ${PRUNE_BATCH})`,
      [cutoff],
    );
    reports += n;
    if (n < PRUNE_BATCH) break;
  }
  // Packs are shared by the reports of one transaction: each goes with the last of them.
  await db.run(
    `DELETE FROM tlsrpt_raw_packs WHERE NOT EXISTS
       (SELECT 1 FROM tlsrpt_reports r
        WHERE r.id BETWEEN tlsrpt_raw_packs.first_report AND tlsrpt_raw_packs.last_report
          AND r.raw_pack = tlsrpt_raw_packs.id)`,
  );
  const quarantine = await db.run("DELETE FROM tlsrpt_quarantine WHERE received_ms < ?", [cutoff]);
  return { reports, quarantine };
}

export async function counts(db: SqlRunner): Promise<StoreCounts> {
  const [row] = await db.all(
    `SELECT (SELECT count(*) FROM tlsrpt_reports) AS reports,
       (SELECT count(*) FROM tlsrpt_policies) AS policies,
       (SELECT count(*) FROM tlsrpt_failure_details) AS details,
       (SELECT count(*) FROM tlsrpt_quarantine WHERE resolved_ms IS NULL) AS quarantined,
       (SELECT count(*) FROM tlsrpt_quarantine WHERE resolved_ms IS NOT NULL) AS resolved`,
  );
  return {
    reports: num(row?.reports),
    policies: num(row?.policies),
    failureDetails: num(row?.details),
    quarantined: num(row?.quarantined),
    resolved: num(row?.resolved),
  };
}
