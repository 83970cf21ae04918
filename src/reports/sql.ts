// The little each backend must offer for the queries they share: run one
// statement, get rows. Statements use `?` placeholders; the PostgreSQL side
// numbers them. Every shared statement is atomic on its own (deletes cascade
// through foreign keys), so no query here needs a transaction.

import type { Dialect } from "./schema.ts";

export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, unknown>;

export interface SqlRunner {
  readonly dialect: Dialect;
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** `?` → `$1`, `$2`, … (our statements never hold a `?` inside a literal). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** 64-bit integers arrive as bigint (SQLite), text (PostgreSQL BIGINT/NUMERIC) or number. */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint" || typeof v === "string") return Number(v);
  return 0;
}

export function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A plain Uint8Array view (pg hands out Buffers), so callers see one type whatever the backend. */
export function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new Error("expected a byte string from the store");
}

/** Ids are decimal row ids; anything else names no row (and must not reach a BIGINT cast). */
export function rowId(id: string): number | null {
  if (!/^[1-9]\d{0,14}$/.test(id)) return null;
  return Number(id);
}

export function iso(ms: unknown): string {
  return `${new Date(num(ms)).toISOString().slice(0, 19)}Z`;
}
