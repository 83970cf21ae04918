// Reading a plain value key by key: each read either yields a typed value or
// records a problem "path = value: expected …" and yields a fallback, so one
// pass reports every mistake in the section.

export type Path = readonly (string | number)[];
type Obj = Record<string, unknown>;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// Node's timers overflow past 2^31-1 ms and then fire at once.
const TIMER_MAX_MS = 2_147_483_647;

export interface Reader {
  problems: string[];
  problem(path: Path, value: unknown, accepted: string, detail?: string): void;
  /** A mapping with only `keys` (null: any key); null when absent or not a mapping. */
  object(value: unknown, path: Path, keys: readonly string[] | null, prefix?: string): Obj | null;
  list<T>(
    value: unknown,
    path: Path,
    accepted: string,
    item: (v: unknown, p: Path) => T | null,
  ): T[] | null;
  /** "30s", "15m", "6h", "1d" or a number of seconds. */
  duration(
    value: unknown,
    path: Path,
    fallback: number,
    minMs: number,
    o?: { prefix?: string; maxMs?: number },
  ): number;
  number(
    value: unknown,
    path: Path,
    o: {
      fallback: number;
      min: number;
      max?: number;
      exclusive?: boolean;
      integer?: boolean;
      accepted: string;
    },
  ): number;
  flag(value: unknown, path: Path, fallback: boolean): boolean;
  url(value: unknown, path: Path): string | null;
}

export function reader(): Reader {
  const problems: string[] = [];
  const problem = (path: Path, value: unknown, accepted: string, detail?: string) => {
    const head =
      value === undefined ? `${pathText(path)} is missing` : `${pathText(path)} = ${show(value)}`;
    problems.push(`${head}: ${detail === undefined ? "" : `${detail}; `}expected ${accepted}`);
  };
  const list = <T>(
    value: unknown,
    path: Path,
    accepted: string,
    item: (v: unknown, p: Path) => T | null,
  ): T[] | null => {
    if (!Array.isArray(value)) {
      problem(path, value, accepted);
      return null;
    }
    const out: T[] = [];
    value.forEach((v, i) => {
      const got = item(v, [...path, i]);
      if (got !== null) out.push(got);
    });
    return out;
  };
  return {
    problems,
    problem,
    object(value, path, keys, prefix = "") {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        problem(path, value, `${prefix}a mapping${keys ? ` with keys ${keys.join(", ")}` : ""}`);
        return null;
      }
      const o = value as Obj;
      if (keys !== null) {
        for (const k of Object.keys(o)) {
          if (!keys.includes(k))
            problem([...path, k], o[k], `one of the keys ${keys.join(", ")}`, "unknown key");
        }
      }
      return o;
    },
    list,
    duration(value, path, fallback, minMs, o = {}) {
      if (value === undefined) return fallback;
      const maxMs = o.maxMs ?? TIMER_MAX_MS;
      const limit = maxMs === TIMER_MAX_MS ? "under 24 days" : `at most ${maxMs / 86_400_000} days`;
      const accepted = `${o.prefix ?? ""}a duration such as 30s, 15m, 6h or 1d (at least ${minMs / 1000} s, ${limit})`;
      let ms: number | null = null;
      if (typeof value === "number" && Number.isFinite(value)) ms = value * 1000;
      else if (typeof value === "string") {
        const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(value);
        if (m) ms = Number(m[1]) * (UNITS[m[2] as string] as number);
      }
      if (ms === null || ms < minMs || ms > maxMs) {
        problem(path, value, accepted);
        return fallback;
      }
      return Math.round(ms);
    },
    number(value, path, o) {
      if (value === undefined) return o.fallback;
      const bad =
        typeof value !== "number" ||
        !Number.isFinite(value) ||
        (o.exclusive ? value <= o.min : value < o.min) ||
        (o.max !== undefined && (o.exclusive ? value >= o.max : value > o.max)) ||
        (o.integer === true && !Number.isInteger(value));
      if (bad) {
        problem(path, value, o.accepted);
        return o.fallback;
      }
      return value as number;
    },
    flag(value, path, fallback) {
      if (value === undefined) return fallback;
      if (typeof value === "boolean") return value;
      problem(path, value, "true or false");
      return fallback;
    },
    url(value, path) {
      let u: URL | null = null;
      try {
        u = typeof value === "string" ? new URL(value) : null;
      } catch {}
      if (u === null || (u.protocol !== "https:" && u.protocol !== "http:")) {
        problem(path, value, "an http:// or https:// URL");
        return null;
      }
      return u.toString();
    },
  };
}

/** The first segment is the caller's prefix (e.g. `serve.monitor`), shown as given. */
function pathText(path: Path): string {
  let out = String(path[0] ?? "");
  for (const s of path.slice(1)) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "[]" : "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}
