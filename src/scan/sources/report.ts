// What the input held, in words for stderr: lines read, domains found, and
// what was skipped and why.

import type { SourceStats } from "./read.ts";

export function inputReport(s: SourceStats): string[] {
  const n = (k: number) => k.toLocaleString("en-US");
  const count = (k: number, one: string, many: string) => `${n(k)} ${k === 1 ? one : many}`;
  const read: string[] = [];
  if (s.listLines > 0) read.push(count(s.listLines, "list line", "list lines"));
  if (s.logLines > 0)
    read.push(
      `${count(s.logLines, "log line", "log lines")} (${n(s.logMatches)} naming a sender or recipient)`,
    );
  const skipped: string[] = [];
  if (s.duplicates > 0) skipped.push(count(s.duplicates, "duplicate", "duplicates"));
  if (s.resumed > 0) skipped.push(`${n(s.resumed)} already in the resumed output`);
  if (s.local > 0)
    skipped.push(count(s.local, "local name without a dot", "local names without a dot"));
  if (s.garbage > 0) skipped.push(count(s.garbage, "garbage line", "garbage lines"));
  const lines = [
    `mtasts: read ${read.join(" and ") || "no lines"}; found ${count(s.found, "domain", "domains")} to scan${s.invalid > 0 ? ` (${n(s.invalid)} of them not domain names, reported as errors)` : ""}${skipped.length > 0 ? `; skipped ${skipped.join(", ")}` : ""}`,
  ];
  for (const g of s.garbageShown) lines.push(`mtasts: skipped garbage: ${g}`);
  if (s.garbage > s.garbageShown.length)
    lines.push(`mtasts: … and ${n(s.garbage - s.garbageShown.length)} more garbage lines`);
  for (const e of s.readErrors) lines.push(`mtasts: stopped reading ${e}`);
  return lines;
}
