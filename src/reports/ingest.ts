// The one ingest path every intake feeds (HTTPS, file, LMTP/SMTP, IMAP,
// Maildir): bytes → report JSON (extractReport) → report (parseTlsrptReport) →
// bounds, DKIM policy, managed domains → dedup → one atomic store write.
// Bad input never throws: it is quarantined with a code and a reason, bytes
// and all (RPT-RCV-03/06). Only a failing store rejects, so the intake can
// answer 5xx / tempfail and the sender retries: nothing is lost.

import { gunzipSync } from "node:zlib";
import { extractReport, inputCap, isGzip, MAX_INFLATED_BYTES } from "../adapters/report-source.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { parseTlsrptReport, reportKey, type TlsrptReport } from "../core/tlsrpt-report.ts";
import { dkimRecord, signedByReporter } from "./dkim-record.ts";
import type { QuarantineCode } from "./quarantine-codes.ts";
import { compressRaw, sha256Hex } from "./raw.ts";
import { checkBounds } from "./report-bounds.ts";
import { domainKey } from "./report-rows.ts";
import type { DkimRecord, ReportStore } from "./store.ts";
import type { IngestInput, IngestOptions, IngestOutcome } from "./types.ts";

/** An origin is ours to show; a file path or address never needs more. */
const ORIGIN_MAX = 1024;

type Verdict =
  | { ok: true; report: TlsrptReport; dkim: DkimRecord | null; warnings: Diagnostic[] }
  | { ok: false; code: string; reason: string; diagnostics: Diagnostic[] };

export async function ingestReport(
  store: ReportStore,
  input: IngestInput,
  options: IngestOptions = {},
): Promise<IngestOutcome> {
  const receivedAt = input.receivedAt ?? (options.now ?? (() => new Date()))();
  const origin = input.origin === undefined ? null : input.origin.slice(0, ORIGIN_MAX);
  const contentSha256 = sha256Hex(input.bytes);

  let verdict: Verdict;
  try {
    verdict = await examine(input.bytes, options);
  } catch (error) {
    // A bug in a parser must cost one report's processing, never the bytes or the intake.
    const reason = error instanceof Error ? error.message : String(error);
    verdict = {
      ok: false,
      code: "ingest.internal-error",
      reason: `reading the report failed: ${reason}`,
      diagnostics: [],
    };
  }

  if (!verdict.ok) {
    // The same bytes as a stored report count once, even if they would not be
    // accepted today (a parser, the managed domains or a DKIM key changed since).
    // Accepted bytes need no look-up: the store's content-hash constraint answers.
    const same = await store.findByContent(contentSha256);
    if (same !== null) return { status: "duplicate", ...same };
    // Input over the cap (an intake that read past it) keeps its first bytes, flagged.
    const cap = inputCap(input.bytes);
    const truncated = input.bytes.length > cap;
    const quarantineId = await store.quarantine({
      receivedAt,
      channel: input.channel,
      origin,
      code: verdict.code,
      reason: verdict.reason,
      diagnostics: verdict.diagnostics,
      contentSha256,
      raw: compressRaw(truncated ? input.bytes.subarray(0, cap) : input.bytes),
      rawTruncated: truncated,
    });
    return { status: "quarantined", quarantineId, code: verdict.code, reason: verdict.reason };
  }

  const report = verdict.report;
  const organization = report["organization-name"];
  const stored = await store.insertReport({
    report,
    reporterKey: (organization ?? "").trim().toLowerCase(),
    reportKey: reportKey(report),
    contentSha256,
    receivedAt,
    channel: input.channel,
    origin,
    dkim: verdict.dkim,
    raw: input.bytes,
    warnings: verdict.warnings,
  });
  return { status: stored.status, id: stored.id, reportId: report["report-id"], organization };
}

/** Everything about the bytes that needs no store: the report, or why not. */
async function examine(bytes: Uint8Array, options: IngestOptions): Promise<Verdict> {
  const extracted = await extractReport(bytes);
  if (!extracted.ok) return nestedGzip(bytes) ?? refused(extracted.diagnostics);
  const parsed = parseTlsrptReport(extracted.json);
  const diagnostics = [...extracted.diagnostics, ...parsed.diagnostics];
  if (!parsed.ok) return refused(diagnostics);
  const report = parsed.value;
  const bounds = checkBounds(report, extracted.json.length);
  if (bounds !== null) return problem(bounds.code, bounds.reason, diagnostics);

  let dkim: DkimRecord | null = null;
  if (extracted.source === "mail") {
    dkim = await dkimRecord(options.dkim, bytes, extracted.mail, report);
    if (options.unsigned === "quarantine" && !signedByReporter(dkim)) {
      return problem(dkimCode(dkim), dkimReason(dkim), diagnostics);
    }
  }

  if (options.domains !== undefined) {
    const managed = new Set([...options.domains].map(domainKey));
    const domains = report.policies
      .map((p) => p.policy["policy-domain"])
      .filter((d): d is string => d !== null)
      .map(domainKey);
    if (!domains.some((d) => managed.has(d))) {
      const named =
        domains.length === 0
          ? "names no policy-domain"
          : `is for ${[...new Set(domains)].join(", ")}`;
      return problem(
        "ingest.domain.unmanaged",
        `the report ${named}, which is not a domain managed here`,
        diagnostics,
      );
    }
  }
  return { ok: true, report, dkim, warnings: diagnostics };
}

function refused(diagnostics: Diagnostic[]): Verdict {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const first = errors[0];
  if (first === undefined) {
    return problem("ingest.internal-error", "the report was refused without a reason", diagnostics);
  }
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : "";
  return { ok: false, code: first.code, reason: `${first.message}${more}`, diagnostics };
}

function problem(code: QuarantineCode, reason: string, diagnostics: Diagnostic[]): Verdict {
  return { ok: false, code, reason, diagnostics };
}

/** gzip of gzip: extraction calls it binary; say what it is. Bounded by the same inflate cap. */
function nestedGzip(bytes: Uint8Array): Verdict | null {
  if (!isGzip(bytes)) return null;
  let inner: Uint8Array;
  try {
    inner = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    return null;
  }
  if (!isGzip(inner)) return null;
  return problem(
    "ingest.gzip.nested",
    "The input is gzip data whose content is gzip again; a report is compressed once. Ask the sender to fix its compression",
    [],
  );
}

function dkimCode(d: DkimRecord): QuarantineCode {
  if (d.result === "pass") return "ingest.dkim.unaligned";
  return `ingest.dkim.${d.result}`;
}

function dkimReason(d: DkimRecord): string {
  const detail = d.detail === null ? "" : ` (${d.detail})`;
  if (d.result === "unchecked") {
    return "the report came by mail and no DKIM verifier was configured, while unsigned reports are quarantined";
  }
  if (d.result === "pass") {
    return `DKIM passed for d=${d.domain}, which is not the report submitter's domain or a parent of it (RPT-DLV-06)${detail}`;
  }
  return `DKIM result ${d.result}${d.domain === null ? "" : ` for d=${d.domain}`}, while unsigned reports are quarantined (RPT-DLV-06)${detail}`;
}
