// Why ingest quarantined a report, beyond the extraction and parsing errors it
// passes through verbatim (`input.*`, `report.*`, docs/diagnostics.md). Stable
// like every code: scripts and dashboards key on them (docs/reports.md).

export const quarantineCodes = {
  "ingest.gzip.nested": "gzip data that inflates to more gzip data (a report is compressed once)",
  "ingest.field.too-long": "a text member longer than its bound (names 1 KiB, free text 64 KiB)",
  "ingest.count.implausible":
    "a session count over 10^10, or a report total over 10^11 (no sender has that many sessions a day)",
  "ingest.date.out-of-range": "a date-range before 1970",
  "ingest.domain.unmanaged": "no policy-domain of the report is one of the managed domains",
  "ingest.dkim.fail":
    "mail report whose DKIM signature did not verify (unsigned policy: quarantine)",
  "ingest.dkim.none": "mail report without a DKIM signature (unsigned policy: quarantine)",
  "ingest.dkim.temperror":
    "mail report whose DKIM key could not be fetched (unsigned policy: quarantine)",
  "ingest.dkim.permerror":
    "mail report whose DKIM signature or key is malformed (unsigned policy: quarantine)",
  "ingest.dkim.unaligned":
    "mail report signed by a domain that is not the submitter's (RPT-DLV-06; unsigned policy: quarantine)",
  "ingest.dkim.unchecked":
    "mail report not checked, because no DKIM verifier was configured (unsigned policy: quarantine)",
  "ingest.internal-error": "a bug in mtasts while reading the report; the bytes are kept",
} as const;

export type QuarantineCode = keyof typeof quarantineCodes;
