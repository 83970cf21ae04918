// `mtasts reports prune --keep 400d`: retention. Reports whose period ended
// more than DURATION ago go, with their rows and raw bytes; quarantine entries
// received before then go too.

import { parseArgs } from "node:util";
import {
  COMMON_OPTIONS,
  EXIT,
  parsedOrUsage,
  type ReportsIo,
  usage,
  withStore,
} from "./reports.ts";
import { durationMs } from "./reports-period.ts";
import { count } from "./reports-render.ts";

export async function runPrune(args: readonly string[], io: ReportsIo): Promise<number> {
  const parsed = parsedOrUsage(
    () =>
      parseArgs({
        args: [...args],
        allowPositionals: false,
        strict: true,
        options: {
          ...COMMON_OPTIONS,
          keep: { type: "string" },
          "dry-run": { type: "boolean", default: false },
          json: { type: "boolean", default: false },
        },
      }),
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (values.keep === undefined) return usage(io, "prune needs --keep DURATION (e.g. --keep 400d)");
  const keep = durationMs(values.keep);
  if (keep === null || keep === 0) {
    return usage(
      io,
      `--keep ${JSON.stringify(values.keep)} must be a duration such as 400d, 12w or 36h`,
    );
  }
  const before = new Date(Date.now() - keep);
  const dryRun = values["dry-run"];
  return withStore(values.db, io, { create: false }, async (store) => {
    const n = await store.prune(before, { dryRun });
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ before: before.toISOString(), dryRun, ...n })}\n`);
    } else {
      const verb = dryRun ? "would delete" : "deleted";
      io.stdout.write(
        `${verb} ${count(n.reports)} report${n.reports === 1 ? "" : "s"} that ended before ${before.toISOString()} and ${count(n.quarantine)} quarantine entr${n.quarantine === 1 ? "y" : "ies"} received before then\n`,
      );
    }
    return EXIT.ok;
  });
}
