// Scan records as data, for the summary, diff and output tests: the same
// shape the scan writes, built by name so each test says only what it varies.

import type { ScanRecord } from "../../src/scan/index.ts";

export function record(domain: string, over: Partial<ScanRecord> = {}): ScanRecord {
  return {
    domain,
    status: "ok",
    mode: "enforce",
    findings: [],
    id: "20250101T000000",
    max_age: 1_209_600,
    tlsrpt: true,
    mx: [{ host: `mx.${domain}`, covered: true }],
    incomplete: false,
    elapsedMs: 10,
    ...over,
  };
}

export function finding(code: string, severity: "error" | "warning" | "info" = "error") {
  return { code, severity, message: `${code} (a message)` };
}

export const none = (domain: string, tlsrpt = false): ScanRecord =>
  record(domain, {
    status: "none",
    mode: null,
    id: null,
    max_age: null,
    tlsrpt,
    mx: [],
    findings: [
      { ...finding("dns.sts-record.missing"), subject: `_mta-sts.${domain}` },
      ...(tlsrpt ? [] : [finding("dns.tlsrpt-record.missing", "warning")]),
    ],
  });
