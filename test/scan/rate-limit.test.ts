// The per-resolver query limit, on a clock the test drives: no waiting, no
// timing, only what was allowed by when.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createRateLimiter, type LimiterClock } from "../../src/scan/index.ts";

function virtualClock() {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const clock: LimiterClock = {
    now: () => now,
    setTimer: (fn, ms) => timers.push({ at: now + ms, fn }),
  };
  /** Runs every timer due up to `until`, in time order, letting promises settle between. */
  const advance = async (until: number) => {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = until;
    await new Promise((r) => setImmediate(r));
  };
  return { clock, advance };
}

test("at 100 questions a second: a burst of 2 at once, then one each 10 ms, in order", async () => {
  const { clock, advance } = virtualClock();
  const limiter = createRateLimiter(100, clock);
  const granted: number[] = [];
  for (let i = 0; i < 50; i++) limiter.take().then(() => granted.push(i));
  await advance(0);
  assert.deepEqual(granted, [0, 1]);
  await advance(100);
  assert.equal(granted.length, 12);
  await advance(480);
  assert.equal(granted.length, 50);
  assert.deepEqual(
    granted,
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test("idle time refills only up to the burst: no flood after a pause", async () => {
  const { clock, advance } = virtualClock();
  const limiter = createRateLimiter(1000, clock);
  await advance(60_000);
  let granted = 0;
  for (let i = 0; i < 100; i++) limiter.take().then(() => granted++);
  await advance(60_000);
  assert.equal(granted, 20, "20 ms worth at 1000/s");
  await advance(60_010);
  assert.equal(granted, 30);
});
