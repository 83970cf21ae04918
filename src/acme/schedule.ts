// When to renew and when to retry: pure arithmetic on times in ms, so the
// rules can be read (and tested) apart from the timers that apply them.

/** Renewal is spread over this fraction of the lifetime before the due point, so certificates issued together do not all renew in the same second. */
export const RENEW_JITTER = 0.05;

/**
 * When a certificate valid from `notBefore` to `notAfter` should be renewed:
 * at `fraction` of its lifetime, minus up to {@link RENEW_JITTER} of the
 * lifetime chosen by `random` in [0, 1).
 */
export function renewalTime(
  notBefore: number,
  notAfter: number,
  fraction: number,
  random: number,
): number {
  const lifetime = Math.max(0, notAfter - notBefore);
  const jitter = Math.min(RENEW_JITTER, fraction / 2) * lifetime * random;
  return notBefore + fraction * lifetime - jitter;
}

/**
 * Delay before retry number `failures` (1 after the first failure): `baseMs`
 * doubling per failure up to `maxMs`, then scaled into [½, 1] of that by
 * `random` so that many names failing together spread out.
 */
export function retryDelay(
  failures: number,
  baseMs: number,
  maxMs: number,
  random: number,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 40);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling * (0.5 + random / 2));
}

/** setTimeout cannot wait longer than 2^31-1 ms (24.8 days); longer waits are taken in steps. */
export const MAX_TIMER_MS = 24 * 3_600_000;

/**
 * At most `max` holders at once; the rest wait in arrival order. Orders go
 * through it so that starting with hundreds of names does not send the CA
 * hundreds of orders in the same second.
 */
export function createGate(max: number): () => Promise<() => void> {
  let holders = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    // Hand the place straight to the next waiter, so nobody can slip in between.
    if (next !== undefined) next();
    else holders -= 1;
  };
  return async () => {
    if (holders < max) holders += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  };
}
