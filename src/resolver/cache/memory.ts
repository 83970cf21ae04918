// The `internal` cache: a per-process LRU, the PMSR default. Each value is
// the lookup path's own record (Known), and discovery uses these records as
// its hot set (hot-set.ts): one record per policy in memory. Entries are
// handed out as frozen copies of a record's entry fields.

import { HotSet } from "../hot-set.ts";
import { entryOf, fresh } from "../known.ts";
import type { PolicyCache, PolicyEntry } from "../types.ts";

export type MemoryCache = PolicyCache & {
  readonly hot: HotSet;
  /** Synchronous lookup; counts as a use. */
  peek(domain: string): PolicyEntry | undefined;
};

export function createMemoryCache({ size }: { size: number }): MemoryCache {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`internal cache size must be a positive integer, got ${size}`);
  }
  const records = new HotSet();
  const meta = new Map<string, string>();

  const peek = (domain: string): PolicyEntry | undefined => {
    const known = records.get(domain);
    if (known === undefined) return undefined;
    records.touch(known);
    return entryOf(known);
  };

  return {
    kind: "memory",
    hot: records,
    peek,
    get: async (domain) => peek(domain),
    set: async (entry) => {
      const stored = records.get(entry.domain);
      if (stored !== undefined && stored.fetchedAt > entry.fetchedAt) return;
      records.admit(fresh(entry, 0), size);
    },
    delete: async (domain) => {
      records.delete(domain);
    },
    // A refresh sweep is not a use: it leaves the LRU order alone.
    stale: async ({ fetchedBefore, limit, after }) => {
      const found: PolicyEntry[] = [];
      for (const known of records.values()) {
        if (known.fetchedAt < fetchedBefore && (after === undefined || known.domain > after)) {
          found.push(entryOf(known));
        }
      }
      // Domains are ASCII, so UTF-16 order is byte order, as in the SQL and Redis backends.
      found.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
      return found.slice(0, Math.max(0, limit));
    },
    prune: async (expiredBefore) => {
      let pruned = 0;
      for (const known of records.values()) {
        if (known.expiresAt < expiredBefore) {
          records.delete(known.domain);
          pruned++;
        }
      }
      return pruned;
    },
    count: async () => records.size,
    getMeta: async (key) => meta.get(key),
    setMeta: async (key, value) => {
      meta.set(key, value);
    },
    close: async () => {
      records.clear();
      meta.clear();
    },
  };
}
