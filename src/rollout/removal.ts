// STS-OPS-03: after `mode: none` is published, a sender may still hold the
// previous policy until its max_age runs out, counted from its last fetch,
// which can be now. Only after that may the records and the host go.

import type { PreviousState } from "./types.ts";

/** The earliest safe removal time, or null when no earlier max_age is known. */
export function earliestRemoval(
  now: Date,
  previous: PreviousState,
  noneMaxAge: number,
): Date | null {
  if (previous.maxAge === null) return null;
  return new Date(now.getTime() + Math.max(previous.maxAge, noneMaxAge) * 1000);
}
