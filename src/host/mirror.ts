// Mirror mode: for a domain that delegates its policy (RFC 8461 §8.2), serve
// a copy of another domain's policy, fetched from https://mta-sts.<source>/
// by the same rules a sender uses (src/adapters/policy-fetch.ts), checked like
// a file, and refreshed on a timer. A failed fetch keeps the last good copy
// and is retried no sooner than 5 minutes later (STS-FETCH-10).

import type { Logger } from "../adapters/log.ts";
import type { PolicyFetchResult } from "../adapters/policy-fetch.ts";
import type { PolicyStore } from "./policies.ts";

/** STS-FETCH-10: a failed fetch is not retried for at least 5 minutes. */
export const MIN_RETRY_MS = 300_000;

export interface MirrorOptions {
  /** Mirrored domain → the domain whose policy it serves. */
  sources: ReadonlyMap<string, string>;
  refreshMs: number;
  fetch: (source: string) => Promise<PolicyFetchResult>;
  store: PolicyStore;
  log: Logger;
}

export interface Mirror {
  /** Fetches every source now; resolves when each attempt settled. */
  refreshNow(): Promise<void>;
  /** Starts the refresh timers. */
  start(): void;
  close(): void;
}

export function createMirror(o: MirrorOptions): Mirror {
  const timers = new Map<string, NodeJS.Timeout>();
  let closed = false;

  async function refresh(domain: string, source: string): Promise<boolean> {
    const got = await o.fetch(source);
    if (!got.ok) {
      o.log.warn("cannot fetch the mirrored policy: still serving the last good copy, if any", {
        domain,
        from: got.url,
        kind: got.kind,
        error: got.detail,
      });
      return false;
    }
    return o.store.put(domain, got.body, got.url).length === 0;
  }

  function schedule(domain: string, source: string, ms: number): void {
    if (closed) return;
    const t = setTimeout(async () => {
      const ok = await refresh(domain, source);
      schedule(
        domain,
        source,
        ok ? o.refreshMs : Math.max(MIN_RETRY_MS, Math.min(o.refreshMs, 3_600_000)),
      );
    }, ms);
    t.unref();
    timers.set(domain, t);
  }

  return {
    async refreshNow() {
      await Promise.all([...o.sources].map(([d, s]) => refresh(d, s)));
    },
    start() {
      for (const [d, s] of o.sources) schedule(d, s, o.refreshMs);
    },
    close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
