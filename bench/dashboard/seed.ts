// Seeds a SQLite report store with N failure-detail rows (default 1,000,000),
// shaped like the samples: one report a day per reporter and policy domain,
// an STS policy each, tens of failure details (result type, sending IP,
// receiving MX) per policy, over ~100 days before `end`. Same seed, same rows.
// Rows go into the store's own tables in large transactions: the ingest path
// (parse, hash, compress, dedup) is measured by bench/reports, not here.
// Raw bytes are not written (show/raw on a seeded report answers 404 raw).

import { DatabaseSync } from "node:sqlite";
import { openReportStore } from "../../src/reports/store.ts";
import { rng } from "../../test/reports/report-generator.ts";

export interface SeedOptions {
  path: string;
  details: number;
  domains: number;
  days: number;
  /** The last day's end (UTC midnight). */
  end: Date;
  seed?: number;
}

const REPORTERS = [
  "google.com",
  "Microsoft Corporation",
  "Mail.Ru",
  "Yahoo Inc.",
  "comcast.net",
  "GMX",
  "Fastmail",
  "Proton AG",
  "Zoho",
  "Apple Inc.",
];
const RESULT_TYPES = [
  "certificate-expired",
  "starttls-not-supported",
  "validation-failure",
  "certificate-host-mismatch",
  "sts-policy-fetch-error",
  "certificate-not-trusted",
];
const DAY_MS = 86_400_000;

export async function seed(o: SeedOptions): Promise<{ reports: number; details: number }> {
  // Opening through the store creates and migrates the tables (indexes included).
  await (await openReportStore(o.path)).close();
  const db = new DatabaseSync(o.path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = OFF");
  const r = rng(o.seed ?? 7);
  const report = db.prepare(
    `INSERT INTO tlsrpt_reports (organization, reporter_key, report_id, report_key, contact,
       start_ms, end_ms, received_ms, channel, origin, content_sha256, raw_size, warnings,
       successful, failed)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'https', 'bench', ?, 0, '[]', ?, ?) RETURNING id`,
  );
  const policy = db.prepare(
    `INSERT INTO tlsrpt_policies (report, position, policy_type, policy_domain, policy_strings,
       mx_hosts, successful, failed) VALUES (?, 0, 'sts', ?, ?, ?, ?, ?) RETURNING id`,
  );
  const detail = db.prepare(
    `INSERT INTO tlsrpt_failure_details (policy, position, result_type, sending_mta_ip,
       receiving_mx_hostname, receiving_ip, failed_sessions) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const startDay = o.end.getTime() - o.days * DAY_MS;
  // Enough details per report (on average) to reach the target over every domain, day and reporter.
  const slots = o.domains * o.days * REPORTERS.length;
  const mean = Math.max(1, o.details / slots);
  let details = 0;
  let reports = 0;
  db.exec("BEGIN");
  outer: for (let day = 0; day < o.days; day++) {
    for (let d = 0; d < o.domains; d++) {
      const domain = `d${d}.example`;
      const mxs = [`mx1.${domain}`, `mx2.${domain}`, `mx3.${domain}`];
      for (const [k, org] of REPORTERS.entries()) {
        const n = Math.min(o.details - details, Math.round(mean * (0.5 + r())));
        const start = startDay + day * DAY_MS;
        const fails: number[] = Array.from({ length: n }, () => 1 + Math.floor(r() * 20));
        const failed = fails.reduce((a, b) => a + b, 0);
        const successful = Math.floor(r() * 5000);
        const id = `${day}-${d}-${k}`;
        const row = report.get(
          org,
          org.toLowerCase(),
          id,
          id,
          `mailto:tlsrpt@${org.toLowerCase().replace(/\W+/g, "")}.example`,
          start,
          start + DAY_MS - 1000,
          start + DAY_MS + 3_600_000,
          `bench-${id}`,
          successful,
          failed,
        );
        reports++;
        const p = policy.get(
          Number(row?.id),
          domain,
          JSON.stringify(["version: STSv1", "mode: enforce", ...mxs.map((m) => `mx: ${m}`)]),
          JSON.stringify(mxs),
          successful,
          failed,
        );
        for (let i = 0; i < n; i++) {
          const type = RESULT_TYPES[Math.floor(r() * r() * RESULT_TYPES.length)] as string;
          const ip = `192.0.${k * 20 + Math.floor(r() * 20)}.${1 + Math.floor(r() * 250)}`;
          const mx = mxs[Math.floor(r() * mxs.length)] as string;
          detail.run(Number(p?.id), i, type, ip, mx, "203.0.113.25", fails[i] as number);
        }
        details += n;
        if (details >= o.details) break outer;
      }
    }
    // Commit a day at a time: bounded WAL, and a killed seed keeps whole days.
    db.exec("COMMIT");
    db.exec("BEGIN");
  }
  db.exec("COMMIT");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.exec("ANALYZE");
  db.close();
  return { reports, details };
}
