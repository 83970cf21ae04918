// `--since`, `--until` and `--keep` values: a duration back from now (`30d`,
// `12h`, `2w`, `400d`) or an ISO date/date-time (UTC unless it says otherwise).

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const DURATION = /^(\d{1,7})([smhdw])$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Milliseconds of a duration like `30d`, or null. */
export function durationMs(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** A point in time from a duration back from `now` or an ISO date; null when it is neither. */
export function pointInTime(text: string, now: Date): Date | null {
  const t = text.trim();
  const ms = durationMs(t);
  if (ms !== null) return new Date(now.getTime() - ms);
  if (DATE.test(t)) return validDate(`${t}T00:00:00Z`, t);
  const m = DATE_TIME.exec(t);
  if (m) return validDate(m[1] === undefined ? `${t.replace(" ", "T")}Z` : t.replace(" ", "T"), t);
  return null;
}

/** Rejects dates JavaScript would roll over (2025-02-30 → March 2). */
function validDate(iso: string, given: string): Date | null {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const day = given.slice(0, 10);
  const utcDay = /[+-]\d{2}:?\d{2}$/.test(given) ? day : d.toISOString().slice(0, 10);
  return utcDay === day ? d : null;
}

export const PERIOD_HINT =
  "give a duration back from now (30d, 12h, 2w) or a date (2025-05-01 or 2025-05-01T12:00:00Z)";
