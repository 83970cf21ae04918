// Picking up an interrupted scan: its ndjson output names the domains already
// done. A scan killed mid-write can leave a last line without its newline;
// that line is cut off (its domain is scanned again), so every line of the
// file stays one complete JSON object.

import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
} from "node:fs";
import { createInterface } from "node:readline";
import { SeenSet } from "./seen-set.ts";
import type { ScanRecord } from "./types.ts";

export interface Previous {
  done: SeenSet;
  /** Complete result lines read. */
  records: number;
  /** Lines that are not scan results (left in place, ignored). */
  foreign: number;
  /** Bytes of an unfinished last line that were cut off. */
  cut: number;
}

export async function readPrevious(
  path: string,
  each: (record: ScanRecord) => void = () => {},
): Promise<Previous> {
  const done = new SeenSet({ initialSlots: 1 << 16 });
  const previous: Previous = { done, records: 0, foreign: 0, cut: 0 };
  if (!existsSync(path)) return previous;
  previous.cut = cutUnfinishedLine(path);
  const reader = createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of reader) {
    if (line.trim() === "") continue;
    const record = parseRecord(line);
    if (record === null) {
      previous.foreign++;
      continue;
    }
    previous.records++;
    // A name scanned twice before (a far duplicate) is still done once.
    done.add(record.domain);
    each(record);
  }
  return previous;
}

export function parseRecord(line: string): ScanRecord | null {
  try {
    const v = JSON.parse(line) as Partial<ScanRecord> | null;
    if (
      v === null ||
      typeof v !== "object" ||
      typeof v.domain !== "string" ||
      typeof v.status !== "string" ||
      !Array.isArray(v.findings)
    )
      return null;
    return v as ScanRecord;
  } catch {
    return null;
  }
}

/** Truncates the file after its last newline; returns how many bytes went. */
function cutUnfinishedLine(path: string): number {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(fd, chunk, 0, end - start, start);
      const at = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (at >= 0) {
        const keep = start + at + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}
