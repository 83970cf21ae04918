// Per-client rate limiting for the HTTPS intake (RFC 8460 §7: the rua
// endpoint can be flooded). One token bucket per client key; the table is
// bounded, so a flood from many addresses costs memory for at most
// `maxClients` buckets (the least recently seen are forgotten first, and a
// forgotten client simply starts again with a full bucket).

export interface RateLimit {
  /** Requests a client may make at once (the bucket size). */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
  /** Buckets kept; 10,000 by default. */
  maxClients?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(client: string): RateDecision;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(limit: RateLimit, now: () => number = Date.now): RateLimiter {
  const burst = Math.max(1, limit.burst);
  const rate = Math.max(0, limit.perSecond);
  const maxClients = Math.max(1, limit.maxClients ?? 10_000);
  const buckets = new Map<string, Bucket>();
  return {
    take(client) {
      const t = now();
      const bucket = buckets.get(client) ?? { tokens: burst, at: t };
      // Map order is insertion order: re-inserting keeps the oldest first.
      buckets.delete(client);
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, t - bucket.at) / 1000) * rate);
      bucket.at = t;
      buckets.set(client, bucket);
      if (buckets.size > maxClients) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      const wait = rate > 0 ? (1 - bucket.tokens) / rate : 3600;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    },
  };
}

/**
 * The bucket a client address falls in: IPv4 addresses alone, IPv6 by /64,
 * since one host can use a whole /64 and would otherwise get a bucket per
 * address. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as its IPv4.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!address.includes(":")) return address;
  const groups = expandIpv6(address);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

function expandIpv6(address: string): string[] | null {
  const bare = address.replace(/%.*$/, "");
  const [head, tail, extra] = bare.split("::");
  if (extra !== undefined) return null;
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  if (tail === undefined) return left.length === 8 ? left.map(norm) : null;
  const fill = 8 - left.length - right.length;
  if (fill < 0) return null;
  return [...left, ...Array<string>(fill).fill("0"), ...right].map(norm);
}

function norm(group: string): string {
  return (Number.parseInt(group, 16) || 0).toString(16);
}
