// What the rollout tests share: the lab world, rollout deps wired to it, and
// TLS-RPT reports to fill a real report store with.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DomainSpec, Lab } from "../../lab/index.ts";
import { createResolver } from "../../src/adapters/dns.ts";
import { checkDomain } from "../../src/check/index.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import type { ReportStore } from "../../src/reports/store.ts";
import { type RolloutDeps, type RolloutRequest, servedPolicy } from "../../src/rollout/index.ts";

/** The lab's domains: healthy in testing, a bad MX certificate, no MTA-STS yet, a policy
 * served without its record, a policy URL answering 404 or 500, enforce with a bad MX. */
export const WORLD: DomainSpec[] = [
  { domain: "good.test", mx: ["mx1", "mx2"], mode: "testing", maxAge: 604800 },
  { domain: "expired.test", mx: ["mx1", "mx2"], mode: "testing", faults: ["mx1:cert-expired"] },
  { domain: "fresh.test", mx: ["mx1"], mtaSts: false },
  { domain: "unannounced.test", mx: ["mx1"], mode: "testing", faults: ["dns:sts-missing"] },
  { domain: "notfound.test", mx: ["mx1"], faults: ["policy:404"] },
  { domain: "failing.test", mx: ["mx1"], faults: ["policy:500"] },
  {
    domain: "enforced.test",
    mx: ["mx1"],
    mode: "enforce",
    maxAge: 2_419_200,
    faults: ["mx1:cert-expired"],
  },
];

export function request(
  domain: string,
  to: RolloutRequest["to"],
  extra: Partial<RolloutRequest> = {},
): RolloutRequest {
  return { domain, to, force: false, dryRun: false, days: 7, ttl: 300, verify: false, ...extra };
}

export function labDeps(lab: Lab, now: Date, extra: Partial<RolloutDeps> = {}): RolloutDeps {
  const checkDeps = lab.checkDeps();
  return {
    check: (d) => checkDomain(d, checkDeps, lab.checkOptions),
    served: servedPolicy({
      resolver: createResolver({
        servers: [{ host: lab.dns.address, port: lab.dns.port }],
        timeoutMs: 1500,
        attempts: 1,
      }),
      ca: [lab.ca.rootPem],
      port: lab.httpsPort,
    }),
    sleep: async () => {},
    now: () => now,
    ...extra,
  };
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-rollout-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One RFC 8460 report for `domain` over [start, start + 1 day), with `failed` certificate-expired sessions. */
export async function fileReport(
  store: ReportStore,
  domain: string,
  start: Date,
  failed: number,
): Promise<void> {
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  const end = new Date(start.getTime() + 86_400_000);
  const report = {
    "organization-name": "Sender Example",
    "date-range": { "start-datetime": iso(start), "end-datetime": iso(end) },
    "contact-info": "tlsrpt@sender.example",
    "report-id": `${iso(start)}_${domain}_${randomUUID()}`,
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": [
            "version: STSv1",
            "mode: testing",
            `mx: mx1.${domain}`,
            "max_age: 604800",
          ],
          "policy-domain": domain,
          "mx-host": [`mx1.${domain}`],
        },
        summary: { "total-successful-session-count": 100, "total-failure-session-count": failed },
        "failure-details":
          failed === 0
            ? []
            : [
                {
                  "result-type": "certificate-expired",
                  "sending-mta-ip": "192.0.2.1",
                  "receiving-mx-hostname": `mx1.${domain}`,
                  "failed-session-count": failed,
                },
              ],
      },
    ],
  };
  const outcome = await ingestReport(store, {
    bytes: new TextEncoder().encode(JSON.stringify(report)),
    channel: "file",
  });
  if (outcome.status !== "stored") throw new Error(`report not stored: ${JSON.stringify(outcome)}`);
}
