// Readers for single report members: text, counts, date-times, domains. Each
// one accepts the shapes real senders use and says what it bent (RPT-RCV-06).

import { type Code, diag } from "./catalogue.ts";
import type { Diagnostic } from "./diagnostic.ts";

/** Repeats of one code beyond this are summarised, so 100 000 odd entries stay one screen. */
const PER_CODE = 20;

export class Findings {
  readonly list: Diagnostic[] = [];
  readonly #seen = new Map<Code, number>();
  #errors = 0;

  add(code: Code, detail: string, path?: string): void {
    const d = diag(code, detail, path === undefined ? undefined : { path });
    if (d.severity === "error") this.#errors++;
    const n = (this.#seen.get(code) ?? 0) + 1;
    this.#seen.set(code, n);
    if (n <= PER_CODE) this.list.push(d);
  }

  get errors(): number {
    return this.#errors;
  }

  /** The findings, with one closing line per code that was cut short. */
  done(): Diagnostic[] {
    const out = [...this.list];
    for (const [code, n] of this.#seen) {
      if (n > PER_CODE)
        out.push(diag(code, `${n - PER_CODE} more findings like this were left out`));
    }
    return out;
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Own members only: a report saying nothing about `constructor` must not find one. */
export function member(o: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

export function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${quote(v)}`;
  return `the ${typeof v} ${String(v)}`;
}

export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

/**
 * A text member the RFC requires: absent or null → warning and null (the report
 * is still stored, RPT-RCV-06); any other non-string → warning and null.
 */
export function requiredText(o: JsonObject, key: string, path: string, f: Findings): string | null {
  const v = member(o, key);
  if (typeof v === "string") return v;
  const at = join(path, key);
  if (v === undefined || v === null) {
    f.add("report.field.absent", `${at} is ${v === null ? "null" : "missing"}`, at);
    return null;
  }
  f.add("report.field.not-string", `${at} is ${describe(v)}, not a string`, at);
  return null;
}

/** An optional text member: absent or null → undefined, quietly. */
export function optionalText(
  o: JsonObject,
  key: string,
  path: string,
  f: Findings,
): string | undefined {
  const v = member(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  const at = join(path, key);
  f.add("report.field.not-string", `${at} is ${describe(v)}, not a string`, at);
  return undefined;
}

/**
 * A session count (RPT-JSON-03): a non-negative safe integer. Digit strings are
 * read with a warning; anything else that cannot be summed exactly is an error.
 * Absent counts are taken as 0 with a warning.
 */
export function count(o: JsonObject, key: string, path: string, f: Findings): number {
  const v = member(o, key);
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  const at = join(path, key);
  if (v === undefined || v === null) {
    f.add("report.field.absent", `${at} is ${v === null ? "null" : "missing"}; taken as 0`, at);
    return 0;
  }
  if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) {
      f.add("report.count.string", `${at} is the string ${quote(v)}, not a number`, at);
      return n;
    }
  }
  f.add("report.count.invalid", `${at} is ${describe(v)}`, at);
  return 0;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})([Tt ])(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const DIGIT_0 = 0x30;

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - DIGIT_0;
  const b = s.charCodeAt(i + 1) - DIGIT_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * `YYYY-MM-DDTHH:MM:SSZ` naming a real instant (no leap second): what nearly
 * every sender writes, and already the form `dateTime` returns, so it needs no
 * regex or Date. Anything else takes the full path.
 */
function isCanonicalUtc(v: string): boolean {
  if (v.length !== 20) return false;
  if (v[4] !== "-" || v[7] !== "-" || v[10] !== "T" || v[13] !== ":" || v[16] !== ":") {
    return false;
  }
  if (v[19] !== "Z") return false;
  const hi = twoDigits(v, 0);
  const lo = twoDigits(v, 2);
  const month = twoDigits(v, 5);
  const day = twoDigits(v, 8);
  const hour = twoDigits(v, 11);
  const minute = twoDigits(v, 14);
  const second = twoDigits(v, 17);
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return false;
  }
  const year = hi * 100 + lo;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] as number));
}

/**
 * RPT-JSON-02: an RFC 3339 date-time, returned as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
 * No offset → read as UTC (Microsoft interop) with a warning; an offset is
 * converted; near-misses (space separator, no seconds, `24:00`) are read with a
 * warning; a bare date or anything else is an error, since it has no instant.
 */
export function dateTime(value: Json | undefined, at: string, f: Findings): string | null {
  if (value === undefined || value === null) {
    f.add("report.field.missing", `${at} is ${value === null ? "null" : "missing"}`, at);
    return null;
  }
  if (typeof value !== "string") {
    f.add("report.date.invalid", `${at} is ${describe(value)}, not a date-time string`, at);
    return null;
  }
  if (isCanonicalUtc(value)) return value;
  const m = DATE_TIME.exec(value.trim());
  if (!m) {
    f.add("report.date.invalid", `${at} is ${quote(value)}, not a date-time`, at);
    return null;
  }
  const [, y, mo, d, sep, h, mi, s, zone] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Math.min(Number(s ?? "0"), 59); // a leap second :60 is read as :59
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] ?? 0);
  const midnight24 = hour === 24 && minute === 0 && second === 0;
  let offset = 0;
  let offsetOk = true;
  if (zone !== undefined && /^[+-]/.test(zone)) {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(-2).replace(/\D/g, "") || "0");
    const hasMinutes = zone.length > 3;
    offsetOk = oh <= 23 && (!hasMinutes || om <= 59);
    offset = (zone[0] === "-" ? -1 : 1) * (oh * 60 + (hasMinutes ? om : 0));
  }
  if (
    day < 1 ||
    day > days ||
    (hour > 23 && !midnight24) ||
    minute > 59 ||
    Number(s ?? "0") > 60 ||
    !offsetOk
  ) {
    f.add("report.date.invalid", `${at} is ${quote(value)}, which is not a real date and time`, at);
    return null;
  }
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day);
  t.setUTCHours(hour, minute - offset, second, 0);
  const iso = t.toISOString();
  if (!/^\d{4}-/.test(iso)) {
    f.add("report.date.invalid", `${at} is ${quote(value)}, outside the years 0000-9999`, at);
    return null;
  }
  const out = `${iso.slice(0, 19)}Z`;
  const lenient =
    value !== value.trim() ||
    sep === " " ||
    s === undefined ||
    midnight24 ||
    zone === "UTC" ||
    zone === "GMT" ||
    (zone !== undefined && /^[+-]\d{2}(\d{2})?$/.test(zone)) ||
    /\d\s+\S+$/.test(value.trim());
  if (zone === undefined) {
    f.add("report.date.no-offset", `${at} is ${quote(value)} with no offset; read as ${out}`, at);
  } else if (lenient) {
    f.add("report.date.lenient", `${at} is ${quote(value)}; read as ${out}`, at);
  } else if (offset !== 0) {
    f.add("report.date.offset", `${at} is ${quote(value)}; stored as ${out}`, at);
  }
  return out;
}

/**
 * RPT-JSON-06: domains are A-labels. A name with non-ASCII characters is
 * converted with the WHATWG URL host parser (UTS #46, the same as browsers);
 * null when it cannot be converted.
 */
export function toALabels(name: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range check
  if (/^[\x00-\x7f]*$/.test(name)) return name;
  try {
    const host = new URL(`http://${name}/`).hostname;
    return /^[a-z0-9.*_-]+$/.test(host) ? host : null;
  } catch {
    return null;
  }
}

/** Converts `name` to A-labels if it has U-labels, saying so at `at`. */
export function domain(name: string, at: string, f: Findings): string {
  const ascii = toALabels(name);
  if (ascii === name) return name;
  if (ascii === null) {
    f.add(
      "report.policy-domain.u-label",
      `${at} ${quote(name)} is not ASCII and could not be converted to A-labels; kept as sent`,
      at,
    );
    return name;
  }
  f.add("report.policy-domain.u-label", `${at} ${quote(name)} was converted to ${ascii}`, at);
  return ascii;
}
