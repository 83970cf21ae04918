// The `redis` and `redis_sentinel` caches: one store shared by every resolver
// that points at it. Keys, under the configured prefix:
//   policy:<domain>  hash (id, text, mode, fetchedAt, expiresAt), expiring
//                    2 days after the policy does (SM-WEAK-13)
//   by-fetched       zset, score fetchedAt: the refresher's filter
//   by-expiry        zset, score expiresAt: what prune removes
//   domains          zset, score 0: domain order for stale's paging
//   meta             hash of getMeta/setMeta values
// Writes that touch several keys are atomic (Lua scripts, MULTI for delete)
// so readers never see half of one, and set's fetchedAt comparison and write
// are one step.
// Needs Redis 6.2 or later (ZMSCORE).

import { createHash } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import type { PolicyMode } from "../../core/policy.ts";
import type { CacheConfig, PolicyCache, PolicyEntry } from "../types.ts";

export type RedisCacheConfig = Extract<CacheConfig, { type: "redis" | "redis_sentinel" }>;

export type RedisCache = PolicyCache & {
  /** Names in `options` (or the URL's query) that have no ioredis meaning, for the caller to warn about. */
  readonly ignoredOptions: readonly string[];
};

const DEFAULT_TIMEOUT_MS = 5000;
const KEEP_AFTER_EXPIRY_MS = 2 * 24 * 60 * 60 * 1000;
const PRUNE_BATCH = 500;
const MODES: readonly string[] = ["enforce", "testing", "none"] satisfies PolicyMode[];

export async function openRedisCache(config: RedisCacheConfig): Promise<RedisCache> {
  const { target, label, query } = describeTarget(config);
  const { options, ignored } = mapOptions({ ...config.options, ...query });
  const connectTimeout = options.connectTimeout ?? DEFAULT_TIMEOUT_MS;
  const redisOptions: RedisOptions = {
    connectTimeout,
    commandTimeout: DEFAULT_TIMEOUT_MS,
    // A lookup facing a dead Redis should fail over to a fresh fetch, not wait for reconnects.
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    // ioredis waits this long for a closing socket before destroying it, even
    // one already gone; its 2 s default holds a shutdown after Redis died.
    disconnectTimeout: 500,
    ...target,
    ...options,
  };
  if (config.type === "redis_sentinel") {
    redisOptions.sentinelCommandTimeout ??= redisOptions.commandTimeout;
  }
  const redis = new Redis(redisOptions);
  try {
    await ready(redis, connectTimeout);
  } catch (error) {
    stop(redis);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot connect to Redis cache ${label}: ${reason}`, { cause: error });
  }
  // Once running, failures reach callers as rejected commands; without a
  // listener ioredis would also print every reconnect attempt to stderr.
  redis.on("error", () => {});
  return redisCache(redis, config.prefix, ignored);
}

/** ioredis connection options for the configured server(s), a password-free label for messages, and the URL's query. */
function describeTarget(config: RedisCacheConfig): {
  target: RedisOptions;
  label: string;
  query: Record<string, string>;
} {
  if (config.type === "redis_sentinel") {
    const hosts = config.sentinels.map(({ host, port }) => `${host}:${port}`).join(",");
    return {
      target: { sentinels: config.sentinels, name: config.masterName },
      label: `redis-sentinel://${hosts}/${config.masterName}`,
      query: {},
    };
  }
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new Error(`invalid Redis cache URL: expected redis://, rediss:// or unix://`);
  }
  // redis-py takes connection options from the query string too, and lets them win.
  const query = Object.fromEntries(url.searchParams);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const auth = {
    ...(username === "" ? {} : { username }),
    ...(password === "" ? {} : { password }),
  };
  const label = `${url.protocol}//${username === "" ? "" : `${username}@`}${url.host}${url.pathname}`;
  switch (url.protocol) {
    case "redis:":
    case "rediss:": {
      const db = url.pathname.replace(/^\//, "");
      return {
        target: {
          host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
          port: url.port === "" ? 6379 : Number(url.port),
          ...(db === "" ? {} : { db: integer("db", db) }),
          ...(url.protocol === "rediss:" ? { tls: {} } : {}),
          ...auth,
        },
        label,
        query,
      };
    }
    case "unix:":
      return { target: { path: decodeURIComponent(url.pathname), ...auth }, label, query };
    default:
      throw new Error(`unsupported Redis cache URL scheme ${url.protocol} in ${label}`);
  }
}

/** Maps postfix-mta-sts-resolver's redis-py option names onto ioredis. */
function mapOptions(given: Record<string, unknown>): { options: RedisOptions; ignored: string[] } {
  const options: RedisOptions = {};
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    // redis-py's None means "its default"; ours are the safer bounded ones.
    if (value === null || value === undefined) continue;
    switch (name) {
      case "socket_timeout":
        options.commandTimeout = seconds(name, value);
        break;
      case "socket_connect_timeout":
        options.connectTimeout = seconds(name, value);
        break;
      case "username":
        options.username = text(name, value);
        break;
      case "password":
        options.password = text(name, value);
        break;
      case "db":
        options.db = integer(name, value);
        break;
      case "client_name":
        options.connectionName = text(name, value);
        break;
      case "ssl":
        if (flag(name, value)) options.tls = {};
        break;
      case "protocol": {
        const protocol = integer(name, value);
        if (protocol !== 2 && protocol !== 3) throw invalid(name, value, "2 or 3");
        options.protocol = protocol;
        break;
      }
      case "sentinel_kwargs": {
        if (typeof value !== "object") throw invalid(name, value, "a mapping");
        for (const [key, inner] of Object.entries(value)) {
          if (key === "password") options.sentinelPassword = text(`${name}.${key}`, inner);
          else if (key === "username") options.sentinelUsername = text(`${name}.${key}`, inner);
          else ignored.push(`${name}.${key}`);
        }
        break;
      }
      // ioredis multiplexes one connection where redis-py pools several, so a
      // pool size has nothing to bound and deserves no warning.
      case "max_connections":
        break;
      default:
        ignored.push(name);
    }
  }
  return { options, ignored };
}

function seconds(name: string, value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    throw invalid(name, value, "a positive number of seconds");
  }
  return Math.ceil(n * 1000);
}

function integer(name: string, value: unknown): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw invalid(name, value, "a whole number");
  }
  return n;
}

function text(name: string, value: unknown): string {
  if (typeof value !== "string" && typeof value !== "number") throw invalid(name, value, "text");
  return String(value);
}

function flag(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  const word = String(value).toLowerCase();
  if (["1", "true", "yes", "on"].includes(word)) return true;
  if (["0", "false", "no", "off"].includes(word)) return false;
  throw invalid(name, value, "true or false");
}

function invalid(name: string, value: unknown, expected: string): Error {
  // Never echo a password back into logs.
  const shown = /password/.test(name) ? "(hidden)" : JSON.stringify(value);
  return new Error(`invalid Redis cache option ${name}: expected ${expected}, got ${shown}`);
}

function ready(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("error", onError);
      redis.off("end", onEnd);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = (): void => finish();
    // The first failure decides: a resolver that cannot reach its cache at
    // start should say so at once rather than retry until the timeout.
    const onError = (error: Error): void => finish(error);
    const onEnd = (): void => finish(new Error("connection closed"));
    const timer = setTimeout(
      () => finish(new Error(`not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
    redis.on("ready", onReady);
    redis.on("error", onError);
    redis.on("end", onEnd);
  });
}

/** Ends reconnecting. Past "end" ioredis would only arm a 2 s destroy timer on the dead socket, holding the process open. */
function stop(redis: Redis): void {
  if (redis.status !== "end") redis.disconnect();
}

interface Script {
  lua: string;
  sha: string;
}

const script = (lua: string): Script => ({
  lua,
  sha: createHash("sha1").update(lua).digest("hex"),
});

/** EVALSHA, falling back to EVAL once when the server has not seen the script (restart, SCRIPT FLUSH). */
async function run(
  redis: Redis,
  { lua, sha }: Script,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
    return await redis.eval(lua, keys.length, ...keys, ...args);
  }
}

// KEYS: hash, by-fetched, by-expiry, domains. ARGV: domain, id, text, mode,
// fetchedAt, expiresAt, keepUntil. Equal fetchedAt replaces, older is ignored.
const SET = script(`
local stored = redis.call('HGET', KEYS[1], 'fetchedAt')
if stored and tonumber(stored) > tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'text', ARGV[3], 'mode', ARGV[4],
  'fetchedAt', ARGV[5], 'expiresAt', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return 1
`);

// KEYS: by-fetched, by-expiry, domains, then one hash per candidate.
// ARGV: expiredBefore, then the candidate domains. Rechecks each expiry, so an
// entry another resolver refreshed since the candidates were read survives.
const PRUNE = script(`
local pruned = 0
for i = 2, #ARGV do
  local expires = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if expires and tonumber(expires) < tonumber(ARGV[1]) then
    redis.call('DEL', KEYS[i + 2])
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
    redis.call('ZREM', KEYS[3], ARGV[i])
    pruned = pruned + 1
  end
end
return pruned
`);

function redisCache(redis: Redis, prefix: string, ignoredOptions: string[]): RedisCache {
  const policyKey = (domain: string): string => `${prefix}policy:${domain}`;
  const byFetched = `${prefix}by-fetched`;
  const byExpiry = `${prefix}by-expiry`;
  const domains = `${prefix}domains`;
  const metaKey = `${prefix}meta`;
  let closed = false;

  const get = async (domain: string): Promise<PolicyEntry | undefined> =>
    toEntry(domain, await redis.hgetall(policyKey(domain)));

  return {
    kind: "redis",
    ignoredOptions,
    get,
    set: async (entry) => {
      // The clock floor keeps an entry written after its expiry (a clock
      // step, a replayed write) readable for the same 2 days as any other.
      const keepUntil = Math.max(entry.expiresAt, Date.now()) + KEEP_AFTER_EXPIRY_MS;
      await run(
        redis,
        SET,
        [policyKey(entry.domain), byFetched, byExpiry, domains],
        [
          entry.domain,
          entry.id,
          entry.text,
          entry.mode,
          entry.fetchedAt,
          entry.expiresAt,
          Math.ceil(keepUntil),
        ],
      );
    },
    delete: async (domain) => {
      const results = await redis
        .multi()
        .del(policyKey(domain))
        .zrem(byFetched, domain)
        .zrem(byExpiry, domain)
        .zrem(domains, domain)
        .exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    },
    // Walks the domain-ordered zset in chunks and keeps the stale ones, so
    // memory stays bounded by the chunk and the limit; a sweep that pages
    // through every domain costs one pass over the zset in all, O(N).
    stale: async ({ fetchedBefore, limit, after }) => {
      const found: PolicyEntry[] = [];
      const want = Math.max(0, Math.floor(limit));
      const chunk = Math.min(1000, Math.max(100, want * 2));
      let from = after === undefined ? "-" : `(${after}`;
      while (found.length < want) {
        const names = await redis.zrangebylex(domains, from, "+", "LIMIT", 0, chunk);
        if (names.length === 0) break;
        const scores = await redis.zmscore(byFetched, names);
        const candidates = names.filter((_, i) => {
          const score = scores[i];
          return score !== null && score !== undefined && Number(score) < fetchedBefore;
        });
        // Loads only what can still fit: policy texts run to 64 KiB each.
        let next = 0;
        while (next < candidates.length && found.length < want) {
          const batch = candidates.slice(next, next + want - found.length);
          next += batch.length;
          for (const entry of await Promise.all(batch.map(get))) {
            // Another resolver may have refreshed or deleted it meanwhile.
            if (entry !== undefined && entry.fetchedAt < fetchedBefore) found.push(entry);
          }
        }
        const last = names.at(-1);
        if (names.length < chunk || last === undefined) break;
        from = `(${last}`;
      }
      return found;
    },
    prune: async (expiredBefore) => {
      let pruned = 0;
      for (;;) {
        const doomed = await redis.zrangebyscore(
          byExpiry,
          "-inf",
          `(${expiredBefore}`,
          "LIMIT",
          0,
          PRUNE_BATCH,
        );
        if (doomed.length === 0) return pruned;
        pruned += Number(
          await run(
            redis,
            PRUNE,
            [byFetched, byExpiry, domains, ...doomed.map(policyKey)],
            [expiredBefore, ...doomed],
          ),
        );
        if (doomed.length < PRUNE_BATCH) return pruned;
      }
    },
    // Counts the index, which can briefly include a domain whose hash Redis
    // expired on its own; the next prune removes it.
    count: async () => redis.zcard(domains),
    getMeta: async (key) => (await redis.hget(metaKey, key)) ?? undefined,
    setMeta: async (key, value) => {
      await redis.hset(metaKey, key, value);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await redis.quit();
      } catch {
        // Already gone or unreachable: nothing to flush, only the socket to drop.
      }
      stop(redis);
    },
  };
}

function toEntry(domain: string, hash: Record<string, string>): PolicyEntry | undefined {
  const { id, text, mode, fetchedAt, expiresAt } = hash;
  if (
    id === undefined ||
    text === undefined ||
    mode === undefined ||
    !MODES.includes(mode) ||
    fetchedAt === undefined ||
    expiresAt === undefined
  ) {
    return undefined;
  }
  return {
    domain,
    id,
    text,
    mode: mode as PolicyMode,
    fetchedAt: Number(fetchedAt),
    expiresAt: Number(expiresAt),
  };
}
