// The `_mta-sts` id (STS-REC-08: 1-32 letters and digits). Senders only
// compare ids for equality, so any change works; a UTC timestamp also tells
// the operator when the policy last changed.

/** `YYYYMMDDHHMMSS` in UTC from `now`; never equal to `previous`. */
export function freshId(now: Date, previous?: string | null): string {
  let t = now.getTime();
  if (!Number.isFinite(t)) throw new RangeError("freshId needs a valid date");
  let id = stamp(t);
  // Two rollouts in one second, or a clock behind the published id: the id
  // must still change, or senders never fetch the new policy (STS-OPS-01).
  while (previous !== undefined && previous !== null && id === previous) {
    t += 1000;
    id = stamp(t);
  }
  return id;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:T]/g, "");
}
