// Runs a scan session in its own worker thread (src/scan/worker.ts) with a
// capped heap, forwarding the thread's stdio and turning an abort into a
// clean stop: no new domains, complete results kept, then the thread ends.

import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { Worker } from "node:worker_threads";
import type { ScanPlan } from "./session.ts";
import type { ScanWorkerData, ScanWorkerResult } from "./worker.ts";

export interface ThreadIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** Read only when a source is `-`. */
  stdin: Readable;
  color: boolean;
  signal: AbortSignal;
}

export async function runScanThread(plan: ScanPlan, io: ThreadIo): Promise<ScanWorkerResult> {
  const data: ScanWorkerData = {
    plan,
    stdoutTTY: Boolean(io.stdout.isTTY),
    stderrTTY: Boolean(io.stderr.isTTY),
    color: io.color,
  };
  const usesStdin = [...plan.sources.lists, ...plan.sources.logs].includes("-");
  // An entry point of its own: .ts from a checkout, .js once built into dist/.
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const worker = new Worker(new URL(`./worker.${ext}`, import.meta.url), {
    workerData: data,
    stdin: usesStdin,
    stdout: true,
    stderr: true,
    resourceLimits: {
      maxYoungGenerationSizeMb: 16,
      // Room for every domain in flight (~0.2 MB each at most) above the fixed part.
      maxOldGenerationSizeMb: 128 + Math.ceil(plan.scan.concurrency / 5),
    },
  });
  worker.stdout.setEncoding("utf8");
  worker.stderr.setEncoding("utf8");
  worker.stdout.on("data", (s: string) => io.stdout.write(s));
  worker.stderr.on("data", (s: string) => io.stderr.write(s));
  if (usesStdin && worker.stdin) io.stdin.pipe(worker.stdin);
  let result: ScanWorkerResult | undefined;
  worker.on("message", (m: ScanWorkerResult) => {
    result = m;
  });
  const stop = () => worker.postMessage("stop");
  io.signal.addEventListener("abort", stop, { once: true });
  try {
    const exited = new Promise<void>((resolve, reject) => {
      worker.once("error", reject);
      worker.once("exit", () => resolve());
    });
    await Promise.all([exited, finished(worker.stdout), finished(worker.stderr)]);
  } finally {
    io.signal.removeEventListener("abort", stop);
  }
  if (!result) throw new Error("the scan thread ended without a result");
  return result;
}
