// Shapes shared by the resolver's parts: the policy cache contract every
// backend implements, and the socketmap lookup the server calls.

import type { PolicyMode } from "../core/policy.ts";
import type { HotSet } from "./hot-set.ts";

/** One cached policy, as every {@link PolicyCache} backend stores it. */
export interface PolicyEntry {
  /** The Policy Domain: lowercase A-labels, no trailing dot (STS-SND-02 cache key). */
  domain: string;
  /** The `_mta-sts` TXT id the policy was fetched under. */
  id: string;
  /** The policy file text exactly as fetched and validated; re-parsed when loaded. */
  text: string;
  mode: PolicyMode;
  /** When the policy was fetched over HTTPS, ms since the epoch. */
  fetchedAt: number;
  /** fetchedAt + max_age seconds, ms since the epoch (STS-SND-02). */
  expiresAt: number;
}

/**
 * Where policies persist between lookups (memory, SQLite, Redis, PostgreSQL).
 * Every method may be called concurrently; none throws for a missing entry.
 */
export interface PolicyCache {
  readonly kind: "memory" | "sqlite" | "redis" | "postgres";
  /**
   * In-process backends only: their records, which discovery then uses as its hot
   * set (and LRU) instead of holding every policy a second time.
   */
  readonly hot?: HotSet;
  get(domain: string): Promise<PolicyEntry | undefined>;
  /**
   * Insert or replace the entry for `entry.domain`. An entry with an older
   * `fetchedAt` than the stored one is ignored, so two resolvers racing on a
   * shared store never roll a policy back.
   */
  set(entry: PolicyEntry): Promise<void>;
  delete(domain: string): Promise<void>;
  /**
   * Up to `limit` entries with `fetchedAt < fetchedBefore`, ordered by domain,
   * strictly after `after` when given: the proactive refresher pages with it.
   */
  stale(options: { fetchedBefore: number; limit: number; after?: string }): Promise<PolicyEntry[]>;
  /** Delete entries with `expiresAt < expiredBefore`; returns how many went. */
  prune(expiredBefore: number): Promise<number>;
  count(): Promise<number>;
  /** Small named values shared by every resolver on the store (the last refresh sweep). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Answers one socketmap request. `zone` is the map name (the text before the
 * first space), `key` the rest, unmodified. Returns the reply payload, e.g.
 * `OK secure match=mx.example.com` or `NOTFOUND ` (SM-PROTO-02). A cache hit
 * may answer synchronously.
 */
export type SocketmapLookup = (zone: string, key: string) => string | Promise<string>;

/** `cache:` of mta-sts-daemon.yml, validated; `options` keep the file's own names. */
export type CacheConfig =
  | { type: "internal"; size: number }
  | { type: "sqlite"; filename: string; timeoutMs: number }
  | { type: "redis"; url: string; prefix: string; options: Record<string, unknown> }
  | {
      type: "redis_sentinel";
      masterName: string;
      sentinels: { host: string; port: number }[];
      prefix: string;
      options: Record<string, unknown>;
    }
  | {
      type: "postgres";
      dsn: string;
      table: string;
      timeoutMs: number;
      options: Record<string, unknown>;
    };

/** One `zones.<name>` (or `default_zone`) block (SM-PMSR-03). */
export interface ZoneConfig {
  /** Treat `mode: testing` like `enforce`. */
  strictTesting: boolean;
  /** DNS and HTTPS timeout, each (PMSR `timeout`, seconds in the file). */
  timeoutMs: number;
  /** Append `servername=hostname` to secure answers. */
  requireSni: boolean;
  /** Append Postfix 3.10 TLSRPT attributes. */
  tlsrpt: boolean;
}

export type ListenConfig =
  | { kind: "tcp"; host: string; port: number; reusePort: boolean }
  | { kind: "unix"; path: string; mode: number | null };

/** The whole daemon configuration, defaults applied. */
export interface ResolverConfig {
  listen: ListenConfig;
  shutdownTimeoutMs: number;
  /** Age below which a cached entry is used without any DNS check (SM-PMSR-14). */
  cacheGraceMs: number;
  proactive: { enabled: boolean; intervalMs: number; concurrency: number; graceRatio: number };
  cache: CacheConfig;
  defaultZone: ZoneConfig;
  zones: Map<string, ZoneConfig>;
  /** `dns.servers`: resolvers to ask, "HOST:PORT"; null = the system's (resolv.conf). */
  dnsServers: { host: string; port: number }[] | null;
  /** `tls.ca_file`: extra trusted roots (PEM file path) for policy fetches. */
  caFile: string | null;
  /** `tls.policy_port`: the HTTPS port of policy hosts; 443 (RFC 8461 §3.3) except in test labs. */
  policyPort: number;
  /** `negative_cache_ttl`: how long "no MTA-STS here" is remembered (SM-WEAK-03). */
  negativeTtlMs: number;
  /** `fetch_backoff`: wait after a failed fetch per domain and id, at least 300 s (STS-FETCH-10). */
  fetchBackoffMs: number;
  /** `fetch_concurrency`: policy discoveries in flight at once. */
  fetchConcurrency: number;
  /** `dane.mode`: `prefer` answers so Postfix applies DANE where it is usable (SM-WEAK-01); `off` never looks. */
  dane: "prefer" | "off";
  /** `metrics.listen`: "HOST:PORT" for Prometheus text at /metrics; null = off. */
  metricsListen: string | null;
  /** `limits.*` on the socketmap side. */
  limits: { maxRequestBytes: number; idleTimeoutMs: number; maxConnections: number };
  /** `log.level`, `log.format`. */
  log: { level: "debug" | "info" | "warn" | "error"; format: "text" | "json" };
}
