// The field grammar the `_mta-sts` (RFC 8461 §3.1) and `_smtp._tls` (RFC 8460 §3)
// TXT records share: a version field, then fields split on `*WSP ";" *WSP`, one
// optional trailing `;`, and `name=value` extensions with the same ABNF in both.
// One hand-written pass with a lookup table and no regexes, so both parsers stay
// linear-time on hostile input (the fuzzer) and cheap on real records (the bench).

import { type Code, catalogue, diag } from "./catalogue.ts";
import type { Diagnostic } from "./diagnostic.ts";

/**
 * A TXT RR can carry 65 535 bytes, but a real record is under 200 characters;
 * past this we refuse to scan, so the cost of one call stays bounded.
 */
export const MAX_RECORD_LENGTH = 8192;

/** A hostile record (`;;;;…`) would yield thousands of findings; a person needs the first few. */
const MAX_FINDINGS = 32;

/** The record's own codes for the findings the shared grammar makes. */
export interface FieldCodes {
  tooLong: Code;
  nonAscii: Code;
  versionMissing: Code;
  delimiterWhitespace: Code;
  fieldEmpty: Code;
  extensionMalformed: Code;
  extensionDuplicate: Code;
  countNone: Code;
  countMultiple: Code;
}

export interface RecordSyntax {
  /** The version field exactly as it must open the record, e.g. `v=STSv1` (case-sensitive). */
  prefix: string;
  /** Field names the record parser reads itself (`id`, `rua`); every other name is an extension. */
  known: readonly string[];
  codes: FieldCodes;
}

/** A field the record parser reads itself. Positions are 0-based indexes into the record. */
export interface KnownField {
  name: string;
  /** The raw value: everything after `=` up to the `;` (whitespace before the `;` removed). */
  value: string;
  nameAt: number;
  valueAt: number;
}

export interface TxtFields {
  /** Known fields in record order, repeats included (each record decides what a repeat means). */
  known: KnownField[];
  /** Well-formed unknown fields, first occurrence of each name (STS-REC-09/11, RPT-REC-07). */
  extensions: Record<string, string>;
}

const TAB = 9;
const SPACE = 32;
const SEMI = 59;
const EQ = 61;

const ALNUM = 1;
const NAME = 2;
const VALUE = 4;

/** Character classes for ASCII; anything >= 128 is in none of them. */
const CLASS = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) if (c !== SEMI && c !== EQ) CLASS[c] = VALUE;
for (const c of "_-.") CLASS[c.charCodeAt(0)] = NAME | VALUE;
for (let c = 0; c < 128; c++) {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
    CLASS[c] = ALNUM | NAME | VALUE;
  }
}

export function isWsp(c: number): boolean {
  return c === SPACE || c === TAB;
}

export function isAlnum(c: number): boolean {
  return c < 128 && ((CLASS[c] as number) & ALNUM) !== 0;
}

/** Quotes input text for a message: backticks, control characters escaped, long text cut. */
export function quote(s: string, max = 60): string {
  const t = s.length > max ? `${s.slice(0, max - 1)}…` : s;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  const shown = t.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    if (c === "\n") return "\\n";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  return `\`${shown}\``;
}

/** Names one character for a message: `-`, a space, a tab, U+00E9. */
export function describeChar(c: number): string {
  if (c === SPACE) return "a space";
  if (c === TAB) return "a tab";
  if (c < 0x20 || c === 0x7f) return `the control character 0x${c.toString(16).padStart(2, "0")}`;
  if (c > 0x7f) return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
  return `\`${String.fromCharCode(c)}\``;
}

/**
 * Adds a finding unless the list is already long. An error is always let in
 * while the list has none, so capping never turns an invalid record valid.
 */
export function report(
  out: Diagnostic[],
  code: Code,
  detail: string,
  column?: number,
  fix?: string,
): void {
  if (out.length >= MAX_FINDINGS) {
    if (catalogue[code].severity !== "error" || out.some((d) => d.severity === "error")) return;
  }
  out.push(diag(code, detail, column === undefined ? undefined : { column }, fix));
}

/** STS-REC-04/05, RPT-REC-03: a TXT RR is one of ours iff it matches `^<prefix>[ \t]*;`. */
export function isSelected(text: string, prefix: string): boolean {
  if (!text.startsWith(prefix)) return false;
  let i = prefix.length;
  while (i < text.length && isWsp(text.charCodeAt(i))) i++;
  return i < text.length && text.charCodeAt(i) === SEMI;
}

/**
 * Picks the one record from a TXT RRset (STS-REC-04/06, RPT-REC-03): others are
 * discarded silently; none or several selected means no record, with an error.
 */
export function selectRecord(
  txts: readonly string[],
  syntax: RecordSyntax,
  out: Diagnostic[],
): string | null {
  let chosen: string | null = null;
  let count = 0;
  for (const txt of txts) {
    if (isSelected(txt, syntax.prefix)) {
      count++;
      if (chosen === null) chosen = txt;
    }
  }
  if (count === 1) return chosen;
  const want = `${syntax.prefix};`;
  if (count === 0) {
    const misses: string[] = [];
    for (const txt of txts) {
      const why = nearMiss(txt, syntax.prefix);
      if (why !== null && misses.length < 3) misses.push(`${quote(txt, 40)} (${why})`);
    }
    const looked =
      txts.length === 0
        ? "The TXT RRset is empty"
        : `None of the ${txts.length} TXT record${txts.length === 1 ? "" : "s"} starts with ${quote(want)}`;
    report(
      out,
      syntax.codes.countNone,
      misses.length === 0 ? looked : `${looked}; discarded: ${misses.join(", ")}`,
    );
    return null;
  }
  const shown: string[] = [];
  for (const txt of txts) {
    if (shown.length < 3 && isSelected(txt, syntax.prefix)) shown.push(quote(txt, 40));
  }
  report(
    out,
    syntax.codes.countMultiple,
    `${count} TXT records start with ${quote(want)}: ${shown.join(", ")}${count > 3 ? ", …" : ""}`,
  );
  return null;
}

/** Why a record that looks like ours was not selected, or null when it does not look like ours. */
function nearMiss(txt: string, prefix: string): string | null {
  let s = 0;
  while (s < txt.length && s < 64 && (isWsp(txt.charCodeAt(s)) || txt.charCodeAt(s) < 0x20)) s++;
  const head = txt.slice(s, s + prefix.length);
  if (head.toLowerCase() !== prefix.toLowerCase()) return null;
  if (s > 0) return "it starts with whitespace";
  if (head !== prefix) return `the prefix is case-sensitive: ${quote(prefix)}`;
  return `${quote(prefix)} must be followed by \`;\``;
}

/**
 * Splits one record into fields, checks the shared grammar and pushes findings
 * onto `out` (columns are 1-based character positions). Returns null only when
 * the record is too long to look at.
 */
export function scanTxtFields(
  text: string,
  syntax: RecordSyntax,
  out: Diagnostic[],
): TxtFields | null {
  const codes = syntax.codes;
  const n = text.length;
  if (n > MAX_RECORD_LENGTH) {
    report(
      out,
      codes.tooLong,
      `The record is ${n} characters long; the limit is ${MAX_RECORD_LENGTH} (it starts ${quote(text, 40)})`,
    );
    return null;
  }
  const fields: TxtFields = { known: [], extensions: {} };
  const prefix = syntax.prefix;
  let i = 0;
  // STS-REC-07 / RPT-REC-04: the version is the first field, exactly.
  let versionOk = false;
  if (text.startsWith(prefix)) {
    let j = prefix.length;
    while (j < n && isWsp(text.charCodeAt(j))) j++;
    if (j === n) {
      versionOk = true;
      i = n;
    } else if (text.charCodeAt(j) === SEMI) {
      versionOk = true;
      i = j + 1;
      if (j > prefix.length) {
        // STS-REC-05 / RPT-REC-03 (erratum 6285): the ABNF allows it, the prose does not.
        report(
          out,
          codes.delimiterWhitespace,
          `The record has ${describeChar(text.charCodeAt(prefix.length))} at column ${prefix.length + 1}, between ${quote(prefix)} and its \`;\``,
          prefix.length + 1,
        );
      }
    }
  }
  if (!versionOk) {
    report(out, codes.versionMissing, versionProblem(text, prefix), 1);
    // A botched version (`v=STSv1 id=a`, `V=STSv1`, `v=STSv10`) is that finding alone, not
    // also a malformed extension; any other first field (`id=a; v=STSv1`) is read as usual.
    const semi = text.indexOf(";");
    const head = semi < 0 ? text : text.slice(0, semi);
    if (head.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()) {
      i = semi < 0 ? n : semi + 1;
    }
  }

  let nonAscii = false;
  let lastKnown = "";
  while (i < n) {
    let s = i;
    while (s < n && isWsp(text.charCodeAt(s))) s++;
    if (s === n) break; // whitespace after the one optional trailing `;`
    let eq = -1;
    let e = s;
    for (; e < n; e++) {
      const c = text.charCodeAt(e);
      if (c === SEMI) break;
      if (c === EQ) {
        if (eq < 0) eq = e;
      } else if (c > 0x7f && !nonAscii) {
        // STS-REC-07 / RFC 8460 §3: the record MUST be US-ASCII. Reported once, here only.
        nonAscii = true;
        report(
          out,
          codes.nonAscii,
          `${describeChar(c)} (${quote(String.fromCharCode(c))}) at column ${e + 1} is not US-ASCII`,
          e + 1,
        );
      }
    }
    let fe = e;
    if (e < n) while (fe > s && isWsp(text.charCodeAt(fe - 1))) fe--;
    i = e + 1;
    if (fe === s) {
      report(
        out,
        codes.fieldEmpty,
        `Empty field at column ${s + 1}: ${quote(text.slice(Math.max(0, s - 12), Math.min(n, s + 12)))} has a \`;\` with nothing before it`,
        s + 1,
      );
      continue;
    }
    if (eq < 0) {
      const hint =
        lastKnown === "rua"
          ? "; if it belongs to the rua URI before it, write that `;` as %3B"
          : "; a field is `name=value`";
      report(
        out,
        codes.extensionMalformed,
        `The field ${quote(text.slice(s, fe))} at column ${s + 1} has no \`=\`${hint}`,
        s + 1,
      );
      continue;
    }
    const name = text.slice(s, eq);
    if (syntax.known.includes(name)) {
      fields.known.push({ name, value: text.slice(eq + 1, fe), nameAt: s, valueAt: eq + 1 });
      lastKnown = name;
      continue;
    }
    lastKnown = "";
    if (extensionOk(text, s, eq, fe, out, codes.extensionMalformed)) {
      const value = text.slice(eq + 1, fe);
      if (Object.hasOwn(fields.extensions, name)) {
        // First occurrence wins (RFC 8461 §3.2 last paragraph, STS-REC-11).
        report(
          out,
          codes.extensionDuplicate,
          `The field \`${name}\` appears again at column ${s + 1} (${quote(text.slice(s, fe))}); the first value ${quote(fields.extensions[name] as string)} is used`,
          s + 1,
        );
      } else {
        fields.extensions[name] = value;
      }
    }
  }
  return fields;
}

/** Says what opens the record instead of the version field, as precisely as we can. */
function versionProblem(text: string, prefix: string): string {
  if (text.length === 0) return `The record is empty; it must start with ${quote(`${prefix};`)}`;
  const first = text.charCodeAt(0);
  if (isWsp(first) || first < 0x20) {
    return `The record starts with ${describeChar(first)} before ${quote(prefix)}`;
  }
  const semi = text.indexOf(";");
  const head = semi < 0 ? text : text.slice(0, semi);
  if (head.toLowerCase().startsWith(prefix.toLowerCase()) && !head.startsWith(prefix)) {
    return `The record starts with ${quote(head)}; the version field is case-sensitive: ${quote(prefix)}`;
  }
  if (head.startsWith(prefix)) {
    return `The record starts with ${quote(head)}; ${quote(prefix)} must be followed by \`;\``;
  }
  const at = text.indexOf(prefix);
  if (at > 0) {
    return `${quote(prefix)} is at column ${at + 1}, but the version must be the first field (the record starts with ${quote(head)})`;
  }
  return `The record starts with ${quote(head)}, not ${quote(prefix)}`;
}

/**
 * STS-REC-09 / RPT-REC-07: `name=value`, name `(ALPHA/DIGIT) *31(ALPHA/DIGIT/"_"/"-"/".")`,
 * value `1*(%x21-3A / %x3C / %x3E-7E)`. Non-ASCII is left to the record-wide finding.
 */
function extensionOk(
  text: string,
  s: number,
  eq: number,
  fe: number,
  out: Diagnostic[],
  code: Code,
): boolean {
  if (eq === s) {
    report(out, code, `${fieldAt(text, s, fe)} has no name before \`=\``, s + 1);
    return false;
  }
  for (let k = s; k < eq; k++) {
    const c = text.charCodeAt(k);
    if (c > 0x7f) return false;
    const cls = CLASS[c] as number;
    if (k === s ? (cls & ALNUM) === 0 : (cls & NAME) === 0) {
      const where = k === s ? "starts with" : "has";
      const spaced = isWsp(c) && k > s;
      report(
        out,
        code,
        `${fieldAt(text, s, fe)} ${where} ${describeChar(c)} at column ${k + 1}${spaced ? " before `=`" : " in its name"}`,
        k + 1,
        spaced ? unspaced(text, s, eq, fe) : undefined,
      );
      return false;
    }
  }
  if (eq - s > 32) {
    report(
      out,
      code,
      `${fieldAt(text, s, fe)} has a ${eq - s}-character name; the limit is 32`,
      s + 1,
    );
    return false;
  }
  if (eq + 1 === fe) {
    report(out, code, `${fieldAt(text, s, fe)} has an empty value`, eq + 2);
    return false;
  }
  for (let k = eq + 1; k < fe; k++) {
    const c = text.charCodeAt(k);
    if (c > 0x7f) return false;
    if (((CLASS[c] as number) & VALUE) === 0) {
      let detail = `${fieldAt(text, s, fe)} has ${describeChar(c)} at column ${k + 1} in its value`;
      let fix: string | undefined;
      if (c === EQ) detail += "; a value cannot contain `=`";
      else if (isWsp(c) && k === eq + 1) {
        detail = `${fieldAt(text, s, fe)} has whitespace after \`=\``;
        fix = unspaced(text, s, eq, fe);
      }
      report(out, code, detail, k + 1, fix);
      return false;
    }
  }
  return true;
}

function fieldAt(text: string, s: number, fe: number): string {
  return `The field ${quote(text.slice(s, fe))} at column ${s + 1}`;
}

function unspaced(text: string, s: number, eq: number, fe: number): string {
  const name = text.slice(s, eq).trim();
  const value = text.slice(eq + 1, fe).trim();
  return `Remove the whitespace around \`=\`: \`${name}=${value}\``;
}
