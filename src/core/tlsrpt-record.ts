// The `_smtp._tls` TXT record (RFC 8460 §3): parse one value, pick the one
// record out of a TXT RRset, and write the canonical form for `generate`.

import type { Diagnostic, Parsed } from "./diagnostic.ts";
import {
  describeChar,
  isAlnum,
  isWsp,
  type KnownField,
  quote,
  type RecordSyntax,
  report,
  scanTxtFields,
  selectRecord,
} from "./txt-fields.ts";

export interface TlsrptRecord {
  v: "TLSRPTv1";
  /** Usable destinations (mailto: and https:) in record order, de-duplicated (RPT-REC-05/06). */
  rua: string[];
  /** Well-formed unknown fields, accepted and ignored (RPT-REC-07); first occurrence wins. */
  extensions: Record<string, string>;
}

const RPT: RecordSyntax = {
  prefix: "v=TLSRPTv1",
  known: ["rua"],
  codes: {
    tooLong: "tlsrpt-record.too-long",
    nonAscii: "tlsrpt-record.non-ascii",
    versionMissing: "tlsrpt-record.version.missing",
    delimiterWhitespace: "tlsrpt-record.delimiter.whitespace",
    fieldEmpty: "tlsrpt-record.field.empty",
    extensionMalformed: "tlsrpt-record.extension.malformed",
    extensionDuplicate: "tlsrpt-record.extension.duplicate",
    countNone: "tlsrpt-record.count.none",
    countMultiple: "tlsrpt-record.count.multiple",
  },
};

const PERCENT = 37;
const BANG = 33;
const COLON = 58;

/**
 * RFC 3986 characters allowed raw in a `tlsrpt-uri`: unreserved, gen-delims,
 * sub-delims and `%`, less `!` `,` `;`, which RFC 8460 §3 requires encoded.
 */
const URI_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (isAlnum(c)) URI_CHAR[c] = 1;
for (const c of "-._~:/?#[]@$&'()*+=%") URI_CHAR[c.charCodeAt(0)] = 1;

/** What one rua entry turned out to be; only `usable` ones become destinations. */
type Verdict = "usable" | "unsupported" | "invalid";

/** Parses one `_smtp._tls` TXT value (its strings already joined, RPT-REC-02). Never throws. */
export function parseTlsrptRecord(text: string): Parsed<TlsrptRecord> {
  const diagnostics: Diagnostic[] = [];
  const fields = scanTxtFields(text, RPT, diagnostics);
  if (fields === null) return { ok: false, diagnostics };
  const rua: string[] = [];
  const skipped: string[] = [];
  let broken = false;
  for (const f of fields.known) if (!readRua(f, rua, skipped, diagnostics)) broken = true;
  const ruaFields = fields.known.length;
  if (ruaFields === 0) {
    // RPT-REC-04: keys are case-sensitive, so `RUA=` is an extension.
    const lookalike = Object.keys(fields.extensions).find((k) => k.toLowerCase() === "rua");
    report(
      diagnostics,
      "tlsrpt-record.rua.missing",
      lookalike === undefined
        ? "The record has no `rua` field"
        : `The record has no \`rua\` field; \`${lookalike}=\` is read as an unknown extension because keys are case-sensitive`,
      undefined,
      lookalike === undefined
        ? undefined
        : `Write the key in lowercase: \`rua=${fields.extensions[lookalike]}\``,
    );
  } else {
    if (ruaFields > 1) {
      // RPT-REC-06 (mtasts decision): union in field order, de-duplicated.
      const columns = fields.known.map((f) => f.nameAt + 1).join(", ");
      report(
        diagnostics,
        "tlsrpt-record.rua.multiple-fields",
        `\`rua\` appears ${ruaFields} times (columns ${columns}); all ${rua.length} usable URI${rua.length === 1 ? " is" : "s are"} used`,
        (fields.known[1] as KnownField).nameAt + 1,
      );
    }
    // RPT-REC-05 (mtasts decision): a record whose URIs are all skipped reaches no one.
    if (rua.length === 0 && !broken) {
      report(
        diagnostics,
        "tlsrpt-record.rua.none-usable",
        `No rua URI is mailto: or https:; skipped: ${skipped.slice(0, 3).join(", ")}${skipped.length > 3 ? ", …" : ""}`,
        (fields.known[0] as KnownField).valueAt + 1,
      );
    }
  }
  for (const d of diagnostics) if (d.severity === "error") return { ok: false, diagnostics };
  return { ok: true, value: { v: "TLSRPTv1", rua, extensions: fields.extensions }, diagnostics };
}

/**
 * RPT-REC-05: `rua=` URI *(*WSP "," *WSP URI). Adds usable URIs to `rua` and
 * skipped ones to `skipped`; returns false when the field is invalid.
 */
function readRua(f: KnownField, rua: string[], skipped: string[], out: Diagnostic[]): boolean {
  const v = f.value;
  const n = v.length;
  if (n === 0) {
    report(
      out,
      "tlsrpt-record.rua.empty",
      `\`rua=\` at column ${f.nameAt + 1} has no URI`,
      f.valueAt + 1,
    );
    return false;
  }
  let ok = true;
  let a = 0;
  for (;;) {
    const comma = v.indexOf(",", a);
    const e = comma < 0 ? n : comma;
    let b = e;
    if (comma >= 0) while (b > a && isWsp(v.charCodeAt(b - 1))) b--;
    if (a === b) {
      report(
        out,
        "tlsrpt-record.rua.empty",
        `The rua list ${quote(v)} has an empty entry at column ${f.valueAt + a + 1}`,
        f.valueAt + a + 1,
        "Remove the extra comma: URIs are separated by exactly one `,`",
      );
      ok = false;
    } else {
      const uri = v.slice(a, b);
      const verdict = checkUri(uri, f.valueAt + a + 1, out);
      if (verdict === "invalid") ok = false;
      else if (verdict === "unsupported") skipped.push(quote(uri));
      else if (rua.includes(uri)) {
        report(
          out,
          "tlsrpt-record.rua.duplicate",
          `The rua URI ${quote(uri)} at column ${f.valueAt + a + 1} is already listed`,
          f.valueAt + a + 1,
        );
      } else rua.push(uri);
    }
    if (comma < 0) return ok;
    a = comma + 1;
    while (a < n && isWsp(v.charCodeAt(a))) a++;
  }
}

/** Checks one URI starting at 1-based `column`; reports what makes it invalid or skipped. */
function checkUri(uri: string, column: number, out: Diagnostic[]): Verdict {
  const invalid = (problem: string, at: number, fix?: string): Verdict => {
    report(
      out,
      "tlsrpt-record.rua.invalid-uri",
      `The rua URI ${quote(uri)} at column ${column} ${problem}`,
      at,
      fix,
    );
    return "invalid";
  };
  const n = uri.length;
  for (let k = 0; k < n; k++) {
    const c = uri.charCodeAt(k);
    if (c > 0x7f) continue; // reported once for the whole record (non-ascii)
    if (c === BANG) {
      // RFC 8460 §3: `!` MUST be percent-encoded (DMARC's `!10m` size limit does not exist here).
      const rest = uri.slice(k);
      return invalid(
        `has a raw \`!\` at column ${column + k}`,
        column + k,
        /^!\d+[kmgt]?$/i.test(rest)
          ? `Remove ${quote(rest)}: TLS-RPT has no DMARC-style size limit (a literal \`!\` is written %21)`
          : "Write `!` inside a URI as %21",
      );
    }
    if (c === PERCENT) {
      if (!(isHex(uri.charCodeAt(k + 1)) && isHex(uri.charCodeAt(k + 2)))) {
        return invalid(
          `has a \`%\` at column ${column + k} not followed by two hex digits`,
          column + k,
          "Write a literal `%` as %25",
        );
      }
      k += 2;
      continue;
    }
    if (URI_CHAR[c] !== 1) {
      const space = isWsp(c);
      return invalid(
        `has ${describeChar(c)} at column ${column + k}${space ? "; URIs are separated by `,` alone" : ", which a URI must percent-encode"}`,
        column + k,
      );
    }
  }
  // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  let k = 0;
  while (k < n && isSchemeChar(uri.charCodeAt(k), k === 0)) k++;
  if (k === 0 || k === n || uri.charCodeAt(k) !== COLON) {
    const at = uri.indexOf("@");
    return invalid(
      "has no scheme",
      column,
      at > 0 && !uri.includes(":") ? `Write it as a mailto: URI: \`mailto:${uri}\`` : undefined,
    );
  }
  const scheme = uri.slice(0, k).toLowerCase();
  if (scheme === "mailto") return checkMailto(uri, k + 1, column, invalid);
  if (scheme === "https") return checkHttps(uri, k + 1, column, invalid);
  // RPT-REC-05 (mtasts decision): only mailto: and https: are defined; others are skipped.
  report(
    out,
    "tlsrpt-record.rua.unsupported-scheme",
    `The rua URI ${quote(uri)} at column ${column} uses ${scheme}:, so it is skipped`,
    column,
    scheme === "http"
      ? `Use https:, e.g. ${quote(`https:${uri.slice(k + 1)}`)}; reports are never posted over plain http`
      : undefined,
  );
  return "unsupported";
}

type Invalid = (problem: string, at: number, fix?: string) => Verdict;

/** RFC 6068: `mailto:` addr-spec *("," addr-spec) [ "?" hfields ], each with `@` and a domain. */
function checkMailto(uri: string, from: number, column: number, invalid: Invalid): Verdict {
  const at0 = column + from;
  const q = uri.indexOf("?", from);
  let to = uri.slice(from, q < 0 ? uri.length : q);
  const example = "e.g. `mailto:tlsrpt@example.com`";
  if (to.length === 0) return invalid("has no address", at0, `Give an address, ${example}`);
  if (to.includes("%")) {
    try {
      to = decodeURIComponent(to);
    } catch {
      return invalid("has percent-encoding that is not UTF-8", at0);
    }
  }
  for (const addr of to.split(",")) {
    const at = addr.lastIndexOf("@");
    if (at < 0)
      return invalid(`has no \`@\` in ${quote(addr)}`, at0, `Give a full address, ${example}`);
    if (at === 0)
      return invalid(
        `has nothing before \`@\` in ${quote(addr)}`,
        at0,
        `Give a full address, ${example}`,
      );
    const problem = domainProblem(addr.slice(at + 1));
    if (problem !== null) return invalid(problem, at0, `Give a full address, ${example}`);
  }
  return "usable";
}

function domainProblem(domain: string): string | null {
  if (domain.length === 0) return "has no domain after `@`";
  if (domain.charCodeAt(0) === 91) {
    return domain.length > 2 && domain.endsWith("]")
      ? null
      : `has a malformed address literal ${quote(domain)}`;
  }
  let label = 0;
  for (let k = 0; k <= domain.length; k++) {
    const c = k === domain.length ? 46 : domain.charCodeAt(k);
    if (c === 46) {
      if (label === 0) return `has an empty label in the domain ${quote(domain)}`;
      label = 0;
    } else if (isAlnum(c) || c === 45 || c > 0x7f) {
      label++;
    } else {
      return `has ${describeChar(c)} in the domain ${quote(domain)}`;
    }
  }
  return null;
}

/** `https://host[/path]`: must parse as a URL and name a host. */
function checkHttps(uri: string, from: number, column: number, invalid: Invalid): Verdict {
  if (!uri.startsWith("//", from)) {
    return invalid("has no `//` before the host", column + from, "Write it as `https://host/path`");
  }
  let host = "";
  try {
    host = new URL(uri).hostname;
  } catch {
    return invalid("cannot be read as a URL", column, "Write it as `https://host/path`");
  }
  if (host.length === 0) return invalid("has no host", column, "Write it as `https://host/path`");
  return "usable";
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isSchemeChar(c: number, first: boolean): boolean {
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (first) return alpha;
  return alpha || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
}

/**
 * Picks and parses the record from a whole TXT RRset (each element one RR, its
 * strings joined): RPT-REC-03 selection and exactly-one rule, then parse.
 */
export function selectTlsrptRecord(txts: readonly string[]): Parsed<TlsrptRecord> {
  const diagnostics: Diagnostic[] = [];
  const chosen = selectRecord(txts, RPT, diagnostics);
  return chosen === null ? { ok: false, diagnostics } : parseTlsrptRecord(chosen);
}

/**
 * The canonical form, `v=TLSRPTv1; rua=<uri>,<uri>` with extensions after rua,
 * for `generate`. Expects a valid record (e.g. one that parsed); it does not check.
 */
export function formatTlsrptRecord(r: TlsrptRecord): string {
  let s = `v=TLSRPTv1; rua=${r.rua.join(",")}`;
  for (const name of Object.keys(r.extensions)) s += `; ${name}=${r.extensions[name]}`;
  return s;
}
