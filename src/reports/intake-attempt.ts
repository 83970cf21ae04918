// What every intake does with a received report: hand it to the one ingest
// path and sort the result into "the sender may stop" (stored, duplicate,
// quarantined) or "the sender must try again" (the store failed). ingest
// never rejects for bad input, so a rejection is always the store's.

import { ingestReport } from "./ingest.ts";
import type { ReportStore } from "./store.ts";
import type { IngestInput, IngestOptions, IngestOutcome, ReportChannel } from "./types.ts";

/** The store an intake feeds (through `ingestReport`, never directly). */
export type IntakeStore = ReportStore;

/** The largest e-mail an intake reads; extractReport applies the same cap to mail. */
export { MAX_MAIL_BYTES } from "../adapters/report-source.ts";

export type Attempt =
  | { ok: true; outcome: IngestOutcome }
  /** The store failed; nothing was kept and the sender has to retry. */
  | { ok: false; error: string };

/** Events every intake reports through its `onEvent`, one per report or refusal. */
export type IntakeEvent =
  | {
      type: "report";
      channel: ReportChannel;
      origin: string;
      outcome: IngestOutcome;
      bytes: number;
    }
  /** Refused before ingest (too large, wrong type, rate limited…); nothing was kept. */
  | { type: "refused"; channel: ReportChannel; origin: string; reason: string; detail: string }
  /** The store failed; the sender was told to retry (or the message was left in place). */
  | { type: "store-error"; channel: ReportChannel; origin: string; error: string }
  /** Something the intake itself could not do (a connection, a folder), with context. */
  | { type: "intake-error"; channel: ReportChannel; origin: string; error: string };

export type IntakeEventSink = (event: IntakeEvent) => void;

export async function attemptIngest(
  store: IntakeStore,
  input: IngestInput,
  options: IngestOptions | undefined,
  onEvent: IntakeEventSink | undefined,
): Promise<Attempt> {
  const origin = input.origin ?? "";
  try {
    const outcome = await ingestReport(store, input, options);
    emit(onEvent, {
      type: "report",
      channel: input.channel,
      origin,
      outcome,
      bytes: input.bytes.length,
    });
    return { ok: true, outcome };
  } catch (err) {
    const error = describe(err);
    emit(onEvent, { type: "store-error", channel: input.channel, origin, error });
    return { ok: false, error };
  }
}

/** A listener's bug must not take a report down with it. */
export function emit(onEvent: IntakeEventSink | undefined, event: IntakeEvent): void {
  if (!onEvent) return;
  try {
    onEvent(event);
  } catch {
    // ignored: events are for logs and metrics
  }
}

/** One line for logs: the message only, never a stack (it may reach a peer). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message;
  }
  return String(err);
}
