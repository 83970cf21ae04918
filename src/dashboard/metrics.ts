// Prometheus text exposition for `mtasts serve`, by hand like the resolver's:
// requests by kind and status class, logins, report intake outcomes, and
// gauges sampled at scrape time.

import type { IntakeEvent } from "../reports/intake-attempt.ts";

export type RequestKind =
  | "page"
  | "api"
  | "static"
  | "login"
  | "intake"
  | "health"
  | "metrics"
  | "other";

export interface DashboardMetrics {
  request(kind: RequestKind, status: number): void;
  login(outcome: "ok" | "invalid" | "rate-limited"): void;
  intake(event: IntakeEvent): void;
  render(gauges: Record<string, number>): string;
}

export function createDashboardMetrics(): DashboardMetrics {
  const requests = new Map<string, number>();
  const logins = new Map<string, number>();
  const intake = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const lines = (name: string, help: string, label: string, m: Map<string, number>) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} counter`,
    ...[...m.entries()].sort().map(([k, v]) => `${name}{${label}} ${v}`.replace("%s", k)),
  ];
  return {
    request: (kind, status) => inc(requests, `kind="${kind}",code="${Math.floor(status / 100)}xx"`),
    login: (outcome) => inc(logins, outcome),
    intake: (event) =>
      inc(
        intake,
        event.type === "report"
          ? event.outcome.status
          : event.type === "refused"
            ? `refused:${event.reason}`
            : event.type,
      ),
    render(gauges) {
      const out = [
        ...lines(
          "mtasts_serve_requests_total",
          "HTTP requests answered, by kind and status class.",
          "%s",
          requests,
        ),
        ...lines("mtasts_serve_logins_total", "Login attempts by outcome.", 'outcome="%s"', logins),
        ...lines(
          "mtasts_serve_intake_events_total",
          "Report intake events (stored, duplicate, quarantined, refused:reason).",
          'event="%s"',
          intake,
        ),
      ];
      for (const [name, value] of Object.entries(gauges)) {
        out.push(`# TYPE ${name} gauge`, `${name} ${value}`);
      }
      return `${out.join("\n")}\n`;
    },
  };
}
