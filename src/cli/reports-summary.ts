// `mtasts reports summary`: totals and one grouping over the selected reports.
// `--json` is a contract other tools rely on: ONE object whose `total` is
// {"successful": <int>, "failed": <int>} summed over the selected reports.

import { parseArgs } from "node:util";
import type { Summary, SummaryGrouping, SummaryRow } from "../reports/store.ts";
import {
  COMMON_OPTIONS,
  EXIT,
  parsedOrUsage,
  type ReportsIo,
  usage,
  withStore,
} from "./reports.ts";
import { FILTER_OPTIONS, filterFrom, filterJson, filterText } from "./reports-filter.ts";
import { count, csv, percent, table } from "./reports-render.ts";

const GROUPINGS: readonly SummaryGrouping[] = ["day", "mx", "reporter", "result-type", "domain"];
/** Groupings read from failure-details: they count failures only. */
const FAILURES_ONLY = new Set<SummaryGrouping>(["mx", "result-type"]);

export async function runSummary(args: readonly string[], io: ReportsIo): Promise<number> {
  const parsed = parsedOrUsage(
    () =>
      parseArgs({
        args: [...args],
        allowPositionals: false,
        strict: true,
        options: {
          ...COMMON_OPTIONS,
          ...FILTER_OPTIONS,
          by: { type: "string", default: "day" },
          json: { type: "boolean", default: false },
          csv: { type: "boolean", default: false },
        },
      }),
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const by = values.by as SummaryGrouping;
  if (!GROUPINGS.includes(by)) {
    return usage(io, `--by ${JSON.stringify(values.by)} must be one of ${GROUPINGS.join(", ")}`);
  }
  if (values.json && values.csv) return usage(io, "give --json or --csv, not both");
  const filter = filterFrom(values, new Date());
  if ("error" in filter) return usage(io, filter.error);

  return withStore(values.db, io, { create: false }, async (store) => {
    const s = await store.summary(filter, by);
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({
          total: s.total,
          reports: s.reports,
          by,
          filters: filterJson(filter),
          rows: s.rows.map((r) => rowJson(r, by)),
        })}\n`,
      );
    } else if (values.csv) {
      io.stdout.write(renderCsv(s, by));
    } else {
      io.stdout.write(renderText(s, by, filterText(filter)));
    }
    return EXIT.ok;
  });
}

function rowJson(r: SummaryRow, by: SummaryGrouping): Record<string, unknown> {
  const out: Record<string, unknown> = { [by]: r.key, reports: r.reports };
  if (r.successful !== undefined) out.successful = r.successful;
  out.failed = r.failed;
  return out;
}

function renderCsv(s: Summary, by: SummaryGrouping): string {
  const failuresOnly = FAILURES_ONLY.has(by);
  const head = failuresOnly ? [by, "reports", "failed"] : [by, "reports", "successful", "failed"];
  return csv(
    head,
    s.rows.map((r) =>
      failuresOnly ? [r.key, r.reports, r.failed] : [r.key, r.reports, r.successful ?? 0, r.failed],
    ),
  );
}

function renderText(s: Summary, by: SummaryGrouping, selection: string): string {
  const { successful, failed } = s.total;
  const lines = [
    `${count(s.reports)} report${s.reports === 1 ? "" : "s"} (${selection})`,
    `sessions: ${count(successful)} successful, ${count(failed)} failed (${percent(failed, successful + failed)} failed)`,
  ];
  if (s.rows.length > 0) {
    const failuresOnly = FAILURES_ONLY.has(by);
    const unnamed =
      by === "mx" ? "(no hostname)" : by === "reporter" ? "(no organization)" : "(none)";
    const head = failuresOnly
      ? [by, "reports", "failed sessions"]
      : [by, "reports", "successful", "failed", "failed %"];
    const rows = s.rows.map((r) =>
      failuresOnly
        ? [r.key ?? unnamed, count(r.reports), count(r.failed)]
        : [
            r.key ?? unnamed,
            count(r.reports),
            count(r.successful ?? 0),
            count(r.failed),
            percent(r.failed, (r.successful ?? 0) + r.failed),
          ],
    );
    lines.push("", ...table(head, rows, new Set([1, 2, 3, 4])));
    if (failuresOnly) {
      lines.push(
        "",
        "From failure-details, which count failed sessions only and may overlap (RFC 8460 §4.4).",
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
