// The face of the scan capability: many domains, each checked as `check` does
// (without the policy fetch where there is no record, and without MX probes
// unless asked), streamed out as they finish, summarised and compared.

export { diffScans, renderDiffText, type ScanDiff } from "./diff.ts";
export { CSV_COLUMNS, createWriter, csvField, type Format, type TextStyle } from "./output.ts";
export { progressLine, startProgress } from "./progress.ts";
export { createRateLimiter, type LimiterClock, rateLimited } from "./rate-limit.ts";
export { parseRecord, readPrevious } from "./resume.ts";
export { type ScanOptions, scanAll, scanDomain } from "./run.ts";
export { SeenSet } from "./seen-set.ts";
export { runScanSession, type ScanIo, type ScanOutcome, type ScanPlan } from "./session.ts";
export { nameOf } from "./sources/domain-name.ts";
export { parseListLine } from "./sources/list.ts";
export { addressesInLogLine } from "./sources/mail-log.ts";
export { emptyStats, readSources, type SourceStats, type Sources } from "./sources/read.ts";
export { createSummary, renderSummaryText, type Summary } from "./summary.ts";
export { runScanThread, type ThreadIo } from "./thread.ts";
export type { ScanFinding, ScanInput, ScanMx, ScanRecord, ScanStatus } from "./types.ts";
export type { ScanWorkerData, ScanWorkerResult } from "./worker.ts";
