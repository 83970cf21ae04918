// Seeded TLS-RPT reports shaped like the samples (Google-, Microsoft- and
// RFC-style), with their expected totals, for the crash test and the ingest
// benchmark. Same seed, same bytes.

export interface GeneratedReport {
  json: string;
  organization: string;
  reportId: string;
  successful: number;
  failed: number;
  policies: number;
  details: number;
}

/** mulberry32: small, fast, good enough to vary test data reproducibly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESULT_TYPES = [
  "certificate-expired",
  "starttls-not-supported",
  "validation-failure",
  "certificate-host-mismatch",
  "sts-policy-fetch-error",
];

const DAY_MS = 86_400_000;
const START = Date.UTC(2025, 0, 1);

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * Report number `i` of a run seeded with `seed`. `extraDetails` adds that many
 * failure details to the first policy (to make a report slow to store).
 */
export function generateReport(seed: number, i: number, extraDetails = 0): GeneratedReport {
  const r = rng(seed * 1_000_003 + i);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)] as T;
  const domain = `d${Math.floor(r() * 50)}.example`;
  // Reports arrive roughly in date order, as real daily ones do: ~40 a day, a few days late at most.
  const day = START + Math.max(0, Math.floor(i / 40) - Math.floor(r() * 3)) * DAY_MS;
  const date = iso(day);
  const style = r();
  const sts = (mx: string[]) => ({
    "policy-type": "sts",
    "policy-string": [
      "version: STSv1",
      "mode: enforce",
      ...mx.map((m) => `mx: ${m}`),
      "max_age: 604800",
    ],
    "policy-domain": domain,
    "mx-host": mx,
  });
  const mx = [`mx1.${domain}`, `mx2.${domain}`];
  const failures = (n: number) =>
    Array.from({ length: n }, () => ({
      "result-type": pick(RESULT_TYPES),
      "sending-mta-ip": `192.0.2.${Math.floor(r() * 254) + 1}`,
      "receiving-mx-hostname": pick(mx),
      "receiving-ip": `198.51.100.${Math.floor(r() * 254) + 1}`,
      "failed-session-count": Math.floor(r() * 20) + 1,
    }));
  let organization: string;
  let reportId: string;
  let contact: string;
  let policies: { policy: object; details: ReturnType<typeof failures>; successful: number }[];
  if (style < 0.5) {
    organization = "Google Inc.";
    reportId = `${date}_${domain}_${i}`;
    contact = "smtp-tls-reporting@google.com";
    policies = [
      {
        policy: sts(mx),
        details: failures(r() < 0.2 ? Math.ceil(r() * 3) : 0),
        successful: Math.floor(r() * 5000),
      },
    ];
  } else if (style < 0.75) {
    organization = "Microsoft Corporation";
    reportId = `1339${String(seed % 1000).padStart(3, "0")}${String(i).padStart(11, "0")}+${domain}`;
    contact = "tlsrpt-noreply@microsoft.com";
    policies = [
      { policy: sts(mx), details: [], successful: Math.floor(r() * 500) },
      {
        policy: {
          "policy-type": "tlsa",
          "policy-string": ["3 1 1 0123456789ABCDEF"],
          "policy-domain": domain,
        },
        details: failures(r() < 0.1 ? 1 : 0),
        successful: Math.floor(r() * 500),
      },
    ];
  } else {
    organization = "Company-X";
    reportId = `${i.toString(16).padStart(8, "0")}-23d3-47ca-b6e0-${seed.toString(16).padStart(12, "0")}`;
    contact = "sts-reporting@company-x.example";
    policies = [
      {
        policy: sts([`*.mail.${domain}`]),
        details: failures(3),
        successful: Math.floor(r() * 6000),
      },
    ];
  }
  const first = policies[0];
  if (first !== undefined && extraDetails > 0) first.details.push(...failures(extraDetails));
  let successful = 0;
  let failed = 0;
  let details = 0;
  const json = JSON.stringify({
    "organization-name": organization,
    "date-range": { "start-datetime": date, "end-datetime": iso(day + DAY_MS - 1000) },
    "contact-info": contact,
    "report-id": reportId,
    policies: policies.map((p) => {
      const f = p.details.reduce((n, d) => n + d["failed-session-count"], 0);
      successful += p.successful;
      failed += f;
      details += p.details.length;
      return {
        policy: p.policy,
        summary: {
          "total-successful-session-count": p.successful,
          "total-failure-session-count": f,
        },
        ...(p.details.length > 0 ? { "failure-details": p.details } : {}),
      };
    }),
  });
  return { json, organization, reportId, successful, failed, policies: policies.length, details };
}
