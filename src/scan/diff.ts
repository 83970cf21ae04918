// What changed between two scans (two ndjson outputs): domains that adopted
// or dropped MTA-STS, changed mode, broke or were fixed. The old scan is held
// in memory as one short string per domain (~100 bytes each); the new one is
// streamed against it.

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { PolicyMode } from "../core/policy.ts";
import { codes } from "./output.ts";
import { parseRecord } from "./resume.ts";
import type { ScanRecord, ScanStatus } from "./types.ts";

export interface ScanDiff {
  /** Domains in both scans. */
  compared: number;
  onlyOld: number;
  onlyNew: number;
  /** Lines of either file that are not scan results. */
  foreign: number;
  adopted: { domain: string; mode: PolicyMode | null; status: ScanStatus }[];
  dropped: { domain: string; was: PolicyMode | null }[];
  modeChanged: { domain: string; from: PolicyMode; to: PolicyMode }[];
  /** ok or warning before, error now. */
  broken: { domain: string; errors: string[] }[];
  /** error before, ok or warning now. */
  fixed: { domain: string; was: string[] }[];
}

interface Before {
  status: ScanStatus;
  mode: PolicyMode | null;
  errors: string[];
}

export async function diffScans(oldPath: string, newPath: string): Promise<ScanDiff> {
  const diff: ScanDiff = {
    compared: 0,
    onlyOld: 0,
    onlyNew: 0,
    foreign: 0,
    adopted: [],
    dropped: [],
    modeChanged: [],
    broken: [],
    fixed: [],
  };
  const before = new Map<string, string>();
  for await (const r of records(oldPath, diff)) {
    before.set(r.domain, `${r.status} ${r.mode ?? "-"} ${codes(r, "error").join(",")}`);
  }
  for await (const r of records(newPath, diff)) {
    const packed = before.get(r.domain);
    if (packed === undefined) {
      diff.onlyNew++;
      continue;
    }
    before.delete(r.domain);
    diff.compared++;
    compare(r, unpack(packed), diff);
  }
  diff.onlyOld = before.size;
  return diff;
}

function compare(now: ScanRecord, was: Before, diff: ScanDiff): void {
  const domain = now.domain;
  if (was.status === "none" && now.status !== "none")
    diff.adopted.push({ domain, mode: now.mode, status: now.status });
  if (was.status !== "none" && now.status === "none") diff.dropped.push({ domain, was: was.mode });
  if (was.mode !== null && now.mode !== null && was.mode !== now.mode)
    diff.modeChanged.push({ domain, from: was.mode, to: now.mode });
  const good = (s: ScanStatus) => s === "ok" || s === "warning";
  if (good(was.status) && now.status === "error")
    diff.broken.push({ domain, errors: codes(now, "error") });
  if (was.status === "error" && good(now.status)) diff.fixed.push({ domain, was: was.errors });
}

function unpack(packed: string): Before {
  const [status, mode, errors] = packed.split(" ");
  return {
    status: status as ScanStatus,
    mode: mode === "-" || mode === undefined ? null : (mode as PolicyMode),
    errors: errors ? errors.split(",") : [],
  };
}

async function* records(path: string, diff: ScanDiff): AsyncGenerator<ScanRecord> {
  const reader = createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of reader) {
    if (line.trim() === "") continue;
    const r = parseRecord(line);
    if (r === null) diff.foreign++;
    else yield r;
  }
}

export function renderDiffText(d: ScanDiff): string {
  const n = (k: number) => k.toLocaleString("en-US");
  const out = [
    `Compared ${n(d.compared)} domains found in both scans (${n(d.onlyOld)} only in the old, ${n(d.onlyNew)} only in the new)`,
  ];
  const section = <T>(title: string, items: T[], line: (item: T) => string) => {
    out.push("", `${title} (${n(items.length)})${items.length === 0 ? ": none" : ":"}`);
    for (const item of items) out.push(`  ${line(item)}`);
  };
  section(
    "Adopted MTA-STS",
    d.adopted,
    (a) => `${a.domain}  ${a.mode ?? "no valid policy"}  ${a.status}`,
  );
  section(
    "Dropped MTA-STS",
    d.dropped,
    (a) => `${a.domain}  (was ${a.was ?? "without a valid policy"})`,
  );
  section("Mode changed", d.modeChanged, (a) => `${a.domain}  ${a.from} → ${a.to}`);
  section("Newly broken", d.broken, (a) => `${a.domain}  ${a.errors.join(" ")}`);
  section("Fixed", d.fixed, (a) => `${a.domain}  (was ${a.was.join(" ") || "error"})`);
  if (d.foreign > 0) out.push("", `${n(d.foreign)} lines were not scan results and were ignored`);
  return `${out.join("\n")}\n`;
}
