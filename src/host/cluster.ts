// `workers: N`: N processes (node:cluster), each a whole host that binds the
// same port with SO_REUSEPORT so the kernel spreads connections over them
// (no hand-off through the primary). The primary only forks, restarts a
// worker that died, and passes SIGHUP / SIGTERM on. Only worker 0 runs the
// `_mta-sts` id check, so a warning is logged once, not N times.

import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { Logger } from "../resolver/log.ts";

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

/**
 * Forks `count` workers running this same command line and keeps them up
 * until SIGTERM/SIGINT; resolves once every worker has exited.
 */
export function runPrimary(count: number, log: Logger): Promise<void> {
  const workers = new Map<number, Worker>();
  // One set of ticket keys for all workers: a session resumes whichever
  // worker the kernel hands the next connection to (as nginx's workers do).
  const ticketKeys = randomBytes(48).toString("hex");
  let stopping = false;
  const fork = (index: number) => {
    const w = cluster.fork({ [INDEX_ENV]: String(index), [TICKET_ENV]: ticketKeys });
    workers.set(index, w);
    w.on("exit", (code, signal) => {
      workers.delete(index);
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
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
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
    if (workers.size === 0) done();
    for (const w of workers.values()) w.process.kill("SIGTERM");
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return finished;
}
