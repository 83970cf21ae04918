// One `mtasts scan` run, from sources to written results: resume, rate-limited
// resolvers, the worker pool, the writer, the summary, the progress line and
// the report on stderr of what the input held. The CLI only parses flags into
// a ScanPlan and maps the outcome to an exit status.

import { closeSync, openSync, writeSync } from "node:fs";
import type { Readable } from "node:stream";
import { createResolver, type DnsServerAddress, systemServers } from "../adapters/dns.ts";
import { fetchPolicy } from "../adapters/policy-fetch.ts";
import { probeSmtp } from "../adapters/smtp-probe.ts";
import type { CheckDeps } from "../check/types.ts";
import { createWriter, type Format, type Sink, type TextStyle } from "./output.ts";
import { startProgress } from "./progress.ts";
import { createRateLimiter, rateLimited } from "./rate-limit.ts";
import { readPrevious } from "./resume.ts";
import { type ScanOptions, scanAll } from "./run.ts";
import { SeenSet } from "./seen-set.ts";
import { emptyStats, readSources, type Sources } from "./sources/read.ts";
import { inputReport } from "./sources/report.ts";
import { createSummary, renderSummaryText, type Summary } from "./summary.ts";
import type { ScanInput, ScanRecord } from "./types.ts";

export interface ScanPlan {
  sources: Sources;
  /** null: no per-domain output, only the summary (`--summary` alone). */
  format: Format | null;
  summary: boolean;
  /** Append results (ndjson) to this file, skipping the domains it already has. */
  resume?: string;
  scan: Omit<ScanOptions, "signal">;
  /** Empty: the system's (resolv.conf). */
  resolvers: DnsServerAddress[];
  /** DNS questions per second to each resolver. */
  rate: number;
  dnsTimeoutMs: number;
}

export interface ScanIo {
  stdout: Sink & { isTTY?: boolean };
  stderr: Sink & { isTTY?: boolean };
  stdin: Readable;
  style?: TextStyle;
  signal?: AbortSignal;
}

export interface ScanOutcome {
  done: number;
  /** Domains with status error, a resumed file's included. */
  errors: number;
  stopped: boolean;
  summary: Summary | null;
}

/** Slots of the duplicate filter: 16 MB at most, ~1.5 million names remembered at once. */
const SEEN_SLOTS = 1 << 21;

export async function runScanSession(plan: ScanPlan, io: ScanIo): Promise<ScanOutcome> {
  const started = performance.now();
  const summary = plan.summary ? createSummary() : null;
  let errors = 0;
  let newErrors = 0;
  const count = (r: ScanRecord) => {
    summary?.add(r);
    if (r.status === "error") errors++;
  };

  let done: SeenSet | undefined;
  let fd: number | undefined;
  if (plan.resume !== undefined) {
    const previous = await readPrevious(plan.resume, count);
    done = previous.done;
    const notes = [
      `resuming ${plan.resume}: ${previous.records.toLocaleString("en-US")} domains already done`,
    ];
    if (previous.cut > 0) notes.push(`cut an unfinished last line (${previous.cut} bytes)`);
    if (previous.foreign > 0)
      notes.push(`${previous.foreign} lines that are not scan results ignored`);
    io.stderr.write(`mtasts: ${notes.join("; ")}\n`);
    fd = openSync(plan.resume, "a");
  }
  const sink: Sink =
    fd === undefined ? io.stdout : { write: (s: string) => writeSync(fd as number, s) };
  const writer = plan.format === null ? null : createWriter(plan.format, sink, io.style);

  const total = io.stderr.isTTY ? await countInputs(plan.sources, done, io.stdin) : null;
  const stats = emptyStats();
  let finished = 0;
  let inputEnded = false;
  const progress = startProgress(io.stderr, () => ({
    done: finished,
    total: inputEnded ? stats.found : total,
    errors: newErrors,
    elapsedMs: performance.now() - started,
  }));

  const seen = new SeenSet({ maxSlots: SEEN_SLOTS });
  const inputs = readSources(plan.sources, {
    seen,
    ...(done ? { done } : {}),
    stats,
    stdin: io.stdin,
  });
  const fileInput = plan.sources.lists.length + plan.sources.logs.length > 0;
  async function* announced(): AsyncGenerator<ScanInput> {
    yield* inputs;
    inputEnded = true;
    if (fileInput || stats.resumed > 0) for (const line of inputReport(stats)) progress.note(line);
    if (seen.resets > 0)
      progress.note(
        `mtasts: the duplicate filter filled up ${seen.resets} time(s) (it holds ~1.5 million names): a duplicate further apart than that was scanned again`,
      );
  }

  const deps = depsForResolvers(plan);
  let outcome: { stopped: boolean };
  try {
    outcome = await scanAll(
      announced(),
      (n) => deps[n % deps.length] as CheckDeps,
      { ...plan.scan, ...(io.signal ? { signal: io.signal } : {}) },
      (r) => {
        writer?.write(r);
        count(r);
        if (r.status === "error") newErrors++;
        finished++;
      },
    );
  } finally {
    progress.stop();
  }
  const result = summary?.result() ?? null;
  writer?.end(plan.format === "json" && result ? result : undefined);
  if (fd !== undefined) closeSync(fd);
  if (result && plan.format !== "json") {
    // A resumed file's earlier domains took earlier runs' time: no rate then.
    const text = renderSummaryText(result, plan.resume ? undefined : performance.now() - started);
    // Beside ndjson or CSV on stdout, the summary must not break the format.
    const toStderr = fd === undefined && (plan.format === "ndjson" || plan.format === "csv");
    (toStderr ? io.stderr : io.stdout).write(plan.format === "text" ? `\n${text}` : text);
  }
  if (outcome.stopped)
    io.stderr.write(
      `mtasts: interrupted after ${finished.toLocaleString("en-US")} domains; complete results are written${plan.resume ? "; run the same command to go on" : "; --resume FILE goes on from a saved ndjson output"}\n`,
    );
  return { done: finished, errors, stopped: outcome.stopped, summary: result };
}

/** One rate-limited resolver per server; domains are spread over them in turn. */
function depsForResolvers(plan: ScanPlan): CheckDeps[] {
  const servers = plan.resolvers.length > 0 ? plan.resolvers : systemServers();
  const list = servers.length > 0 ? servers : [{ host: "127.0.0.1", port: 53 }];
  return list.map((_, i) => ({
    // Its own server first, the others as fallback.
    resolver: rateLimited(
      createResolver({
        servers: [...list.slice(i), ...list.slice(0, i)],
        timeoutMs: plan.dnsTimeoutMs,
      }),
      createRateLimiter(plan.rate),
    ),
    fetchPolicy,
    probeSmtp,
    now: () => new Date(),
  }));
}

/**
 * For the progress bar's total: one quick pass over the lists. Not over
 * standard input (it can be read once) nor logs (they can be gigabytes);
 * then the total shows once the input has been read.
 */
async function countInputs(
  sources: Sources,
  done: SeenSet | undefined,
  stdin: Readable,
): Promise<number | null> {
  if (sources.lists.includes("-") || sources.logs.length > 0) return null;
  let n = 0;
  const stats = emptyStats();
  for await (const _ of readSources(sources, {
    seen: new SeenSet({ maxSlots: SEEN_SLOTS }),
    ...(done ? { done } : {}),
    stats,
    stdin,
  }))
    n++;
  return n;
}
