// The scan itself: a fixed number of workers pull domains from the input
// stream and hand each result on as soon as it is done, so memory holds at
// most `concurrency` domains whatever the length of the list. Each domain is
// `check` with two survey settings: no policy fetch without a record, and MX
// probing only when asked.

import { checkDomain } from "../check/index.ts";
import type { CheckDeps, CheckOptions } from "../check/types.ts";
import { invalidRecord, scanRecord } from "./record.ts";
import type { ScanInput, ScanRecord } from "./types.ts";

export interface ScanOptions {
  concurrency: number;
  /** Connect to every MX (STARTTLS, certificate), as `check` does. */
  probeMx: boolean;
  /** Per-domain time bound, CA and port overrides, as for `check`. */
  check: CheckOptions;
  /** Stop taking domains; results not yet handed on are dropped. */
  signal?: AbortSignal;
}

export async function scanDomain(
  item: ScanInput,
  deps: CheckDeps,
  options: Pick<ScanOptions, "probeMx" | "check">,
): Promise<ScanRecord> {
  if ("invalid" in item) return invalidRecord(item.input, item.invalid);
  const result = await checkDomain(item.domain, deps, {
    ...options.check,
    probeMx: options.probeMx,
    fetchWithoutRecord: false,
    describePolicyCertificate: false,
  });
  return scanRecord(result, item.input, options.probeMx);
}

/**
 * Scans every input; `depsFor(n)` gives the adapters for the n-th domain (so
 * domains can be spread over several rate-limited resolvers). Resolves when
 * the input is exhausted and every result handed on, or at once on abort.
 */
export async function scanAll(
  inputs: AsyncIterable<ScanInput>,
  depsFor: (n: number) => CheckDeps,
  options: ScanOptions,
  emit: (record: ScanRecord) => void | Promise<void>,
): Promise<{ stopped: boolean }> {
  const { signal } = options;
  const iterator = inputs[Symbol.asyncIterator]();
  let taken = 0;
  const worker = async () => {
    while (!signal?.aborted) {
      const next = await iterator.next();
      if (next.done || signal?.aborted) return;
      const record = await scanDomain(next.value, depsFor(taken++), options);
      if (signal?.aborted) return;
      await emit(record);
    }
  };
  const workers = Promise.all(
    Array.from({ length: Math.max(1, options.concurrency) }, () => worker()),
  );
  if (!signal) {
    await workers;
    return { stopped: false };
  }
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await Promise.race([workers, stopped]);
  return { stopped: signal.aborted };
}
