// Proactive refresh (RFC 8461 §3.3, STS-SND-08): re-fetch cached policies
// before they expire, so a policy host that is down on the day a policy
// expires does not drop protection. Unlike postfix-mta-sts-resolver it
// re-fetches even when the id is unchanged (SM-WEAK-06) and prunes entries
// long expired (SM-WEAK-13).

import type { Logger } from "../adapters/log.ts";
import type { Discovery } from "./discovery.ts";
import { createLimiter } from "./limiter.ts";
import type { PolicyCache } from "./types.ts";

export const LAST_SWEEP_KEY = "proactive_fetch_ts";
const PAGE = 256;

export interface SweepResult {
  refreshed: number;
  failed: number;
  pruned: number;
}

export interface Refresher {
  sweep(): Promise<SweepResult>;
  stop(): Promise<void>;
}

export function startRefresher(options: {
  cache: PolicyCache;
  discovery: Discovery;
  intervalMs: number;
  concurrency: number;
  graceRatio: number;
  timeoutMs: number;
  now: () => number;
  log: Logger;
  /** false: no timer, `sweep()` only (tests). */
  schedule?: boolean;
}): Refresher {
  const { cache, discovery, intervalMs, now, log } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<SweepResult> | undefined;
  let stopped = false;

  async function sweepOnce(): Promise<SweepResult> {
    const started = now();
    const limit = createLimiter(options.concurrency);
    const result: SweepResult = { refreshed: 0, failed: 0, pruned: 0 };
    const fetchedBefore = started - intervalMs / options.graceRatio;
    let after: string | undefined;
    for (;;) {
      if (stopped) break;
      const page = await cache.stale({
        fetchedBefore,
        limit: PAGE,
        ...(after !== undefined ? { after } : {}),
      });
      if (page.length === 0) break;
      after = page[page.length - 1]?.domain;
      await Promise.all(
        page.map((entry) =>
          limit(async () => {
            const k = await discovery.refresh(entry.domain, options.timeoutMs);
            const fetched = k !== "none" && k.fetchedAt >= started;
            if (fetched) result.refreshed++;
            else {
              result.failed++;
              log.warn("proactive refresh failed; the cached policy stays in force", {
                domain: entry.domain,
                expires: new Date(entry.expiresAt).toISOString(),
              });
            }
          }),
        ),
      );
      if (page.length < PAGE) break;
    }
    result.pruned = await cache.prune(now() - 2 * intervalMs);
    await cache.setMeta(LAST_SWEEP_KEY, String(started));
    log.info("proactive refresh sweep done", { ...result, ms: now() - started });
    return result;
  }

  const sweep = (): Promise<SweepResult> => {
    running ??= sweepOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  async function plan(): Promise<void> {
    if (stopped) return;
    let last = 0;
    try {
      last = Number((await cache.getMeta(LAST_SWEEP_KEY)) ?? 0) || 0;
    } catch (err) {
      log.warn("cannot read the last refresh time", { error: String(err) });
    }
    const delay = Math.max(1000, last + intervalMs - now());
    if (stopped) return;
    timer = setTimeout(
      () => {
        sweep()
          .catch((err) => log.error("proactive refresh sweep failed", { error: String(err) }))
          .finally(() => void plan());
      },
      Math.min(delay, 2 ** 31 - 1),
    );
    timer.unref();
  }

  if (options.schedule !== false) void plan();
  return {
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
