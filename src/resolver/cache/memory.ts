// The `internal` cache: a per-process LRU, the PMSR default. A Map keeps
// insertion order, so re-inserting on use makes its first key the least
// recently used one. Entries are stored frozen and handed out as they are:
// nobody can change one, so the cache and discovery's hot set share a single
// object per policy instead of holding copies.

import type { PolicyCache, PolicyEntry } from "../types.ts";

export type MemoryCache = PolicyCache & {
  /** Synchronous lookup for the socketmap hot path; counts as a use. */
  peek(domain: string): PolicyEntry | undefined;
};

export function createMemoryCache({ size }: { size: number }): MemoryCache {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`internal cache size must be a positive integer, got ${size}`);
  }
  const entries = new Map<string, PolicyEntry>();
  const meta = new Map<string, string>();

  const peek = (domain: string): PolicyEntry | undefined => {
    const entry = entries.get(domain);
    if (entry === undefined) return undefined;
    entries.delete(domain);
    entries.set(domain, entry);
    return entry;
  };

  return {
    kind: "memory",
    peek,
    get: async (domain) => peek(domain),
    set: async (entry) => {
      const stored = entries.get(entry.domain);
      if (stored !== undefined && stored.fetchedAt > entry.fetchedAt) return;
      entries.delete(entry.domain);
      entries.set(entry.domain, Object.isFrozen(entry) ? entry : Object.freeze({ ...entry }));
      for (const oldest of entries.keys()) {
        if (entries.size <= size) break;
        entries.delete(oldest);
      }
    },
    delete: async (domain) => {
      entries.delete(domain);
    },
    // A refresh sweep is not a use: it leaves the LRU order alone.
    stale: async ({ fetchedBefore, limit, after }) => {
      const found: PolicyEntry[] = [];
      for (const entry of entries.values()) {
        if (entry.fetchedAt < fetchedBefore && (after === undefined || entry.domain > after)) {
          found.push(entry);
        }
      }
      // Domains are ASCII, so UTF-16 order is byte order, as in the SQL and Redis backends.
      found.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
      return found.slice(0, Math.max(0, limit));
    },
    prune: async (expiredBefore) => {
      let pruned = 0;
      for (const [domain, entry] of entries) {
        if (entry.expiresAt < expiredBefore) {
          entries.delete(domain);
          pruned++;
        }
      }
      return pruned;
    },
    count: async () => entries.size,
    getMeta: async (key) => meta.get(key),
    setMeta: async (key, value) => {
      meta.set(key, value);
    },
    close: async () => {
      entries.clear();
      meta.clear();
    },
  };
}
