// Turns the bytes a report arrived as (JSON, gzip, or a whole e-mail) into report
// JSON text, under hard size caps (RPT-RCV-01/02/03). Never throws on input.

import { gunzipSync } from "node:zlib";
import { diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { findReportPart, type ReportMail } from "./report-mail.ts";

export type { ReportMail } from "./report-mail.ts";

export type ExtractResult =
  | {
      ok: true;
      json: string;
      source: "json" | "gzip" | "mail";
      /** Set when the input was an e-mail. */
      mail?: ReportMail;
      diagnostics: Diagnostic[];
    }
  | { ok: false; diagnostics: Diagnostic[] };

export interface ExtractOptions {
  /** RPT-RCV-03: compressed input cap, 10 MiB by default. */
  maxInputBytes?: number;
  /**
   * Decompressed cap, 10 MiB by default: the Foundation and Reports issues fix
   * 10 MiB after decompression, tighter than the 20 MB RPT-RCV-03 allows.
   */
  maxInflatedBytes?: number;
}

export const MAX_INPUT_BYTES = 10 * 1024 * 1024;
export const MAX_INFLATED_BYTES = 10 * 1024 * 1024;
/**
 * The largest e-mail read: a report at the decompressed cap, base64-encoded
 * (4/3), plus room for the wrapper's headers and text part. Mail gets its own
 * cap because the 10 MiB report limit is about the report, not its envelope.
 */
export const MAX_MAIL_BYTES = Math.ceil((MAX_INFLATED_BYTES * 4) / 3) + 1024 * 1024;

/** The default size cap for these bytes: the mail cap for an e-mail, the report cap otherwise. */
export function inputCap(bytes: Uint8Array): number {
  // JSON is told apart first, as extractReport does: `{"a":` also reads as a header line.
  const first = firstSignificantByte(bytes);
  const json = first === 0x7b /* { */ || first === 0x5b; /* [ */
  return !json && !isGzip(bytes) && looksLikeMail(bytes) ? MAX_MAIL_BYTES : MAX_INPUT_BYTES;
}

export async function extractReport(
  bytes: Uint8Array,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const maxInput = options.maxInputBytes ?? inputCap(bytes);
  const maxInflated = options.maxInflatedBytes ?? MAX_INFLATED_BYTES;
  if (bytes.length === 0) return fail(diag("input.empty", "The input has no bytes"));
  if (bytes.length > maxInput) {
    return fail(
      diag("input.too-large", `The input is over the ${mib(maxInput)} limit for reports`),
    );
  }
  const diagnostics: Diagnostic[] = [];
  let body = bytes;
  let source: "json" | "gzip" = "json";
  // RPT-RCV-01 mtasts decision: gzip is recognised by its magic bytes, not a name or type.
  if (isGzip(body)) {
    const inflated = inflate(body, maxInflated, "The input");
    if (!inflated.ok) return fail(inflated.diagnostic);
    body = inflated.bytes;
    source = "gzip";
  }
  const first = firstSignificantByte(body);
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
    return { ok: true, json: decodeText(body, diagnostics), source, diagnostics };
  }
  // A mail is recognised before the binary check: a part sent with
  // Content-Transfer-Encoding: binary puts raw gzip bytes inside it.
  if (!looksLikeMail(body)) {
    if (looksBinary(body)) {
      const what =
        source === "gzip" ? "The gzip data inflates to binary data" : "The input is binary";
      return fail(diag("input.binary", `${what} that is neither gzip, JSON nor an e-mail`));
    }
    return fail(
      diag("input.unrecognised", "The input starts with neither { nor an e-mail header line"),
    );
  }
  // RPT-RCV-02: a report e-mail; the found part may itself be gzip.
  const found = await findReportPart(body, diagnostics);
  if (!found.ok) return { ok: false, diagnostics: [...diagnostics, found.diagnostic] };
  let content = found.content;
  if (isGzip(content)) {
    const inflated = inflate(content, maxInflated, "The report part");
    if (!inflated.ok) return { ok: false, diagnostics: [...diagnostics, inflated.diagnostic] };
    content = inflated.bytes;
  } else if (content.length > maxInflated) {
    const d = diag("input.too-large", `The report part is over the ${mib(maxInflated)} limit`);
    return { ok: false, diagnostics: [...diagnostics, d] };
  }
  return {
    ok: true,
    json: decodeText(content, diagnostics),
    source: "mail",
    mail: found.mail,
    diagnostics,
  };
}

function fail(d: Diagnostic): ExtractResult {
  return { ok: false, diagnostics: [d] };
}

function mib(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} byte`;
}

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

type Inflated = { ok: true; bytes: Uint8Array } | { ok: false; diagnostic: Diagnostic };

/** Inflates with a hard output cap, so a compression bomb costs at most `cap` bytes. */
function inflate(gz: Uint8Array, cap: number, what: string): Inflated {
  try {
    return { ok: true, bytes: gunzipSync(gz, { maxOutputLength: cap }) };
  } catch (first) {
    // zlib reads bytes after a gzip member as the next member's header; a line
    // end left after the attachment (a mail or copy artefact) is not one.
    let code = errorCode(first);
    const trimmed = withoutTrailingLineEnds(gz);
    if (code === "Z_DATA_ERROR" && trimmed.length < gz.length) {
      try {
        return { ok: true, bytes: gunzipSync(trimmed, { maxOutputLength: cap }) };
      } catch (second) {
        // Not that artefact, unless the retry got as far as the size cap.
        if (errorCode(second) === "ERR_BUFFER_TOO_LARGE") code = "ERR_BUFFER_TOO_LARGE";
      }
    }
    if (code === "ERR_BUFFER_TOO_LARGE") {
      const d = diag("input.gzip.too-large", `${what} inflates to more than ${mib(cap)}`);
      return { ok: false, diagnostic: d };
    }
    // zlib says Z_BUF_ERROR ("unexpected end of file") when input stops mid-stream.
    if (code === "Z_BUF_ERROR") {
      const d = diag(
        "input.gzip.truncated",
        `${what} is gzip data that ends early (${gz.length} bytes)`,
      );
      return { ok: false, diagnostic: d };
    }
    const reason = first instanceof Error ? first.message : "unreadable";
    const d = diag("input.gzip.corrupt", `${what} is gzip data that cannot be inflated: ${reason}`);
    return { ok: false, diagnostic: d };
  }
}

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

function withoutTrailingLineEnds(b: Uint8Array): Uint8Array {
  let end = b.length;
  while (
    end > 0 &&
    b.length - end < 16 &&
    (b[end - 1] === 0x0a || b[end - 1] === 0x0d || b[end - 1] === 0x20)
  )
    end--;
  return b.subarray(0, end);
}

function firstSignificantByte(b: Uint8Array): number | undefined {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < b.length) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
    i++;
  }
  return undefined;
}

/** NUL bytes or more than 1% control characters in the first 8 KiB. */
function looksBinary(b: Uint8Array): boolean {
  const n = Math.min(b.length, 8192);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c === 0) return true;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || c === 0x7f) {
      control++;
    }
  }
  return control * 100 > n;
}

/** An RFC 5322 header field (`Name:`) on the first line, after an optional mbox `From ` line. */
function looksLikeMail(b: Uint8Array): boolean {
  const head = new TextDecoder("latin1").decode(b.subarray(0, 4096));
  const lines = head
    .replace(/^[\r\n]+/, "")
    .replace(/^From [^\n]*\n/, "")
    .split(/\r?\n/, 1);
  return /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(lines[0] ?? "");
}

/** One decoder for every report: without `stream`, each decode() starts afresh. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Reports are UTF-8 (I-JSON); bad bytes become U+FFFD with a warning. */
function decodeText(b: Uint8Array, diagnostics: Diagnostic[]): string {
  try {
    return STRICT_UTF8.decode(b);
  } catch {
    diagnostics.push(diag("input.utf8.invalid", "The report text has bytes that are not UTF-8"));
    return new TextDecoder("utf-8").decode(b);
  }
}
