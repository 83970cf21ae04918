// Policy discovery for the sending side (RFC 8461 §3.3, §5.1): what is known
// about each domain, when to ask DNS again, when to fetch, and what to keep
// when either fails. Decisions that differ from postfix-mta-sts-resolver are
// marked with their SM-WEAK / STS-SND rule.

import { addressesOf, type Resolver } from "../adapters/dns.ts";
import type { PolicyFetchOptions, PolicyFetchResult } from "../adapters/policy-fetch.ts";
import { stsRecordName } from "../core/names.ts";
import { parsePolicy } from "../core/policy.ts";
import { selectStsRecord } from "../core/sts-record.ts";
import { daneVerdict } from "./dane.ts";
import { HotSet } from "./hot-set.ts";
import { fresh, type Known } from "./known.ts";
import { createLimiter } from "./limiter.ts";
import type { PolicyCache, PolicyEntry } from "./types.ts";

export interface DiscoveryDeps {
  /** DNS with the given timeout per query. */
  dns(timeoutMs: number): Resolver;
  fetchPolicy(domain: string, options: PolicyFetchOptions): Promise<PolicyFetchResult>;
  cache: PolicyCache;
  /** ms since the epoch. */
  now(): number;
  /** [0, 1), for backoff jitter. */
  random(): number;
}

export interface DiscoveryOptions {
  cacheGraceMs: number;
  negativeTtlMs: number;
  fetchBackoffMs: number;
  fetchConcurrency: number;
  dane: "prefer" | "off";
  /** Domains kept in memory (the hot set in front of the persistent cache). */
  hotSize: number;
  /** Passed to every policy fetch (extra roots, port in labs). */
  fetch: Omit<PolicyFetchOptions, "timeoutMs" | "now">;
  onEvent?: (e: DiscoveryEvent) => void;
}

export type DiscoveryEvent =
  | { type: "cache"; result: "hit" | "stale" | "miss" | "negative" }
  | { type: "txt"; domain: string; outcome: "id" | "none" | "invalid" | "error"; detail?: string }
  | { type: "fetch"; domain: string; id: string; ok: true; mode: string; ms: number }
  | {
      type: "fetch";
      domain: string;
      id: string;
      ok: false;
      kind: string;
      detail: string;
      ms: number;
    }
  | { type: "backoff"; domain: string; id: string }
  | { type: "store-error"; domain: string; detail: string }
  | { type: "dane"; domain: string; verdict: string };

export type { Known };

export type Knowledge = Known | "none";

export interface Discovery {
  /** What is known without any I/O, or undefined when `resolve` must run. */
  peek(domain: string, timeoutMs: number): Knowledge | undefined;
  /** Discovers (one run per domain at a time, bounded in total). Never rejects. */
  resolve(domain: string, timeoutMs: number): Promise<Knowledge>;
  /** Proactive refresh: re-fetches over HTTPS even when the id is unchanged (STS-SND-08). */
  refresh(domain: string, timeoutMs: number): Promise<Knowledge>;
  /** Domains in memory, for metrics. */
  size(): { hot: number; negative: number; inflight: number };
}

// The per-lookup events, allocated once: the hot path emits one per request.
const CACHE_HIT: DiscoveryEvent = Object.freeze({ type: "cache", result: "hit" });
const CACHE_STALE: DiscoveryEvent = Object.freeze({ type: "cache", result: "stale" });
const CACHE_NEGATIVE: DiscoveryEvent = Object.freeze({ type: "cache", result: "negative" });
const CACHE_MISS: DiscoveryEvent = Object.freeze({ type: "cache", result: "miss" });

export function createDiscovery(deps: DiscoveryDeps, options: DiscoveryOptions): Discovery {
  // An in-process cache (`internal`) is itself the hot set: one record per
  // policy, not a second copy in front of it.
  const hot = deps.cache.hot ?? new HotSet();
  const sharedHot = deps.cache.hot !== undefined;
  const negative = new Map<string, number>();
  const backoff = new Map<string, number>();
  const inflight = new Map<string, Promise<Knowledge>>();
  const limit = createLimiter(options.fetchConcurrency);
  const emit = options.onEvent ?? (() => {});

  // Keyed by the entry's own (flat) domain string, not the lookup's, which may
  // be a slice that keeps the whole socketmap request alive.
  const remember = (known: Known) => hot.admit(known, options.hotSize);
  const bounded = (map: Map<string, number>, key: string, until: number) => {
    map.delete(key);
    map.set(key, until);
    if (map.size > options.hotSize) map.delete(map.keys().next().value as string);
  };

  const run = (domain: string, timeoutMs: number, force: boolean): Promise<Knowledge> => {
    const running = inflight.get(domain);
    if (running) return running;
    const p = limit(() => discover(domain, timeoutMs, force))
      .catch((err: unknown): Knowledge => {
        // A bug here must cost one answer, never the daemon: background
        // revalidations have nobody to report a rejection to.
        emit({ type: "store-error", domain, detail: `discovery failed: ${String(err)}` });
        const known = hot.get(domain);
        return known && deps.now() < known.expiresAt ? known : "none";
      })
      .finally(() => inflight.delete(domain));
    inflight.set(domain, p);
    return p;
  };

  async function discover(domain: string, timeoutMs: number, force: boolean): Promise<Knowledge> {
    const started = deps.now();
    let known = hot.get(domain);
    if (!known) {
      const stored = await cacheGet(domain);
      if (stored) known = fresh(stored, 0);
    }
    const valid = known && started < known.expiresAt ? known : undefined;
    const dns = deps.dns(timeoutMs);
    const txt = await dns.txt(stsRecordName(domain) ?? `_mta-sts.${domain}`);
    let id: string | null = null;
    let temporary = false;
    if (txt.kind === "answer") {
      const record = selectStsRecord(txt.records);
      if (record.ok) id = record.value.id;
      // Other TXT records at the name (site verifications…) but none starting
      // with v=STSv1 is simply no record (STS-REC-04), not a broken one.
      const code = record.ok ? undefined : record.diagnostics[0]?.code;
      emit({
        type: "txt",
        domain,
        outcome: record.ok ? "id" : code === "sts-record.count.none" ? "none" : "invalid",
        ...(code ? { detail: code } : {}),
      });
    } else if (txt.kind === "nxdomain" || txt.kind === "nodata") {
      emit({ type: "txt", domain, outcome: "none" });
    } else {
      temporary = true;
      emit({ type: "txt", domain, outcome: "error", detail: txt.kind });
    }
    const now = deps.now();

    if (id === null) {
      // STS-SND-04/06: losing the record (or DNS) never drops a valid policy.
      if (valid) {
        valid.checkedAt = now;
        return valid;
      }
      // SM-WEAK-03: remember "no MTA-STS" briefly instead of asking per message.
      if (!temporary && options.negativeTtlMs > 0)
        bounded(negative, domain, now + options.negativeTtlMs);
      return "none";
    }

    if (valid && valid.id === id && !force) {
      // STS-SND-07: the same id confirms the policy but never extends its life.
      valid.checkedAt = now;
      await judgeDane(domain, valid, dns);
      return valid;
    }
    if (!force) {
      // Another resolver sharing the store may have fetched this id already.
      const stored = await cacheGet(domain);
      if (
        stored &&
        stored.id === id &&
        now < stored.expiresAt &&
        (!valid || stored.fetchedAt > valid.fetchedAt)
      ) {
        const adopted = fresh(stored, now);
        await judgeDane(domain, adopted, dns);
        remember(adopted);
        negative.delete(domain);
        return adopted;
      }
    }

    // Per domain, not per id: a TXT id that changes on every query (a broken
    // or hostile zone) must not turn into a fetch per query.
    const key = domain;
    const until = backoff.get(key);
    if (until !== undefined && now < until) {
      emit({ type: "backoff", domain, id });
      return valid ?? "none";
    }
    const lookup = (host: string) => addressesOf(dns, host);
    const result = await deps.fetchPolicy(domain, { lookup, ...options.fetch, timeoutMs });
    const after = deps.now();
    const parsed = result.ok ? parsePolicy(result.body) : null;
    if (!result.ok || !parsed?.ok) {
      const kind = result.ok ? "fetch.policy-invalid" : result.kind;
      const detail = result.ok
        ? (parsed?.diagnostics.find((d) => d.severity === "error")?.message ?? "invalid policy")
        : result.detail;
      emit({ type: "fetch", domain, id, ok: false, kind, detail, ms: after - started });
      // STS-FETCH-10: no new attempt for this domain for a while, jittered
      // so a fleet of resolvers does not return in lockstep (SM-WEAK-05).
      const wait = options.fetchBackoffMs * (1 + 0.2 * deps.random());
      bounded(backoff, key, after + wait);
      if (valid) {
        valid.checkedAt = after; // STS-SND-06: apply the cached policy
        return valid;
      }
      if (options.negativeTtlMs > 0)
        bounded(negative, domain, after + Math.min(options.negativeTtlMs, wait));
      return "none"; // STS-SND-05
    }
    const policy = parsed.value;
    const entry: PolicyEntry = {
      domain: ownCopy(domain),
      id: ownCopy(id),
      text: Buffer.from(result.body).toString("utf8"),
      mode: policy.mode,
      fetchedAt: after,
      expiresAt: after + policy.max_age * 1000,
    };
    emit({ type: "fetch", domain, id, ok: true, mode: policy.mode, ms: after - started });
    if (!sharedHot) {
      try {
        await deps.cache.set(entry);
      } catch (err) {
        emit({ type: "store-error", domain, detail: String(err) });
      }
    }
    const next = fresh(entry, after);
    await judgeDane(domain, next, dns);
    remember(next);
    negative.delete(domain);
    backoff.delete(key);
    return next;
  }

  async function judgeDane(domain: string, known: Known, dns: Resolver): Promise<void> {
    let verdict: Known["dane"] = null;
    if (options.dane === "prefer" && known.mode !== "none") {
      verdict = await daneVerdict(domain, dns);
      if (verdict) emit({ type: "dane", domain, verdict: verdict.kind });
    }
    if (verdict?.kind !== known.dane?.kind) {
      known.reply = undefined;
      known.otherReplies = undefined;
    }
    known.dane = verdict;
  }

  async function cacheGet(domain: string): Promise<PolicyEntry | undefined> {
    try {
      return await deps.cache.get(domain);
    } catch (err) {
      emit({ type: "store-error", domain, detail: String(err) });
      return undefined;
    }
  }

  return {
    peek(domain, timeoutMs) {
      const now = deps.now();
      // Most destinations publish no policy, so the negative set is asked
      // first. A domain is never in both with a valid policy: "none" is only
      // remembered when no valid policy is known, and a new policy clears it.
      const until = negative.get(domain);
      if (until !== undefined) {
        if (now < until) {
          emit(CACHE_NEGATIVE);
          return "none";
        }
        negative.delete(domain);
      }
      const known = hot.get(domain);
      if (known) {
        if (now >= known.expiresAt) return undefined;
        hot.touch(known);
        if (now - known.checkedAt > options.cacheGraceMs) {
          // Serve the valid cached policy now and confirm it in the background
          // (STS-SND-12): delivery never waits on DNS for a domain we know.
          emit(CACHE_STALE);
          void run(domain, timeoutMs, false);
        } else {
          emit(CACHE_HIT);
        }
        return known;
      }
      return undefined;
    },
    resolve(domain, timeoutMs) {
      emit(CACHE_MISS);
      return run(domain, timeoutMs, false);
    },
    refresh(domain, timeoutMs) {
      return run(domain, timeoutMs, true);
    },
    size: () => ({ hot: hot.size, negative: negative.size, inflight: inflight.size }),
  };
}

/**
 * A flat copy of an ASCII string. Domains and ids arrive as slices of the
 * socketmap request or the TXT record, and V8 keeps a slice's parent alive:
 * for a cache of 100,000 policies that is ~8 MB of requests nobody reads.
 */
function ownCopy(ascii: string): string {
  return Buffer.from(ascii, "latin1").toString("latin1");
}
