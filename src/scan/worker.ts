// A scan's own thread. The CLI runs the session here so that V8's heap can
// be capped (resourceLimits): left alone, V8 sizes the young generation from
// the machine's RAM and lets promoted garbage pile up, and a long scan's RSS
// drifts past 200 MB while its live data stays near 20 MB. Output goes
// through this thread's stdio, which the CLI forwards; a resumed output file
// is written directly.

import module from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import type { ScanPlan } from "./session.ts";

// A thread starts with no compile cache: turn it on before loading the scan,
// or each run pays again for compiling (and, from a checkout, type-stripping) it.
module.enableCompileCache?.();
const { textStyle } = await import("./output.ts");
const { runScanSession } = await import("./session.ts");

export interface ScanWorkerData {
  plan: ScanPlan;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  color: boolean;
}

export interface ScanWorkerResult {
  done: number;
  errors: number;
  stopped: boolean;
}

const data = workerData as ScanWorkerData;
const controller = new AbortController();
const port = parentPort;
port?.on("message", (m) => {
  if (m === "stop") controller.abort();
});
// The CLI's stop message is optional: it must not keep this thread alive.
port?.unref();

const outcome = await runScanSession(data.plan, {
  stdout: { write: (s: string) => process.stdout.write(s), isTTY: data.stdoutTTY },
  stderr: { write: (s: string) => process.stderr.write(s), isTTY: data.stderrTTY },
  stdin: process.stdin,
  style: textStyle(data.color),
  signal: controller.signal,
});
const result: ScanWorkerResult = {
  done: outcome.done,
  errors: outcome.errors,
  stopped: outcome.stopped,
};
port?.postMessage(result);
// Checks cut short by a stop may still hold sockets and timers for up to the
// per-domain time bound; end the thread once everything written has left it.
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(0);

/** Resolves once every chunk written before has been handed to the CLI's thread. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
