// Shapes shared by the report capability: what an intake hands to ingest,
// what ingest answers, and the store every backend (SQLite, PostgreSQL)
// implements. One ingest path serves every intake (HTTPS, file, LMTP/SMTP,
// IMAP, Maildir), so dedup, quarantine and DKIM policy are decided once.

/** How a report reached us. */
export type ReportChannel = "https" | "file" | "smtp" | "imap" | "maildir";

/** DKIM result for a report that came by mail (RFC 8460 §3 requires a signature). */
export interface DkimVerdict {
  result: "pass" | "fail" | "none" | "temperror" | "permerror";
  /** The d= of the signature that decided the result, lowercase; null when unsigned. */
  domain: string | null;
  /** Human-readable detail (which signature failed and why). */
  detail?: string;
}

/** Checks the DKIM signatures of one raw RFC 5322 message. Never rejects. */
export type DkimVerifier = (message: Uint8Array) => Promise<DkimVerdict>;

export interface IngestInput {
  /** Exactly as received: a JSON body, gzip, or a whole e-mail. */
  bytes: Uint8Array;
  channel: ReportChannel;
  /** Default: now. */
  receivedAt?: Date;
  /** Where it came from, for the record: HTTP client address, file name, IMAP mailbox/uid, envelope sender… */
  origin?: string;
  /** HTTPS: the request's Content-Type (`application/tlsrpt+json` / `+gzip`). */
  contentType?: string;
}

export type IngestOutcome =
  | { status: "stored"; id: string; reportId: string; organization: string | null }
  /** Same reporter and report-id (or the same bytes) as a stored report: counted once. */
  | { status: "duplicate"; id: string; reportId: string; organization: string | null }
  /** Kept aside with the reason; viewable and re-ingestable after a fix. */
  | { status: "quarantined"; quarantineId: string; code: string; reason: string };

export interface IngestOptions {
  /** Verifies mail-borne reports; without it their DKIM result is recorded as not checked. */
  dkim?: DkimVerifier;
  /** What to do with a mail report whose DKIM result is not `pass` (default `keep`: store and flag). */
  unsigned?: "keep" | "quarantine";
  /** Policy domains we manage; reports for others are quarantined (default: accept all). */
  domains?: ReadonlySet<string>;
  now?: () => Date;
}
