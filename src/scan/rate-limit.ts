// Politeness towards resolvers: at most `perSecond` DNS questions a second to
// each, in small bursts (a burst of hundreds of UDP queries also overflows a
// receive buffer and turns into timeouts). A token bucket, first come first
// served, with one timer however many wait.

import type { Resolver } from "../adapters/dns.ts";

export interface RateLimiter {
  /** Resolves when the caller may send one query. */
  take(): Promise<void>;
}

export interface LimiterClock {
  now(): number;
  setTimer(fn: () => void, ms: number): void;
}

const realClock: LimiterClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    // Not unref'd: queries waiting here may be all that keeps the scan alive.
    setTimeout(fn, ms);
  },
};

/** A burst is 20 ms worth of tokens, never less than one. */
export function createRateLimiter(perSecond: number, clock: LimiterClock = realClock): RateLimiter {
  const capacity = Math.max(1, Math.floor(perSecond / 50));
  let tokens = capacity;
  let last = clock.now();
  let timerSet = false;
  const waiting: (() => void)[] = [];

  const refill = () => {
    const now = clock.now();
    tokens = Math.min(capacity, tokens + ((now - last) * perSecond) / 1000);
    last = now;
  };
  const release = () => {
    timerSet = false;
    refill();
    while (waiting.length > 0 && tokens >= 1) {
      tokens--;
      waiting.shift()?.();
    }
    schedule();
  };
  const schedule = () => {
    if (timerSet || waiting.length === 0) return;
    timerSet = true;
    clock.setTimer(release, Math.max(1, Math.ceil(((1 - tokens) * 1000) / perSecond)));
  };

  return {
    take() {
      if (waiting.length === 0) {
        refill();
        if (tokens >= 1) {
          tokens--;
          return Promise.resolve();
        }
      }
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
        schedule();
      });
    },
  };
}

/** The same resolver, each question first waiting for the limiter. */
export function rateLimited(resolver: Resolver, limiter: RateLimiter): Resolver {
  const paced =
    <T>(ask: (name: string) => Promise<T>) =>
    async (name: string): Promise<T> => {
      await limiter.take();
      return ask(name);
    };
  return {
    txt: paced((n) => resolver.txt(n)),
    mx: paced((n) => resolver.mx(n)),
    a: paced((n) => resolver.a(n)),
    aaaa: paced((n) => resolver.aaaa(n)),
    tlsa: paced((n) => resolver.tlsa(n)),
  };
}
