// `mtasts reports quarantine list | show <id> | reingest <id>… | reingest --all`:
// what was kept out of the store and why; re-ingest after a fix.

import { parseArgs } from "node:util";
import { type ReingestOutcome, reingestQuarantined } from "../reports/reingest.ts";
import type { QuarantineEntry, ReportStore } from "../reports/store.ts";
import type { IngestOptions } from "../reports/types.ts";
import { printable, renderDiagnostics, styleFor } from "./render.ts";
import {
  COMMON_OPTIONS,
  EXIT,
  parsedOrUsage,
  REPORTS_HELP,
  type ReportsIo,
  usage,
  withStore,
} from "./reports.ts";
import { INGEST_OPTIONS, ingestOptions } from "./reports-ingest-options.ts";
import { count, table } from "./reports-render.ts";

const LIST_LIMIT = 100;
const REASON_WIDTH = 100;

export async function runQuarantine(args: readonly string[], io: ReportsIo): Promise<number> {
  const [action, ...rest] = args;
  const parsed = parsedOrUsage(
    () =>
      parseArgs({
        args: rest,
        allowPositionals: true,
        strict: true,
        options: {
          ...COMMON_OPTIONS,
          ...INGEST_OPTIONS,
          all: { type: "boolean", default: false },
          raw: { type: "boolean", default: false },
          json: { type: "boolean", default: false },
        },
      }),
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (action === "--help" || action === "-h") {
    io.stdout.write(REPORTS_HELP);
    return EXIT.ok;
  }
  const ids = positionals.map((p) => p.replace(/^q/i, ""));
  switch (action) {
    case "list":
      if (ids.length > 0) return usage(io, "quarantine list takes no id");
      return withStore(values.db, io, { create: false }, (store) =>
        list(store, io, values.all, values.json),
      );
    case "show": {
      if (ids.length !== 1) return usage(io, "quarantine show takes one id (see quarantine list)");
      if (values.raw && values.json) return usage(io, "give --raw or --json, not both");
      const id = ids[0] as string;
      return withStore(values.db, io, { create: false }, (store) =>
        show(store, io, id, values.raw, values.json),
      );
    }
    case "reingest": {
      if (values.all === ids.length > 0) {
        return usage(io, "quarantine reingest takes ids, or --all (not both)");
      }
      const options = await ingestOptions(values, io);
      if ("error" in options) return usage(io, options.error);
      return withStore(values.db, io, { create: false }, (store) =>
        reingest(store, io, values.all ? null : ids, options, values.json),
      );
    }
    case undefined:
      return usage(io, "quarantine needs list, show or reingest");
    default:
      return usage(io, `unknown quarantine action ${JSON.stringify(action)}`);
  }
}

async function list(store: ReportStore, io: ReportsIo, all: boolean, json: boolean) {
  const items = await store.listQuarantine({ includeResolved: all, limit: json ? 0 : LIST_LIMIT });
  if (json) {
    io.stdout.write(`${JSON.stringify({ quarantine: items })}\n`);
    return EXIT.ok;
  }
  if (items.length === 0) {
    io.stdout.write(all ? "the quarantine is empty\n" : "nothing in quarantine\n");
    return EXIT.ok;
  }
  const rows = items.map((q) => [
    `q${q.id}`,
    q.receivedAt,
    q.resolvedAt === null ? q.code : `resolved → #${q.resolvedReport}`,
    q.attempts > 1 ? `×${q.attempts}` : "",
    q.origin ?? q.channel,
    short(q.reason),
  ]);
  const lines = table(["id", "received", "code", "seen", "origin", "reason"], rows, new Set());
  if (items.length === LIST_LIMIT) lines.push(`… the newest ${LIST_LIMIT}; --json lists all`);
  io.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

async function show(store: ReportStore, io: ReportsIo, id: string, raw: boolean, json: boolean) {
  const entry = await store.getQuarantine(id);
  if (entry === null) {
    io.stderr.write(`mtasts: no quarantine entry ${JSON.stringify(id)} (see quarantine list)\n`);
    return EXIT.attention;
  }
  if (raw) {
    io.stdout.write((await store.getQuarantineRaw(entry.id)) ?? new Uint8Array());
    return EXIT.ok;
  }
  io.stdout.write(json ? `${JSON.stringify(entry)}\n` : renderEntry(entry, io));
  return EXIT.ok;
}

function renderEntry(q: QuarantineEntry, io: ReportsIo): string {
  const style = styleFor(io.stdout, io.env);
  const lines = [
    `${style.bold(`quarantine q${q.id}`)}  ${q.code}`,
    `  received  ${q.receivedAt} by ${q.channel}${q.origin ? ` from ${printable(q.origin)}` : ""}${q.attempts > 1 ? `, ${q.attempts} times` : ""}`,
    `  reason    ${printable(q.reason)}`,
    `  raw       ${count(q.rawSize)} bytes${q.rawTruncated ? " (only the first 10 MiB kept)" : ""}, sha256 ${q.contentSha256}`,
    `  status    ${q.resolvedAt === null ? "open (mtasts reports quarantine reingest to retry)" : `resolved ${q.resolvedAt} as report #${q.resolvedReport}`}`,
  ];
  if (q.diagnostics.length > 0) lines.push(...renderDiagnostics(q.diagnostics, style));
  return `${lines.join("\n")}\n`;
}

async function reingest(
  store: ReportStore,
  io: ReportsIo,
  ids: string[] | null,
  options: IngestOptions,
  json: boolean,
): Promise<number> {
  const outcomes: ReingestOutcome[] = [];
  const report = (o: ReingestOutcome) => {
    outcomes.push(o);
    if (!json) io.stdout.write(`${line(o)}\n`);
  };
  if (ids !== null) {
    for (const id of ids) report(await reingestQuarantined(store, id, options));
  } else {
    // The entries open now, oldest first; one that fails again stays open for the next run.
    const open = await store.listQuarantine({ includeResolved: false, limit: 0 });
    for (const q of open.reverse()) report(await reingestQuarantined(store, q.id, options));
  }
  const still = outcomes.filter((o) => o.status === "quarantined" || o.status === "missing").length;
  if (json) io.stdout.write(`${JSON.stringify({ results: outcomes })}\n`);
  else if (outcomes.length === 0) io.stdout.write("nothing in quarantine\n");
  else if (outcomes.length > 1) {
    io.stdout.write(`${outcomes.length - still} of ${outcomes.length} left the quarantine\n`);
  }
  return still > 0 ? EXIT.attention : EXIT.ok;
}

function line(o: ReingestOutcome): string {
  const id = `q${o.quarantineId}`;
  switch (o.status) {
    case "stored":
    case "duplicate":
      return `${id}  ${o.status} as #${o.id}  ${printable(o.organization ?? "(no organization)")} ${printable(o.reportId)}`;
    case "quarantined":
      return `${id}  still quarantined: ${o.code}: ${short(printable(o.reason))}`;
    case "already-resolved":
      return `${id}  already resolved${o.resolvedReport ? ` as #${o.resolvedReport}` : ""}`;
    case "missing":
      return `${id}  no such quarantine entry`;
  }
}

function short(s: string): string {
  return s.length > REASON_WIDTH ? `${s.slice(0, REASON_WIDTH - 1)}…` : s;
}
