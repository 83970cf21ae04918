// `metrics_listen`: Prometheus text (exposition format 0.0.4) on /metrics and
// a liveness answer on /healthz, over plain HTTP on an address the operator
// keeps private. With workers, the primary asks each worker for its counters
// and sums them, so one scrape sees the whole host.

import { createServer, type Server } from "node:http";
import type { HostMetrics } from "./types.ts";

export interface HostSample {
  metrics: HostMetrics;
  /** Domains with a policy being served. */
  domains: number;
  /** Policy files that currently fail to load. */
  invalid: number;
}

const COUNTERS: [keyof HostMetrics, string, string][] = [
  ["requests", "mtasts_host_requests_total", "HTTPS requests answered"],
  ["policyReplies", "mtasts_host_policy_replies_total", "Requests answered with a policy (200)"],
  ["notFound", "mtasts_host_not_found_total", "Requests answered 404 (unknown host or path)"],
  ["misdirected", "mtasts_host_misdirected_total", "Requests whose Host disagreed with SNI (421)"],
  [
    "rejected",
    "mtasts_host_rejected_total",
    "Requests refused: body, oversize or malformed head, timeout",
  ],
  ["tlsErrors", "mtasts_host_tls_errors_total", "TLS handshakes that failed or timed out"],
  ["reloads", "mtasts_host_reloads_total", "Reloads asked for (SIGHUP)"],
  ["challenges", "mtasts_host_acme_challenges_total", "ACME HTTP-01 challenges answered"],
];

export function sumSamples(samples: readonly HostSample[]): HostSample {
  const total: HostSample = { metrics: emptyMetrics(), domains: 0, invalid: 0 };
  for (const s of samples) {
    for (const [k] of COUNTERS) total.metrics[k] += s.metrics[k] ?? 0;
    // Every worker serves the same files: the gauges are the same, not additive.
    total.domains = Math.max(total.domains, s.domains);
    total.invalid = Math.max(total.invalid, s.invalid);
  }
  return total;
}

export function emptyMetrics(): HostMetrics {
  return {
    requests: 0,
    policyReplies: 0,
    notFound: 0,
    misdirected: 0,
    rejected: 0,
    tlsErrors: 0,
    reloads: 0,
    challenges: 0,
  };
}

export function renderMetrics(s: HostSample): string {
  const out: string[] = [];
  for (const [k, name, help] of COUNTERS)
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${s.metrics[k]}`);
  out.push(
    "# HELP mtasts_host_policies_served Domains whose policy is being served",
    "# TYPE mtasts_host_policies_served gauge",
    `mtasts_host_policies_served ${s.domains}`,
    "# HELP mtasts_host_policy_files_invalid Policy files that currently fail to load (the last good version, if any, is served)",
    "# TYPE mtasts_host_policy_files_invalid gauge",
    `mtasts_host_policy_files_invalid ${s.invalid}`,
  );
  return `${out.join("\n")}\n`;
}

export function createMetricsServer(sample: () => Promise<HostSample>): Server {
  return createServer({ headersTimeout: 5000, requestTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (path !== "/metrics" && path !== "/healthz") {
      res.writeHead(404).end();
      return;
    }
    sample().then(
      (s) => {
        const body = path === "/metrics" ? renderMetrics(s) : `ok ${s.domains} domains\n`;
        res
          .writeHead(200, {
            "Content-Type":
              path === "/metrics"
                ? "text/plain; version=0.0.4; charset=utf-8"
                : "text/plain; charset=utf-8",
            "Content-Length": Buffer.byteLength(body),
          })
          .end(body);
      },
      (err: unknown) => {
        res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8" }).end(`${String(err)}\n`);
      },
    );
  });
}
