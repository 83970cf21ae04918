// `mtasts reports ingest [FILE|DIR…|-]`: report files or one piped message into
// the store, each through the one ingest path. One line per input once it is
// committed (so a killed run shows how far it got); a progress bar on a
// terminal for long runs. A store failure stops the run: every report is whole
// or absent, and running the same command again is safe (duplicates count once).

import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ReadResult, readInput } from "../adapters/input.ts";
import { MAX_INPUT_BYTES } from "../adapters/report-source.ts";
import { ingestReport } from "../reports/ingest.ts";
import type { ReportStore } from "../reports/store.ts";
import type { IngestOptions, IngestOutcome } from "../reports/types.ts";
import { printable } from "./render.ts";
import {
  COMMON_OPTIONS,
  EXIT,
  messageOf,
  parsedOrUsage,
  type ReportsIo,
  usage,
  withStore,
} from "./reports.ts";
import { INGEST_OPTIONS, ingestOptions } from "./reports-ingest-options.ts";
import { Progress } from "./reports-progress.ts";

type Result = { input: string } & (IngestOutcome | { status: "error"; error: string });
type Settled = { result: Result } | { error: unknown };

/**
 * Inputs read and ingested at once, so the store commits them in groups (one
 * commit for many reports is most of the speed of a batch); bounded in count
 * and in bytes, so a directory of 10 MiB reports never holds more than ~64 MiB.
 * 256 is the SQLite store's largest group: against 64, a commit's random index
 * pages are shared by 4x the reports and a raw pack holds 4x as many, which
 * measured 74 against 93 CPU µs a report (bench/RESULTS.md).
 */
export const WINDOW = 256;
const WINDOW_BYTES = 64 * 1024 * 1024;

/** Outcome lines stay readable; full reasons are in `quarantine show`. */
const REASON_WIDTH = 160;

export async function runIngest(args: readonly string[], io: ReportsIo): Promise<number> {
  const parsed = parsedOrUsage(
    () =>
      parseArgs({
        args: [...args],
        allowPositionals: true,
        strict: true,
        options: {
          ...COMMON_OPTIONS,
          ...INGEST_OPTIONS,
          json: { type: "boolean", default: false },
          mda: { type: "boolean", default: false },
        },
      }),
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const mda = values.mda;
  const stdinIsTerminal = Boolean(process.stdin.isTTY);
  if (positionals.length === 0 && stdinIsTerminal) {
    return fail(usage(io, "ingest needs report files, a directory, or - for standard input"), mda);
  }
  const inputs = expand(positionals.length === 0 ? ["-"] : positionals);
  const options = await ingestOptions(values, io);
  if ("error" in options) return fail(usage(io, options.error), mda);

  const results: Result[] = [];
  let storeError: string | null = null;
  const status = await withStore(values.db, io, { create: true }, async (store) => {
    const progress = new Progress(io.stderr, inputs.length);
    const report = (result: Result) => {
      results.push(result);
      if (!values.json) {
        // On a shared terminal the bar leaves the line before an outcome takes it.
        if (io.stdout.isTTY) progress.clear();
        io.stdout.write(`${outcomeLine(result)}\n`);
      }
      progress.step(result.status);
    };
    // A window of inputs in flight lets the store commit them in groups; outcomes
    // are printed in input order, each only once its report is committed.
    const inFlight: { size: number; settled: Promise<Settled> }[] = [];
    const nextInOrder = inputOrder(store);
    let bytes = 0;
    let next = 0;
    const room = () =>
      next < inputs.length &&
      (inFlight.length === 0 ||
        (inFlight.length < WINDOW && bytes + sizeOf(inputs[next] as string) <= WINDOW_BYTES));
    const start = () => {
      const input = inputs[next++] as string;
      const size = sizeOf(input);
      bytes += size;
      const ordered = nextInOrder();
      inFlight.push({
        size,
        settled: ingestOne(ordered.store, input, options)
          .finally(ordered.done)
          .then(
            (result) => ({ result }),
            (error: unknown) => ({ error }),
          ),
      });
    };
    let failure: unknown = null;
    try {
      while (room()) start();
      while (inFlight.length > 0) {
        const head = inFlight.shift() as (typeof inFlight)[number];
        const settled = await head.settled;
        bytes -= head.size;
        if ("error" in settled) failure ??= settled.error;
        else report(settled.result);
        while (failure === null && room()) start();
      }
    } finally {
      progress.done();
    }
    if (failure !== null) {
      storeError = messageOf(failure);
      throw failure;
    }
    return EXIT.ok;
  });
  const counts = { stored: 0, duplicate: 0, quarantined: 0, error: 0 };
  for (const r of results) counts[r.status]++;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ results, counts, ...(storeError === null ? {} : { storeError }) })}\n`,
    );
  } else if (results.length > 1) {
    io.stdout.write(
      `${results.length} inputs: ${counts.stored} stored, ${counts.duplicate} duplicate, ${counts.quarantined} quarantined${counts.error > 0 ? `, ${counts.error} unreadable` : ""}\n`,
    );
  }
  if (status !== EXIT.ok) return fail(status, mda);
  if (counts.error > 0) return fail(EXIT.usage, mda);
  if (mda) return EXIT.ok;
  return counts.quarantined > 0 ? EXIT.attention : EXIT.ok;
}

/** --mda: anything but "kept" must make Postfix keep the mail queued and retry. */
function fail(code: number, mda: boolean): number {
  return mda ? EXIT.tempfail : code;
}

/** Directories stand for their files (sorted; dot files skipped), as a Maildir's new/ would be given. */
function expand(inputs: string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    let isDirectory = false;
    try {
      isDirectory = input !== "-" && statSync(input).isDirectory();
    } catch {
      // Reported by readInput, with the reason.
    }
    if (!isDirectory) {
      out.push(input);
      continue;
    }
    for (const name of readdirSync(input).sort()) {
      if (name.startsWith(".")) continue;
      const path = join(input, name);
      if (statSync(path, { throwIfNoEntry: false })?.isFile()) out.push(path);
    }
  }
  return out;
}

async function ingestOne(
  store: ReportStore,
  input: string,
  options: IngestOptions,
): Promise<Result> {
  const read = await readReport(input);
  if (!read.ok) return { input, status: "error", error: read.error };
  const outcome = await ingestReport(
    store,
    { bytes: read.bytes, channel: "file", origin: input === "-" ? "stdin" : input },
    options,
  );
  return { input, ...outcome };
}

/**
 * Store views that hand reports to the store in input order, whatever order
 * reading and parsing finish in: of two copies of one report, the earlier
 * input is the one stored and the later the duplicate, as one at a time would
 * have it. An input's turn passes on once it has handed its report over, or
 * once it is done without one (quarantined, unreadable).
 */
function inputOrder(store: ReportStore): () => { store: ReportStore; done(): void } {
  let previous: Promise<void> = Promise.resolve();
  return () => {
    const before = previous;
    let done = () => {};
    previous = new Promise<void>((open) => {
      done = open;
    });
    const insertReport: ReportStore["insertReport"] = async (report) => {
      await before;
      const inserted = store.insertReport(report);
      done();
      return inserted;
    };
    const view = new Proxy(store, {
      get: (target, key) => (key === "insertReport" ? insertReport : Reflect.get(target, key)),
    });
    return { store: view, done: () => done() };
  };
}

/** What an input will cost in memory while in flight (stdin and odd files: the cap). */
function sizeOf(input: string): number {
  const info = input === "-" ? undefined : statSync(input, { throwIfNoEntry: false });
  return info?.isFile() ? Math.min(info.size, MAX_INPUT_BYTES) : MAX_INPUT_BYTES;
}

/**
 * A file no larger than the cap is read at its size; anything else (stdin, a
 * FIFO, a file over the cap) through readInput, which stops one byte past the
 * cap so extraction can tell "at the limit" from "over it".
 */
async function readReport(input: string): Promise<ReadResult> {
  const info = input === "-" ? undefined : statSync(input, { throwIfNoEntry: false });
  if (info?.isFile() && info.size <= MAX_INPUT_BYTES) {
    try {
      const bytes = await readFile(input);
      if (bytes.length <= MAX_INPUT_BYTES) {
        return {
          ok: true,
          bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
          truncated: false,
        };
      }
    } catch {
      // readInput says why, in its words.
    }
  }
  return readInput(input, MAX_INPUT_BYTES);
}

function outcomeLine(r: Result): string {
  const where = printable(r.input === "-" ? "stdin" : r.input);
  switch (r.status) {
    case "stored":
    case "duplicate":
      return `${r.status.padEnd(11)} #${r.id}  ${printable(r.organization ?? "(no organization)")} ${printable(r.reportId)}  ${where}`;
    case "quarantined": {
      const reason = printable(r.reason);
      const short = reason.length > REASON_WIDTH ? `${reason.slice(0, REASON_WIDTH - 1)}…` : reason;
      return `quarantined q${r.quarantineId}  ${r.code}: ${short}  ${where}`;
    }
    case "error":
      return `unreadable  ${printable(r.error)}`;
  }
}
