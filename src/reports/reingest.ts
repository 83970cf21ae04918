// Re-running ingest on quarantined bytes after a fix (a parser change, a new
// managed domain, a DKIM key that is back). The bytes, channel, origin and
// arrival time are the entry's own; on success the entry is marked resolved
// by the report it became. A failure again updates the same entry (same bytes).

import { ingestReport } from "./ingest.ts";
import type { ReportStore } from "./store.ts";
import type { IngestOptions, IngestOutcome } from "./types.ts";

export type ReingestOutcome = { quarantineId: string } & (
  | IngestOutcome
  | { status: "missing" }
  | { status: "already-resolved"; resolvedReport: string | null }
);

export async function reingestQuarantined(
  store: ReportStore,
  quarantineId: string,
  options: IngestOptions = {},
): Promise<ReingestOutcome> {
  const entry = await store.getQuarantine(quarantineId);
  if (entry === null) return { quarantineId, status: "missing" };
  if (entry.resolvedAt !== null) {
    return { quarantineId, status: "already-resolved", resolvedReport: entry.resolvedReport };
  }
  if (entry.rawTruncated) {
    // Only the first bytes were kept: a re-run could never see the whole input.
    return {
      status: "quarantined",
      quarantineId: entry.id,
      code: entry.code,
      reason: `${entry.reason} (only its first bytes were kept, so it cannot be re-ingested)`,
    };
  }
  const bytes = await store.getQuarantineRaw(entry.id);
  if (bytes === null) return { quarantineId, status: "missing" };
  const outcome = await ingestReport(
    store,
    {
      bytes,
      channel: entry.channel,
      receivedAt: new Date(entry.receivedAt),
      ...(entry.origin === null ? {} : { origin: entry.origin }),
    },
    options,
  );
  if (outcome.status === "stored" || outcome.status === "duplicate") {
    // Storing the same bytes already resolved it; a duplicate by report-id did not.
    await store.resolveQuarantine(entry.id, outcome.id, (options.now ?? (() => new Date()))());
  }
  return outcome.status === "quarantined" ? outcome : { ...outcome, quarantineId: entry.id };
}
