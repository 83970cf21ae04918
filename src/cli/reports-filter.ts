// --domain, --since and --until, shared by `summary` and `list`.

import { policyDomain } from "../core/names.ts";
import type { ReportFilter } from "../reports/store.ts";
import { PERIOD_HINT, pointInTime } from "./reports-period.ts";

export const FILTER_OPTIONS = {
  domain: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
} as const;

interface Values {
  domain?: string;
  since?: string;
  until?: string;
}

export function filterFrom(values: Values, now: Date): ReportFilter | { error: string } {
  const filter: ReportFilter = {};
  if (values.domain !== undefined) {
    const d = policyDomain(values.domain);
    if (d === null) {
      return {
        error: `--domain ${JSON.stringify(values.domain)} is not a domain name (e.g. example.com)`,
      };
    }
    filter.domain = d;
  }
  for (const key of ["since", "until"] as const) {
    const v = values[key];
    if (v === undefined) continue;
    const at = pointInTime(v, now);
    if (at === null) return { error: `--${key} ${JSON.stringify(v)}: ${PERIOD_HINT}` };
    filter[key] = at;
  }
  if (filter.since && filter.until && filter.since >= filter.until) {
    return { error: "--since must be before --until" };
  }
  return filter;
}

/** The filter as echoed in --json output. */
export function filterJson(filter: ReportFilter): Record<string, string | null> {
  return {
    domain: filter.domain ?? null,
    since: filter.since?.toISOString() ?? null,
    until: filter.until?.toISOString() ?? null,
  };
}

export function filterText(filter: ReportFilter): string {
  const parts: string[] = [];
  if (filter.domain) parts.push(`domain ${filter.domain}`);
  if (filter.since) parts.push(`since ${filter.since.toISOString()}`);
  if (filter.until) parts.push(`until ${filter.until.toISOString()}`);
  return parts.length === 0 ? "all reports" : parts.join(", ");
}
