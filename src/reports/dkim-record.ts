// A mail report's DKIM verdict as recorded, and whether it counts as signed by
// the reporter. RPT-DLV-06 (mtasts decision): d= equal to the submitter domain
// or one of its parent domains; the submitter is the TLS-Report-Submitter
// header (RPT-DLV-04), else the domain of contact-info, else of From.

import type { ReportMail } from "../adapters/report-source.ts";
import type { TlsrptReport } from "../core/tlsrpt-report.ts";
import type { DkimRecord } from "./store.ts";
import type { DkimVerdict, DkimVerifier } from "./types.ts";

/** Verifier output is untrusted text too; keep what a person needs. */
const DETAIL_MAX = 1024;

export async function dkimRecord(
  verifier: DkimVerifier | undefined,
  message: Uint8Array,
  mail: ReportMail | undefined,
  report: TlsrptReport,
): Promise<DkimRecord> {
  if (verifier === undefined) {
    return { result: "unchecked", domain: null, aligned: null, detail: null };
  }
  let verdict: DkimVerdict;
  try {
    verdict = await verifier(message);
  } catch (error) {
    // The contract says a verifier never rejects; if one does, that is a temporary failure, not a crash.
    const reason = error instanceof Error ? error.message : String(error);
    verdict = { result: "temperror", domain: null, detail: `the verifier failed: ${reason}` };
  }
  const domain = verdict.domain === null ? null : verdict.domain.toLowerCase().replace(/\.$/, "");
  const submitter = submitterDomain(mail, report);
  // Unsigned: alignment does not apply. Signed by a domain we cannot relate to a submitter: not aligned.
  const aligned =
    domain === null
      ? null
      : submitter !== null && (submitter === domain || submitter.endsWith(`.${domain}`));
  return {
    result: verdict.result,
    domain,
    aligned,
    detail: verdict.detail === undefined ? null : verdict.detail.slice(0, DETAIL_MAX),
  };
}

export function submitterDomain(mail: ReportMail | undefined, report: TlsrptReport): string | null {
  const candidates = [
    mail?.tlsReportSubmitter ?? null,
    domainOf(report["contact-info"]),
    domainOf(mail?.from ?? null),
  ];
  for (const c of candidates) {
    const d = c?.trim().toLowerCase().replace(/\.$/, "");
    if (d && /^[a-z0-9.-]+$/.test(d)) return d;
  }
  return null;
}

function domainOf(address: string | null): string | null {
  if (address === null) return null;
  const at = address.lastIndexOf("@");
  return at < 0 ? null : address.slice(at + 1).replace(/[>\s].*$/, "");
}

/** True when the record counts as signed by the reporter. */
export function signedByReporter(d: DkimRecord): boolean {
  return d.result === "pass" && d.aligned === true;
}
