// Every input as one stream of things to scan, read lazily (a million-line
// list is never in memory): arguments, then lists, then logs. Each domain
// comes once (a SeenSet, bounded), domains already in a resumed output are
// skipped, and everything read is counted for the report on stderr.

import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { safeText } from "../output.ts";
import { shownInput } from "../record.ts";
import type { SeenSet } from "../seen-set.ts";
import type { ScanInput } from "../types.ts";
import type { Named } from "./domain-name.ts";
import { nameOf } from "./domain-name.ts";
import { parseListLine } from "./list.ts";
import { addressesInLogLine } from "./mail-log.ts";

export interface Sources {
  /** Domains given as arguments (already checked by the caller). */
  domains: string[];
  /** List files; `-` is standard input. */
  lists: string[];
  /** Mail logs, plain or gzip; `-` is standard input. */
  logs: string[];
}

export interface SourceStats {
  listLines: number;
  logLines: number;
  /** Log lines that named a sender or recipient. */
  logMatches: number;
  /** Distinct domains (and invalid names) handed out to scan. */
  found: number;
  duplicates: number;
  /** Skipped because the resumed output already has them. */
  resumed: number;
  /** Names that are not domain names, reported as error records. */
  invalid: number;
  garbage: number;
  /** The first few garbage lines, as `file:line: why: text`. */
  garbageShown: string[];
  /** Log addresses at a local name without a dot (`root@localhost`), not scanned. */
  local: number;
  /** Files that stopped with an error part way (`file: why`). */
  readErrors: string[];
}

export function emptyStats(): SourceStats {
  return {
    listLines: 0,
    logLines: 0,
    logMatches: 0,
    found: 0,
    duplicates: 0,
    resumed: 0,
    invalid: 0,
    garbage: 0,
    garbageShown: [],
    local: 0,
    readErrors: [],
  };
}

const GARBAGE_SHOWN = 10;

export async function* readSources(
  sources: Sources,
  context: { seen: SeenSet; done?: SeenSet; stats: SourceStats; stdin: Readable },
): AsyncGenerator<ScanInput> {
  const { seen, done, stats } = context;
  const take = (named: Named, input: string): ScanInput | null => {
    const key = "domain" in named ? named.domain : `\u0000${shownInput(input)}`;
    if (done?.has("domain" in named ? named.domain : shownInput(input))) {
      stats.resumed++;
      return null;
    }
    if (!seen.add(key)) {
      stats.duplicates++;
      return null;
    }
    stats.found++;
    if ("invalid" in named) stats.invalid++;
    return "domain" in named ? { domain: named.domain, input } : { invalid: named.invalid, input };
  };

  for (const d of sources.domains) {
    const item = take(nameOf(d), d);
    if (item) yield item;
  }
  for (const file of sources.lists) {
    let n = 0;
    for await (const line of lines(file, context.stdin, stats)) {
      n++;
      stats.listLines++;
      const parsed = parseListLine(line);
      if ("skip" in parsed) continue;
      if ("garbage" in parsed) {
        stats.garbage++;
        if (stats.garbageShown.length < GARBAGE_SHOWN)
          stats.garbageShown.push(`${file}:${n}: ${parsed.garbage}: ${clip(line)}`);
        continue;
      }
      const item = take(parsed, line.trim());
      if (item) yield item;
    }
  }
  for (const file of sources.logs) {
    for await (const line of lines(file, context.stdin, stats)) {
      stats.logLines++;
      const addresses = addressesInLogLine(line);
      if (addresses.length > 0) stats.logMatches++;
      for (const address of addresses) {
        const named = nameOf(address);
        if ("domain" in named && !named.domain.includes(".")) {
          stats.local++;
          continue;
        }
        const item = take(named, address);
        if (item) yield item;
      }
    }
  }
}

/**
 * Lines of a file or of standard input, gunzipped when the file starts with
 * gzip's magic. A read error (a truncated rotated log) ends that file, not the scan.
 */
async function* lines(file: string, stdin: Readable, stats: SourceStats): AsyncGenerator<string> {
  const raw = file === "-" ? stdin : createReadStream(file);
  const input = file !== "-" && isGzip(file) ? raw.pipe(createGunzip()) : raw;
  if (input !== raw) raw.on("error", (e: Error) => input.destroy(e));
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of reader) yield line;
  } catch (error) {
    stats.readErrors.push(`${file}: ${(error as Error).message}`);
  } finally {
    reader.close();
    if (file !== "-") input.destroy();
  }
}

function isGzip(file: string): boolean {
  const head = Buffer.alloc(2);
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function clip(line: string): string {
  const safe = safeText(line);
  return safe.length > 80 ? `${safe.slice(0, 80)}…` : safe;
}
