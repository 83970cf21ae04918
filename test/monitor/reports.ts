// TLS-RPT reports for the report-based rules, ingested through the one real
// ingest path into a real store: one policy for `domain`, a period ending at
// `end`, the given session counts and failure details.

import { ingestReport } from "../../src/reports/ingest.ts";
import type { ReportStore } from "../../src/reports/store.ts";

let serial = 0;

export async function ingest(
  store: ReportStore,
  r: {
    domain: string;
    end: Date;
    successful: number;
    failures: { type: string; count: number; mx?: string }[];
    organization?: string;
  },
): Promise<void> {
  const start = new Date(r.end.getTime() - 86_400_000 + 1000);
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  const failed = r.failures.reduce((n, f) => n + f.count, 0);
  const body = {
    "organization-name": r.organization ?? "Sender Ltd",
    "date-range": { "start-datetime": iso(start), "end-datetime": iso(r.end) },
    "contact-info": "tlsrpt@sender.example",
    "report-id": `monitor-test-${process.pid}-${++serial}`,
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": [
            "version: STSv1",
            "mode: enforce",
            `mx: mx1.${r.domain}`,
            "max_age: 604800",
          ],
          "policy-domain": r.domain,
          "mx-host": [`mx1.${r.domain}`],
        },
        summary: {
          "total-successful-session-count": r.successful,
          "total-failure-session-count": failed,
        },
        "failure-details": r.failures.map((f) => ({
          "result-type": f.type,
          "sending-mta-ip": "192.0.2.1",
          "receiving-mx-hostname": f.mx ?? `mx1.${r.domain}`,
          "failed-session-count": f.count,
        })),
      },
    ],
  };
  const outcome = await ingestReport(store, {
    bytes: new TextEncoder().encode(JSON.stringify(body)),
    channel: "file",
    receivedAt: r.end,
  });
  if (outcome.status !== "stored") throw new Error(`report not stored: ${JSON.stringify(outcome)}`);
}
