// Opens the configured cache backend. Backends load on demand, so a resolver
// on the internal cache never loads ioredis or pg.

import type { CacheConfig, PolicyCache } from "../types.ts";

export type OpenedCache = PolicyCache & {
  /** Options the backend does not understand; the caller warns about them. Empty for memory and SQLite. */
  readonly ignoredOptions: readonly string[];
};

export async function openCache(config: CacheConfig): Promise<OpenedCache> {
  switch (config.type) {
    case "internal": {
      const { createMemoryCache } = await import("./memory.ts");
      return { ...createMemoryCache({ size: config.size }), ignoredOptions: [] };
    }
    case "sqlite": {
      const { openSqliteCache } = await import("./sqlite.ts");
      const cache = await openSqliteCache(config);
      return { ...cache, ignoredOptions: [] };
    }
    case "redis":
    case "redis_sentinel": {
      const { openRedisCache } = await import("./redis.ts");
      return openRedisCache(config);
    }
    case "postgres": {
      const { openPostgresCache } = await import("./postgres.ts");
      return openPostgresCache(config);
    }
  }
}
