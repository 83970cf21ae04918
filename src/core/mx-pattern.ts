// MX patterns from a policy's `mx:` lines, parsed once into typed values so
// that matching (per delivery, in the resolver) is a couple of string compares.

import { diag } from "./catalogue.ts";
import type { Diagnostic, Location, Parsed } from "./diagnostic.ts";

export interface MxPattern {
  /** The pattern as written, lowercased (`*.example.net`, `mail.example.com`). */
  text: string;
  wildcard: boolean;
  /** lowercase domain after "*." or the whole name */
  domain: string;
  /**
   * All-numeric (`192.0.2.1`): fits the grammar but names no host, so it is
   * kept in the policy's `mx` list and never used for matching (STS-POL-10).
   */
  numeric: boolean;
}

const DOT = 46;
const HYPHEN = 45;
const STAR = 42;

/** Parses one `mx` value (STS-POL-09/10). Columns in diagnostics are 1-based within `text`. */
export function parseMxPattern(text: string): Parsed<MxPattern> {
  const diagnostics: Diagnostic[] = [];
  const value = scanMxPattern(text, diagnostics);
  return value === null ? { ok: false, diagnostics } : { ok: true, value, diagnostics };
}

/**
 * Reads `text` as an MX pattern, pushing findings onto `out`. `line` and
 * `column` (1-based, where `text` starts) place findings inside a larger input
 * such as a policy file. Returns null when the pattern is invalid (one error
 * pushed: the first problem, so a bad pattern never floods the list).
 */
export function scanMxPattern(
  text: string,
  out: Diagnostic[],
  line?: number,
  column = 1,
): MxPattern | null {
  return scanMxRange(text, 0, text.length, out, line, column);
}

/**
 * scanMxPattern over src[s, e) without copying it first: the policy parser
 * hands over its whole text, and only a valid pattern is sliced out.
 */
export function scanMxRange(
  src: string,
  s: number,
  e: number,
  out: Diagnostic[],
  line: number | undefined,
  column: number,
): MxPattern | null {
  const n = e - s;
  if (n === 0) {
    out.push(diag("policy.mx.invalid", "The mx value is empty", loc(line, column, 0)));
    return null;
  }
  // STS-POL-09: `*.` is allowed only as the whole left-most label.
  const wildcard = n >= 2 && src.charCodeAt(s) === STAR && src.charCodeAt(s + 1) === DOT;
  const from = wildcard ? s + 2 : s;
  if (from === e) {
    out.push(diag("policy.mx.wildcard", "`*.` has no domain after it", loc(line, column, 0)));
    return null;
  }
  let labelStart = from;
  let upper = false;
  let numeric = true;
  for (let i = from; i < e; i++) {
    const c = src.charCodeAt(i);
    if (c === DOT) {
      const len = i - labelStart;
      if (len === 0 || len > 63 || src.charCodeAt(i - 1) === HYPHEN) {
        out.push(badLabel(src.slice(s, e), labelStart - s, i - s, line, column));
        return null;
      }
      labelStart = i + 1;
    } else if (c >= 97 && c <= 122) {
      numeric = false;
    } else if (c >= 48 && c <= 57) {
      // digit: keeps `numeric`
    } else if (c >= 65 && c <= 90) {
      upper = true;
      numeric = false;
    } else if (c === HYPHEN) {
      if (i === labelStart) {
        const text = src.slice(s, e);
        out.push(
          diag(
            "policy.mx.invalid",
            `A label in \`${show(text)}\` starts with a hyphen`,
            loc(line, column, i - s),
          ),
        );
        return null;
      }
      numeric = false;
    } else {
      out.push(badCharacter(src.slice(s, e), i - s, c, line, column));
      return null;
    }
  }
  const last = e - labelStart;
  if (last === 0 || last > 63 || src.charCodeAt(e - 1) === HYPHEN) {
    out.push(badLabel(src.slice(s, e), labelStart - s, e - s, line, column));
    return null;
  }
  const text = src.slice(s, e);
  if (e - from > 253) {
    out.push(
      diag(
        "policy.mx.too-long",
        `The domain in \`${show(text)}\` is ${e - from} characters long; at most 253 are allowed`,
        loc(line, column, 0),
      ),
    );
    return null;
  }
  const lower = upper ? text.toLowerCase() : text;
  const pattern: MxPattern = {
    text: lower,
    wildcard,
    domain: wildcard ? lower.slice(2) : lower,
    numeric,
  };
  if (numeric) {
    out.push(
      diag(
        "policy.mx.numeric",
        `\`${text}\` is an address, not a host name; it is kept but never matches an MX host`,
        loc(line, column, 0),
      ),
    );
  }
  return pattern;
}

/** The error for a label that is empty, too long or ends with a hyphen; [start, end) within `text`. */
function badLabel(
  text: string,
  start: number,
  end: number,
  line: number | undefined,
  column: number,
): Diagnostic {
  const n = text.length;
  const len = end - start;
  if (len === 0 && end === n) {
    return diag(
      "policy.mx.trailing-dot",
      `\`${show(text)}\` ends with a dot`,
      loc(line, column, n - 1),
      `Drop the final dot: \`mx: ${show(text.slice(0, n - 1))}\``,
    );
  }
  if (len === 0) {
    return diag(
      "policy.mx.empty-label",
      `\`${show(text)}\` has an empty label`,
      loc(line, column, end),
    );
  }
  if (len > 63) {
    return diag(
      "policy.mx.label-too-long",
      `A label in \`${show(text)}\` is ${len} characters long; at most 63 are allowed`,
      loc(line, column, start),
    );
  }
  return diag(
    "policy.mx.invalid",
    `Label \`${text.slice(start, end)}\` in \`${show(text)}\` ends with a hyphen`,
    loc(line, column, end - 1),
  );
}

function loc(line: number | undefined, column: number, i: number): Location {
  return line === undefined ? { column: column + i } : { line, column: column + i };
}

/** The one error for the first character outside the STS-POL-09 grammar. */
function badCharacter(
  text: string,
  i: number,
  c: number,
  line: number | undefined,
  column: number,
): Diagnostic {
  const quoted = show(text);
  if (c === STAR && text === "*") {
    return diag(
      "policy.mx.wildcard",
      "`*` alone is not a pattern; a wildcard needs a domain",
      loc(line, column, 0),
    );
  }
  if (c === STAR) {
    return diag(
      "policy.mx.wildcard",
      `\`${quoted}\` has \`*\` at column ${i + 1}; a wildcard must be the whole first label`,
      loc(line, column, i),
    );
  }
  if ((c === 32 || c === 9) && (i === 0 || text.slice(i).trim() === "")) {
    return diag(
      "policy.mx.invalid",
      `\`${quoted}\` has whitespace around the name`,
      loc(line, column, i),
      "Remove the spaces around the pattern",
    );
  }
  if (c === 44 || c === 32 || c === 9 || c === 59) {
    const what = c === 44 ? "a comma" : c === 59 ? "a semicolon" : c === 9 ? "a tab" : "a space";
    return diag(
      "policy.mx.list",
      `\`${quoted}\` holds more than one name (${what} at column ${i + 1})`,
      loc(line, column, i),
    );
  }
  if (c >= 0x80) {
    const ascii = normalizeHost(text.slice(text.startsWith("*.") ? 2 : 0));
    return diag(
      "policy.mx.u-label",
      `\`${quoted}\` contains the non-ASCII character ${show(charAt(text, i))}`,
      loc(line, column, i),
      ascii === null
        ? undefined
        : `Write the A-label form instead: \`mx: ${text.startsWith("*.") ? "*." : ""}${ascii}\``,
    );
  }
  if (c < 0x20 || c === 0x7f) {
    return diag(
      "policy.control-char",
      `\`${quoted}\` holds control character U+${c.toString(16).toUpperCase().padStart(4, "0")} at column ${i + 1}`,
      loc(line, column, i),
    );
  }
  if (c === 95) {
    return diag(
      "policy.mx.invalid",
      `\`${quoted}\` contains \`_\`, which host names may not contain`,
      loc(line, column, i),
    );
  }
  if (c === 58 || c === 91) {
    return diag(
      "policy.mx.invalid",
      `\`${quoted}\` looks like an IPv6 address or address literal; mx takes host names only`,
      loc(line, column, i),
    );
  }
  return diag(
    "policy.mx.invalid",
    `\`${quoted}\` contains ${show(charAt(text, i))} at column ${i + 1}, which is not allowed in a host name`,
    loc(line, column, i),
  );
}

/**
 * STS-MX-02: a host name as matching compares it: ASCII-lowercase, one
 * trailing dot dropped, U-labels turned into A-labels (UTS-46 via WHATWG URL).
 * Null when it is not an LDH host name (an IP address is not one, STS-MX-01).
 */
export function normalizeHost(host: string): string | null {
  const r = asciiHost(host);
  if (r !== NON_ASCII) return r;
  // Only letters, digits, `-`, `.` among the ASCII characters: keeps URL from
  // reading userinfo, ports, paths, percent-escapes or IPv6 out of the text.
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 0x80 && !isLdh(c) && c !== DOT) return null;
  }
  let ascii: string;
  try {
    ascii = new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
  const again = asciiHost(ascii);
  return again === NON_ASCII ? null : again;
}

const NON_ASCII = "\u0000";

/** Validates and lowercases an ASCII host; NON_ASCII when it needs IDNA first. */
function asciiHost(host: string): string | null {
  let n = host.length;
  if (n > 0 && host.charCodeAt(n - 1) === DOT) n--;
  if (n === 0) return null;
  let labelStart = 0;
  let upper = false;
  let numeric = true;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? DOT : host.charCodeAt(i);
    if (c === DOT) {
      const len = i - labelStart;
      if (len === 0 || len > 63 || host.charCodeAt(i - 1) === HYPHEN) return null;
      labelStart = i + 1;
    } else if (c >= 97 && c <= 122) {
      numeric = false;
    } else if (c >= 48 && c <= 57) {
      // digit
    } else if (c >= 65 && c <= 90) {
      upper = true;
      numeric = false;
    } else if (c === HYPHEN) {
      if (i === labelStart) return null;
      numeric = false;
    } else if (c >= 0x80) {
      return NON_ASCII;
    } else {
      return null;
    }
  }
  if (numeric || n > 253) return null;
  const h = n === host.length ? host : host.slice(0, n);
  return upper ? h.toLowerCase() : h;
}

function isLdh(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === HYPHEN;
}

/**
 * The first pattern `host` matches, or null (STS-MX-01). Plain patterns match
 * exactly (STS-MX-03); `*.rest` matches one non-empty label then `.rest`
 * (STS-MX-04). Numeric patterns never match (STS-POL-10).
 */
export function matchMx(host: string, patterns: readonly MxPattern[]): MxPattern | null {
  if (patterns.length === 0) return null;
  const h = normalizeHost(host);
  if (h === null) return null;
  const dot = h.indexOf(".");
  const restLength = h.length - dot - 1;
  for (const p of patterns) {
    if (p.numeric) continue;
    if (p.wildcard) {
      if (dot > 0 && p.domain.length === restLength && h.startsWith(p.domain, dot + 1)) return p;
    } else if (p.domain === h) {
      return p;
    }
  }
  return null;
}

/** The whole character (code point) at `i`, so a message never splits a surrogate pair. */
function charAt(text: string, i: number): string {
  return String.fromCodePoint(text.codePointAt(i) ?? 0xfffd);
}

/** Quotes input text for a message: control characters escaped, long text cut. */
export function show(s: string): string {
  const cut = s.length > 80 ? `${s.slice(0, 77)}…` : s;
  for (let i = 0; i < cut.length; i++) {
    const c = cut.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff)) {
      return JSON.stringify(cut).slice(1, -1);
    }
  }
  return cut;
}
