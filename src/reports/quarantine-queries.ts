// The quarantine table, shared by both backends. An entry keeps the bytes as
// received (compressed) with the code and reason that kept them out; the same
// bytes arriving again while unresolved update that entry (one per content).

import type { Diagnostic } from "../core/diagnostic.ts";
import { decompressRaw } from "./raw.ts";
import { bytes, iso, num, rowId, type SqlRunner, text } from "./sql.ts";
import type { NewQuarantine, QuarantineEntry, QuarantineItem } from "./store.ts";
import type { ReportChannel } from "./types.ts";

export async function quarantine(db: SqlRunner, q: NewQuarantine): Promise<string> {
  const [row] = await db.all(
    `INSERT INTO tlsrpt_quarantine (received_ms, channel, origin, code, reason, diagnostics,
       content_sha256, raw_encoding, raw_size, raw_truncated, raw)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (content_sha256) WHERE resolved_ms IS NULL DO UPDATE SET
       code = excluded.code, reason = excluded.reason, diagnostics = excluded.diagnostics,
       attempts = tlsrpt_quarantine.attempts + 1
     RETURNING id`,
    [
      q.receivedAt.getTime(),
      q.channel,
      q.origin,
      q.code,
      q.reason,
      JSON.stringify(q.diagnostics),
      q.contentSha256,
      q.raw.encoding,
      q.raw.size,
      q.rawTruncated ? 1 : 0,
      q.raw.bytes,
    ],
  );
  if (row === undefined) throw new Error("the store returned no quarantine id");
  return String(num(row.id));
}

export async function resolveQuarantine(
  db: SqlRunner,
  id: string,
  reportId: string,
  at: Date,
): Promise<boolean> {
  const n = rowId(id);
  const report = rowId(reportId);
  if (n === null || report === null) return false;
  const changed = await db.run(
    `UPDATE tlsrpt_quarantine SET resolved_ms = ?, resolved_report = ?
     WHERE id = ? AND resolved_ms IS NULL`,
    [at.getTime(), report, n],
  );
  return changed > 0;
}

const ITEM_COLUMNS = `id, received_ms, channel, origin, code, reason, attempts, raw_size,
  resolved_ms, resolved_report`;

export async function listQuarantine(
  db: SqlRunner,
  includeResolved: boolean,
  limit: number,
): Promise<QuarantineItem[]> {
  const rows = await db.all(
    `SELECT ${ITEM_COLUMNS} FROM tlsrpt_quarantine
     ${includeResolved ? "" : "WHERE resolved_ms IS NULL"}
     ORDER BY id DESC ${limit > 0 ? `LIMIT ${Math.floor(limit)}` : ""}`,
  );
  return rows.map(item);
}

export async function getQuarantine(db: SqlRunner, id: string): Promise<QuarantineEntry | null> {
  const n = rowId(id);
  if (n === null) return null;
  const [row] = await db.all(
    `SELECT ${ITEM_COLUMNS}, diagnostics, content_sha256, raw_truncated
     FROM tlsrpt_quarantine WHERE id = ?`,
    [n],
  );
  if (row === undefined) return null;
  return {
    ...item(row),
    diagnostics: JSON.parse(String(row.diagnostics)) as Diagnostic[],
    contentSha256: String(row.content_sha256),
    rawTruncated: num(row.raw_truncated) === 1,
  };
}

export async function getQuarantineRaw(db: SqlRunner, id: string): Promise<Uint8Array | null> {
  const n = rowId(id);
  if (n === null) return null;
  const [row] = await db.all("SELECT raw_encoding, raw FROM tlsrpt_quarantine WHERE id = ?", [n]);
  return row === undefined ? null : decompressRaw(String(row.raw_encoding), bytes(row.raw));
}

function item(row: Record<string, unknown>): QuarantineItem {
  return {
    id: String(num(row.id)),
    receivedAt: iso(row.received_ms),
    channel: String(row.channel) as ReportChannel,
    origin: text(row.origin),
    code: String(row.code),
    reason: String(row.reason),
    attempts: num(row.attempts),
    rawSize: num(row.raw_size),
    resolvedAt: row.resolved_ms === null ? null : iso(row.resolved_ms),
    resolvedReport: row.resolved_report === null ? null : String(num(row.resolved_report)),
  };
}
