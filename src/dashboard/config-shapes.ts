// The shapes a serve config is made of (sections, lists of named entries
// with a role) and the checks they share, for config-file.ts.

import type { Role } from "./config.ts";

export type Bad = (path: (string | number)[], value: unknown, accepted: string) => void;
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ROLES = ["admin", "read-only"];

export type Known = (obj: Record<string, unknown>, keys: string[], at: (string | number)[]) => void;

export function section(
  raw: Record<string, unknown>,
  name: string,
  keys: string[],
  bad: Bad,
  known: Known,
  read: (s: Record<string, unknown>) => void,
): void {
  const s = raw[name];
  if (s === undefined || s === null) return;
  if (!isObject(s)) {
    bad([name], s, `a mapping with ${keys.join(", ")}`);
    return;
  }
  known(s, keys, [name]);
  read(s);
}

/** A list of named entries with a role; names must be unique. */
export function entries<T>(
  raw: Record<string, unknown>,
  name: string,
  keys: string[],
  bad: Bad,
  known: Known,
  read: (e: Record<string, unknown>, at: (string | number)[]) => T | null,
): (T & { name: string; role: Role })[] {
  const list = raw[name];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    bad([name], list, `a list of entries with ${keys.join(", ")}`);
    return [];
  }
  const out: (T & { name: string; role: Role })[] = [];
  const seen = new Set<string>();
  for (const [i, e] of list.entries()) {
    const at = [name, i];
    if (!isObject(e)) {
      bad(at, e, `an entry with ${keys.join(", ")}`);
      continue;
    }
    known(e, keys, at);
    let ok = true;
    if (typeof e.name !== "string" || !NAME.test(e.name)) {
      bad([...at, "name"], e.name, "1-64 letters, digits, . _ @ or -");
      ok = false;
    } else if (seen.has(e.name)) {
      bad([...at, "name"], e.name, "a name not used by an earlier entry");
      ok = false;
    } else seen.add(e.name);
    if (!ROLES.includes(e.role as string)) {
      bad([...at, "role"], e.role, "admin or read-only");
      ok = false;
    }
    const value = read(e, at);
    if (ok && value !== null) out.push({ ...value, name: e.name as string, role: e.role as Role });
  }
  return out;
}

export function reserved(path: string): boolean {
  return /^\/(?:api|static|login|logout|metrics|healthz|domains|reports|alerts)?(?:\/|$)/.test(
    path,
  );
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isCount(v: unknown, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
}

export function dotted(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
