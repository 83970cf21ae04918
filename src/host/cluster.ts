// `workers: N`: N processes (node:cluster), each a whole host that binds the
// same port with SO_REUSEPORT so the kernel spreads connections over them
// (no hand-off through the primary). The primary only forks, restarts a
// worker that died, and passes SIGHUP / SIGTERM on. Only worker 0 runs the
// `_mta-sts` id check, so a warning is logged once, not N times.

import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { Logger } from "../adapters/log.ts";
import { createMetricsServer, type HostSample, sumSamples } from "./metrics.ts";
import type { ListenAddress } from "./types.ts";

const INDEX_ENV = "MTASTS_HOST_WORKER";
const TICKET_ENV = "MTASTS_HOST_TICKET_KEYS";
const RESTART_DELAY_MS = 1000;

/** In a worker: its index (0…N-1); in the primary: null. */
export function workerIndex(): number | null {
  if (!cluster.isWorker) return null;
  return Number(process.env[INDEX_ENV] ?? "0");
}

/** In a worker: the session ticket keys every worker shares (see runPrimary). */
export function sharedTicketKeys(): Buffer | undefined {
  const hex = process.env[TICKET_ENV];
  delete process.env[TICKET_ENV];
  return hex && /^[0-9a-f]{96}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
}

/** In a worker: tell the primary this worker is listening. */
export function reportReady(): void {
  process.send?.({ mtasts: "ready" });
}

/** In a worker: answer the primary's requests for this worker's counters. */
export function answerSamples(sample: () => HostSample | null): void {
  process.on("message", (m: { mtasts?: string; id?: number }) => {
    if (m?.mtasts !== "sample?") return;
    const s = sample();
    if (s) process.send?.({ mtasts: "sample", id: m.id, sample: s });
  });
}

/** In the primary: every live worker's sample (a worker that does not answer within 2 s is left out). */
function askWorkers(workers: Iterable<Worker>): Promise<HostSample[]> {
  const ask = (w: Worker) =>
    new Promise<HostSample | null>((resolve) => {
      const id = ++asked;
      const on = (m: { mtasts?: string; id?: number; sample?: HostSample }) => {
        if (m?.mtasts !== "sample" || m.id !== id) return;
        clearTimeout(timer);
        w.off("message", on);
        resolve(m.sample ?? null);
      };
      const timer = setTimeout(() => {
        w.off("message", on);
        resolve(null);
      }, 2000);
      w.on("message", on);
      w.send({ mtasts: "sample?", id });
    });
  return Promise.all([...workers].map(ask)).then((all) =>
    all.filter((s): s is HostSample => s !== null),
  );
}
let asked = 0;

/**
 * Forks `count` workers running this same command line and keeps them up
 * until SIGTERM/SIGINT; resolves once every worker has exited.
 */
export async function runPrimary(
  count: number,
  log: Logger,
  metricsListen: ListenAddress | null = null,
  /** A worker's drain time (limits.shutdown_timeout); it is killed 5 s after that. */
  stopTimeoutMs = 10_000,
): Promise<void> {
  const workers = new Map<number, Worker>();
  // One set of ticket keys for all workers: a session resumes whichever
  // worker the kernel hands the next connection to (as nginx's workers do).
  const ticketKeys = randomBytes(48).toString("hex");
  let stopping = false;
  const fork = (index: number) => {
    const w = cluster.fork({ [INDEX_ENV]: String(index), [TICKET_ENV]: ticketKeys });
    workers.set(index, w);
    let ready = false;
    w.on("message", (m: { mtasts?: string }) => {
      if (m?.mtasts === "ready") ready = true;
    });
    w.on("exit", (code, signal) => {
      workers.delete(index);
      if (!ready && !stopping) {
        // It never served: the same cause (a port in use, a bad certificate)
        // would kill every restart too. Stop everything and say so.
        failure = new Error(
          `worker ${index} exited (code ${code}) before it was listening; see its log above`,
        );
        stop("SIGTERM");
      }
      if (stopping) {
        if (workers.size === 0) done();
        return;
      }
      log.error("worker exited; starting another", {
        worker: index,
        code,
        signal: signal ?? undefined,
      });
      setTimeout(() => {
        if (!stopping) fork(index);
      }, RESTART_DELAY_MS).unref();
    });
  };
  let done: () => void = () => {};
  let failure: Error | null = null;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  let metrics: Server | null = null;
  if (metricsListen) {
    const server = createMetricsServer(async () => sumSamples(await askWorkers(workers.values())));
    metrics = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(metricsListen.port, metricsListen.host, () => resolve());
    });
  }
  for (let i = 0; i < count; i++) fork(i);

  log.info("policy host started", { workers: count });

  process.on("SIGHUP", () => {
    for (const w of workers.values()) w.process.kill("SIGHUP");
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      for (const w of workers.values()) w.process.kill("SIGKILL");
      return;
    }
    stopping = true;
    log.info("stopping workers", { signal });
    metrics?.close();
    if (workers.size === 0) done();
    for (const w of workers.values()) w.process.kill("SIGTERM");
    // A worker that does not finish draining in time is not waited for forever.
    setTimeout(() => {
      for (const [index, w] of workers) {
        log.error("worker did not stop in time; killing it", { worker: index });
        w.process.kill("SIGKILL");
      }
    }, stopTimeoutMs + 5000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await finished;
  metrics?.close();
  if (failure) throw failure;
}
