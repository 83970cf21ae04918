// `mtasts reports list`: the selected reports, newest period first.

import { parseArgs } from "node:util";
import {
  COMMON_OPTIONS,
  EXIT,
  parsedOrUsage,
  type ReportsIo,
  usage,
  withStore,
} from "./reports.ts";
import { FILTER_OPTIONS, filterFrom, filterJson } from "./reports-filter.ts";
import { count, table } from "./reports-render.ts";

const DEFAULT_LIMIT = 100;

export async function runList(args: readonly string[], io: ReportsIo): Promise<number> {
  const parsed = parsedOrUsage(
    () =>
      parseArgs({
        args: [...args],
        allowPositionals: false,
        strict: true,
        options: {
          ...COMMON_OPTIONS,
          ...FILTER_OPTIONS,
          limit: { type: "string" },
          json: { type: "boolean", default: false },
        },
      }),
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    return usage(
      io,
      `--limit ${JSON.stringify(values.limit)} must be a whole number (0: no limit)`,
    );
  }
  const filter = filterFrom(values, new Date());
  if ("error" in filter) return usage(io, filter.error);

  return withStore(values.db, io, { create: false }, async (store) => {
    // One more than asked says whether there are more.
    const found = await store.listReports(filter, limit === 0 ? 0 : limit + 1);
    const more = limit > 0 && found.length > limit;
    const reports = more ? found.slice(0, limit) : found;
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ filters: filterJson(filter), reports, more })}\n`);
      return EXIT.ok;
    }
    if (reports.length === 0) {
      io.stdout.write("no reports\n");
      return EXIT.ok;
    }
    const rows = reports.map((r) => [
      r.id,
      r.start.slice(0, 10),
      r.organization ?? "(no organization)",
      r.domains.join(" "),
      count(r.successful),
      count(r.failed),
      r.dkim ?? "-",
      r.reportId,
    ]);
    const head = ["id", "day", "reporter", "domains", "successful", "failed", "dkim", "report-id"];
    const lines = table(head, rows, new Set([0, 4, 5]));
    if (more) lines.push(`… more; use --limit ${limit * 10} or --limit 0 for all`);
    io.stdout.write(`${lines.join("\n")}\n`);
    return EXIT.ok;
  });
}
