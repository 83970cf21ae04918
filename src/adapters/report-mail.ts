// Finds the report inside a report e-mail (RPT-RCV-02, RPT-DLV-03). MIME
// decoding (base64, quoted-printable, nested multiparts) is postal-mime's; the
// choice of part, in falling order of confidence, is ours.

import PostalMime, { type Attachment, type Email } from "postal-mime";
import { diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";

/** What the wrapper says about the report; the JSON stays authoritative (RPT-DLV-12). */
export interface ReportMail {
  subject: string | null;
  from: string | null;
  /** `TLS-Report-Domain` header (RPT-DLV-04). */
  tlsReportDomain: string | null;
  /** `TLS-Report-Submitter` header (RPT-DLV-04). */
  tlsReportSubmitter: string | null;
  /** File name of the report part, when it had one. */
  filename: string | null;
  /** Media type of the report part; null when the message text was the report. */
  contentType: string | null;
}

export type FoundPart =
  | { ok: true; content: Uint8Array; mail: ReportMail }
  | { ok: false; diagnostic: Diagnostic };

/** A report forwarded inside a forwarded message is still found; deeper is not a report. */
const MAX_FORWARD_DEPTH = 3;
const TLSRPT_TYPE = /^application\/tlsrpt(?:[+-](?:json|gzip))?$/;
const REPORT_NAME = /\.(?:json|json\.gz|gz)$/i;
const GENERIC_TYPES = new Set([
  "application/json",
  "application/gzip",
  "application/x-gzip",
  "application/octet-stream",
]);

export async function findReportPart(
  bytes: Uint8Array,
  diagnostics: Diagnostic[],
  depth = 0,
): Promise<FoundPart> {
  let email: Email;
  try {
    email = await PostalMime.parse(headerStart(bytes), {
      attachmentEncoding: "arraybuffer",
      // Forwarded messages arrive as attachments, so their own headers name the report.
      forceRfc822Attachments: true,
      maxNestingDepth: 64,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : "unreadable";
    return {
      ok: false,
      diagnostic: diag("input.mail.unparseable", `The e-mail is not readable MIME: ${reason}`),
    };
  }
  const parts = email.attachments;
  const typed = parts.filter((a) => TLSRPT_TYPE.test(a.mimeType));
  if (typed.length > 0) {
    if (typed.length > 1) {
      diagnostics.push(
        diag(
          "input.mail.several-reports",
          `The e-mail has ${typed.length} application/tlsrpt parts; the first was read`,
        ),
      );
    }
    return found(email, typed[0] as Attachment, diagnostics);
  }
  // RPT-RCV-02 mtasts decision: a generic type is accepted by its file name, with a warning.
  const named = parts.find((a) => a.filename !== null && REPORT_NAME.test(a.filename));
  if (named) {
    const kind = GENERIC_TYPES.has(named.mimeType) ? "a generic type" : "an unexpected type";
    diagnostics.push(
      diag(
        "input.mail.generic-type",
        `The report part ${JSON.stringify(named.filename)} has ${kind}, ${named.mimeType}`,
      ),
    );
    return found(email, named, diagnostics);
  }
  if (depth < MAX_FORWARD_DEPTH) {
    for (const inner of parts.filter((a) => a.mimeType === "message/rfc822")) {
      const nested: Diagnostic[] = [];
      const result = await findReportPart(bytesOf(inner), nested, depth + 1);
      if (result.ok) {
        diagnostics.push(...nested);
        return result;
      }
    }
  }
  const sniffed = parts.find((a) => looksLikeReport(bytesOf(a)));
  if (sniffed) {
    const name = sniffed.filename ? ` ${JSON.stringify(sniffed.filename)}` : "";
    diagnostics.push(
      diag(
        "input.mail.sniffed-part",
        `The part${name} of type ${sniffed.mimeType} holds JSON or gzip data`,
      ),
    );
    return found(email, sniffed, diagnostics);
  }
  // RPT-RCV-02: a message whose text is the report.
  const text = reportInText(email.text ?? "");
  if (text !== null) {
    diagnostics.push(
      diag(
        "input.mail.body-report",
        "The message text holds the report JSON; it was read as the report",
      ),
    );
    return { ok: true, content: new TextEncoder().encode(text), mail: metadata(email, null) };
  }
  const seen =
    parts.length === 0 ? "no attachments" : `only ${parts.map((a) => a.mimeType).join(", ")}`;
  return {
    ok: false,
    diagnostic: diag("input.mail.no-report-part", `The e-mail has ${seen} and no report part`),
  };
}

function found(email: Email, part: Attachment, diagnostics: Diagnostic[]): FoundPart {
  let content = bytesOf(part);
  const gzip = content[0] === 0x1f && content[1] === 0x8b;
  const declared = part.mimeType.endsWith("gzip")
    ? "gzip"
    : part.mimeType.endsWith("json")
      ? "json"
      : null;
  const base64 = base64Gzip(content);
  if (base64) {
    diagnostics.push(
      diag(
        "input.mail.type-mismatch",
        `The ${part.mimeType} part holds base64 text without a Content-Transfer-Encoding saying so; it was decoded`,
      ),
    );
    content = base64;
  } else if ((declared === "gzip" && !gzip) || (declared === "json" && gzip)) {
    const actual = gzip ? "gzip data" : "uncompressed data";
    diagnostics.push(
      diag(
        "input.mail.type-mismatch",
        `The part is labelled ${part.mimeType} but holds ${actual}; read by its content`,
      ),
    );
  }
  return { ok: true, content, mail: metadata(email, part) };
}

function metadata(email: Email, part: Attachment | null): ReportMail {
  const header = (key: string) => email.headers.find((h) => h.key === key)?.value.trim() || null;
  const from = email.from;
  return {
    subject: email.subject ?? null,
    from: from ? from.address || from.name || null : null,
    tlsReportDomain: header("tls-report-domain"),
    tlsReportSubmitter: header("tls-report-submitter"),
    filename: part?.filename ?? null,
    contentType: part?.mimeType ?? null,
  };
}

function bytesOf(a: Attachment): Uint8Array {
  const c = a.content;
  if (typeof c === "string") return new TextEncoder().encode(c);
  return c instanceof Uint8Array ? c : new Uint8Array(c);
}

function looksLikeReport(b: Uint8Array): boolean {
  if (b[0] === 0x1f && b[1] === 0x8b) return true;
  for (const c of b.subarray(0, 1024)) {
    if (c === 0x7b) return true;
    if (
      c !== 0x20 &&
      c !== 0x09 &&
      c !== 0x0a &&
      c !== 0x0d &&
      c !== 0xef &&
      c !== 0xbb &&
      c !== 0xbf
    )
      return false;
  }
  return false;
}

/**
 * The report JSON in message text: the whole text, or from the first line that
 * opens an object to the last `}` (a human note above an inline report). Only
 * an object with a report member counts, so ordinary prose never does.
 */
function reportInText(text: string): string | null {
  const start = text.search(/^[ \t]*\{/m);
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) return null;
  const candidate = text.slice(start, end + 1);
  try {
    const v: unknown = JSON.parse(candidate);
    const isReport =
      typeof v === "object" &&
      v !== null &&
      ("policies" in v || "report-id" in v || "date-range" in v);
    return isReport ? candidate : null;
  } catch {
    return null;
  }
}

/** gzip that reached us still base64-encoded: "H4sI" is base64 for 1f 8b 08. */
function base64Gzip(b: Uint8Array): Uint8Array | null {
  const text = new TextDecoder("latin1").decode(b.subarray(0, 8)).trimStart();
  if (!text.startsWith("H4sI")) return null;
  const all = new TextDecoder("latin1").decode(b);
  if (!/^[A-Za-z0-9+/=\s]+$/.test(all)) return null;
  return new Uint8Array(Buffer.from(all, "base64"));
}

/** Leading blank lines and an mbox `From ` separator are not headers; postal-mime would misread them. */
function headerStart(b: Uint8Array): Uint8Array {
  let i = 0;
  while (b[i] === 0x0d || b[i] === 0x0a) i++;
  const mbox =
    b[i] === 0x46 &&
    b[i + 1] === 0x72 &&
    b[i + 2] === 0x6f &&
    b[i + 3] === 0x6d &&
    b[i + 4] === 0x20;
  if (mbox) {
    const nl = b.indexOf(0x0a, i);
    return nl < 0 ? b.subarray(i) : b.subarray(nl + 1);
  }
  return b.subarray(i);
}
