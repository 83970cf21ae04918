// The policy file (RFC 8461 §3.2), read in one pass over its lines. The fast
// path is a few indexOf calls and string compares per line; the slower
// diagnosis runs only for a line that is wrong, so a good policy allocates no
// diagnostics. The original lines are kept for TLSRPT's policy-string.

import { type Code, diag } from "./catalogue.ts";
import { type Diagnostic, hasErrors, type Location, type Parsed } from "./diagnostic.ts";
import { type MxPattern, matchMx, scanMxRange, show } from "./mx-pattern.ts";

export type PolicyMode = "enforce" | "testing" | "none";

export interface Policy {
  version: "STSv1";
  mode: PolicyMode;
  /** Seconds, 0…31 557 600 (STS-POL-08). */
  max_age: number;
  /** Every valid `mx` pattern, lowercased, duplicates removed, in file order (STS-POL-11). */
  mx: string[];
  /** The patterns usable for matching: `mx` minus all-numeric ones (STS-POL-10). */
  patterns: MxPattern[];
  /** Unknown keys (first occurrence of each), ignored by senders (STS-POL-04). */
  extensions: Record<string, string>;
  /** The file's lines as written, without line ends (STS-POL-11, TLSRPT policy-string). */
  lines: string[];
}

/** STS-FETCH-07: the largest policy body mtasts accepts, in bytes. */
export const MAX_POLICY_BYTES = 65_536;
/** STS-POL-08: the largest `max_age` (one year of 365.25 days), in seconds. */
export const MAX_AGE_LIMIT = 31_557_600;

// STS-FETCH-09: fatal, so bad bytes are an error rather than U+FFFD; the BOM
// is kept so the parser can name it instead of silently dropping it.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses a policy body (bytes as fetched, or text). Never throws: every
 * problem comes back as a diagnostic; `ok` is false when any is an error.
 */
export function parsePolicy(input: string | Uint8Array): Parsed<Policy> {
  let text: string;
  if (typeof input === "string") {
    // STS-FETCH-07 counts body bytes, so text is measured as its UTF-8 form.
    if (input.length > MAX_POLICY_BYTES) {
      return tooLarge(`The policy text is at least ${input.length} bytes as UTF-8`);
    }
    const size = input.length * 3 > MAX_POLICY_BYTES ? utf8Length(input) : input.length;
    if (size > MAX_POLICY_BYTES) return tooLarge(`The policy text is ${size} bytes as UTF-8`);
    text = input;
  } else {
    if (input.byteLength > MAX_POLICY_BYTES) {
      return tooLarge(`The policy is ${input.byteLength} bytes`);
    }
    try {
      text = decoder.decode(input);
    } catch {
      return { ok: false, diagnostics: [invalidUtf8(input)] };
    }
  }
  return parseText(text);
}

/** Per-parse state; first occurrences are remembered by line number (0 = not seen). */
interface State {
  diags: Diagnostic[];
  fields: number;
  versionLine: number;
  modeLine: number;
  mode: PolicyMode | null;
  maxAgeLine: number;
  maxAge: number;
  mxLines: number;
  mx: string[];
  patterns: MxPattern[];
  mxSet: Set<string> | null;
  /** Position of the next `:` at or after the current line (text length: none left). */
  nextColon: number;
  extensions: Record<string, string>;
  /** Lines whose key looked like a required key but was not it (STS-POL-04). */
  nearMiss: Partial<Record<Required, string>> | null;
}

type Required = "version" | "mode" | "max_age" | "mx";

function parseText(text: string): Parsed<Policy> {
  const st: State = {
    diags: [],
    fields: 0,
    versionLine: 0,
    modeLine: 0,
    mode: null,
    maxAgeLine: 0,
    maxAge: -1,
    mxLines: 0,
    mx: [],
    patterns: [],
    mxSet: null,
    nextColon: -1,
    extensions: {},
    nearMiss: null,
  };
  const lines: string[] = [];
  const n = text.length;
  let start = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    // The ABNF starts with a field, so a BOM is a stray character before `version`.
    st.diags.push(
      diag("policy.encoding.bom", "The file starts with a byte-order mark", { line: 1, column: 1 }),
    );
    start = 1;
  }
  // Work on the whole text by index (flat string, no per-line copies to
  // scan). Searches for CR move forward only, so the pass stays linear.
  let nextCr = -1;
  let lineNo = 0;
  let lineStart = 0;
  while (start < n) {
    let nl = text.indexOf("\n", start);
    if (nl < 0) nl = n;
    lineNo++;
    let end = nl;
    // STS-POL-01: LF or CRLF end a line; a CR not followed by LF does not.
    if (nl < n && end > start && text.charCodeAt(end - 1) === 13) end--;
    lines.push(text.slice(start, end));
    if (nextCr < start) {
      nextCr = text.indexOf("\r", start);
      if (nextCr < 0) nextCr = n;
    }
    if (nextCr >= end) readField(st, text, start, end, lineNo, lineStart);
    else readWithLoneCr(st, text, start, end, nextCr, lineNo, lineStart);
    start = nl + 1;
    lineStart = start;
  }
  return finish(st, lines);
}

/** STS-POL-01: a lone CR is an error; the pieces around it are still read so one CR gives one error. */
function readWithLoneCr(
  st: State,
  text: string,
  start: number,
  end: number,
  cr: number,
  lineNo: number,
  lineStart: number,
): void {
  const column = cr - lineStart + 1;
  st.diags.push(
    diag(
      "policy.line.bad-ending",
      `Line ${lineNo} has a carriage return (CR) not followed by a line feed at column ${column}`,
      { line: lineNo, column },
    ),
  );
  let from = start;
  for (;;) {
    let at = text.indexOf("\r", from);
    if (at < 0 || at > end) at = end;
    if (at > from) readField(st, text, from, at, lineNo, lineStart);
    if (at >= end) return;
    from = at + 1;
  }
}

const isWsp = (c: number) => c === 32 || c === 9;

/**
 * Reads one `key: value` field at text[s, e), a line (or a piece of one split
 * at a lone CR). Columns count from `lineStart`, where the file's line begins.
 */
function readField(
  st: State,
  text: string,
  s: number,
  e: number,
  lineNo: number,
  lineStart: number,
): void {
  let colon = st.nextColon;
  if (colon < s) {
    colon = text.indexOf(":", s);
    if (colon < 0) colon = text.length;
    st.nextColon = colon;
  }
  if (colon >= e) colon = -1;
  let keyStart = s;
  let keyEnd = colon;
  if (colon <= s || isWsp(text.charCodeAt(s)) || isWsp(text.charCodeAt(colon - 1))) {
    let i = s;
    while (i < e && isWsp(text.charCodeAt(i))) i++;
    if (i === e) {
      // STS-POL-03 (mtasts decision): blank lines are skipped with a warning.
      st.diags.push(
        diag(
          "policy.line.empty",
          e === s ? `Line ${lineNo} is empty` : `Line ${lineNo} holds only whitespace`,
          { line: lineNo, column: s - lineStart + 1 },
        ),
      );
      return;
    }
    st.fields++;
    const line = text.slice(s, e);
    if (colon < 0) {
      st.diags.push(malformed(line, lineNo, s - lineStart, i - s));
      return;
    }
    if (i > s) {
      st.diags.push(
        diag(
          "policy.line.leading-space",
          `Line ${lineNo} starts with whitespace before \`${show(text.slice(i, colon).trim())}\``,
          { line: lineNo, column: s - lineStart + 1 },
        ),
      );
    }
    if (colon === i) {
      st.diags.push(
        diag(
          "policy.line.malformed",
          `Line ${lineNo} has no key before the colon: \`${show(line)}\``,
          { line: lineNo, column: i - lineStart + 1 },
        ),
      );
      return;
    }
    keyStart = i;
    while (isWsp(text.charCodeAt(keyEnd - 1))) keyEnd--;
    if (keyEnd < colon) {
      const key = text.slice(keyStart, keyEnd);
      st.diags.push(
        diag(
          "policy.line.space-before-colon",
          `Line ${lineNo} has whitespace between \`${show(key)}\` and the colon`,
          { line: lineNo, column: keyEnd - lineStart + 1 },
          `Write \`${show(key)}:\` with the colon right after the key`,
        ),
      );
    }
  } else {
    st.fields++;
  }
  // STS-POL-02: `*WSP` after the colon and trailing whitespace are not part of the value.
  let vs = colon + 1;
  while (vs < e && isWsp(text.charCodeAt(vs))) vs++;
  let ve = e;
  while (ve > vs && isWsp(text.charCodeAt(ve - 1))) ve--;
  // Known keys are recognised in place, without slicing key or value (this
  // runs per line of every fetched policy).
  const col = vs - lineStart + 1;
  const keyLen = keyEnd - keyStart;
  const vlen = ve - vs;
  if (keyLen === 2 && text.charCodeAt(keyStart) === 109 && text.charCodeAt(keyStart + 1) === 120) {
    // `mx`. STS-POL-09: each pattern has its own line; every one must be valid.
    st.mxLines++;
    readMx(st, text, vs, ve, lineNo, col);
  } else if (keyLen === 4 && text.startsWith("mode", keyStart)) {
    if (st.modeLine > 0) {
      duplicate(st, "mode", lineNo, st.modeLine, keyStart - lineStart);
      return;
    }
    st.modeLine = lineNo;
    // STS-POL-07: case-sensitive.
    if (vlen === 7 && text.startsWith("enforce", vs)) st.mode = "enforce";
    else if (vlen === 7 && text.startsWith("testing", vs)) st.mode = "testing";
    else if (vlen === 4 && text.startsWith("none", vs)) st.mode = "none";
    else badMode(st, text.slice(vs, ve), { line: lineNo, column: col });
  } else if (keyLen === 7 && text.startsWith("version", keyStart)) {
    if (st.versionLine > 0) {
      duplicate(st, "version", lineNo, st.versionLine, keyStart - lineStart);
      return;
    }
    st.versionLine = lineNo;
    // STS-POL-05: exactly `STSv1`.
    if (vlen !== 5 || !text.startsWith("STSv1", vs)) {
      const value = text.slice(vs, ve);
      badValue(
        st,
        "policy.version.invalid",
        value,
        { line: lineNo, column: col },
        value === "" ? "version has no value" : `version is \`${show(value)}\`, not \`STSv1\``,
      );
    }
  } else if (keyLen === 7 && text.startsWith("max_age", keyStart)) {
    if (st.maxAgeLine > 0) {
      duplicate(st, "max_age", lineNo, st.maxAgeLine, keyStart - lineStart);
      return;
    }
    st.maxAgeLine = lineNo;
    st.maxAge = readMaxAge(st, text, vs, ve, { line: lineNo, column: col });
  } else {
    readExtension(
      st,
      text.slice(keyStart, keyEnd),
      text.slice(vs, ve),
      lineNo,
      keyStart - lineStart,
      { line: lineNo, column: col },
    );
  }
}

function malformed(line: string, lineNo: number, col0: number, i: number): Diagnostic {
  // A line like `mode enforce` most likely lost its colon: say so with the fix.
  const body = line.slice(i).trim();
  const sp = body.search(/[ \t]/);
  const word = sp < 0 ? body : body.slice(0, sp);
  const known = word === "version" || word === "mode" || word === "max_age" || word === "mx";
  return diag(
    "policy.line.malformed",
    `Line ${lineNo} has no colon: \`${show(line)}\``,
    { line: lineNo, column: col0 + 1 },
    known && sp > 0
      ? `Put a colon after the key: \`${word}: ${show(body.slice(sp).trim())}\``
      : undefined,
  );
}

function duplicate(st: State, key: string, lineNo: number, first: number, col: number): void {
  // STS-POL-06: the first occurrence wins.
  st.diags.push(
    diag(
      "policy.key.duplicate",
      `\`${key}\` appears again on line ${lineNo}; the value from line ${first} is used`,
      { line: lineNo, column: col + 1 },
    ),
  );
}

/** Index of the first control character (tab included: inside a value it is one), or -1. */
function firstControl(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return i;
  }
  return -1;
}

function controlChar(st: State, value: string, i: number, at: Location): void {
  const code = value.charCodeAt(i);
  st.diags.push(
    diag(
      "policy.control-char",
      `Control character U+${code.toString(16).toUpperCase().padStart(4, "0")} in \`${show(value)}\` at column ${(at.column ?? 1) + i}`,
      { line: at.line, column: (at.column ?? 1) + i },
    ),
  );
}

function badValue(
  st: State,
  code: Code,
  value: string,
  at: Location,
  detail: string,
  fix?: string,
): void {
  const ctl = firstControl(value);
  if (ctl >= 0) controlChar(st, value, ctl, at);
  else st.diags.push(diag(code, detail, at, fix));
}

function badMode(st: State, value: string, at: Location): void {
  const lower = value.toLowerCase();
  const fix =
    lower === "enforce" || lower === "testing" || lower === "none"
      ? `Modes are lowercase: write \`mode: ${lower}\``
      : undefined;
  badValue(
    st,
    "policy.mode.invalid",
    value,
    at,
    value === "" ? "mode has no value" : `mode is \`${show(value)}\``,
    fix,
  );
}

/** STS-POL-08: 1–10 ASCII digits, at most 31 557 600; -1 when invalid. Reads line[vs, ve). */
function readMaxAge(st: State, line: string, vs: number, ve: number, at: Location): number {
  const len = ve - vs;
  let n = 0;
  let digits = len > 0 && len <= 10;
  for (let i = vs; digits && i < ve; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) digits = false;
    else n = n * 10 + c;
  }
  if (!digits) {
    const value = line.slice(vs, ve);
    let detail: string;
    if (len === 0) detail = "max_age has no value";
    else if (len > 10 && /^\d+$/.test(value))
      detail = `max_age \`${show(value)}\` has ${len} digits; at most 10 are allowed`;
    else detail = `max_age \`${show(value)}\` is not a whole number of seconds written in digits`;
    badValue(st, "policy.max-age.invalid", value, at, detail);
    return -1;
  }
  if (n > MAX_AGE_LIMIT) {
    st.diags.push(
      diag(
        "policy.max-age.out-of-range",
        `max_age ${line.slice(vs, ve)} is more than ${MAX_AGE_LIMIT} seconds (one year)`,
        at,
      ),
    );
    return -1;
  }
  return n;
}

function readMx(st: State, text: string, vs: number, ve: number, lineNo: number, column: number) {
  const p = scanMxRange(text, vs, ve, st.diags, lineNo, column);
  if (p === null) return;
  // STS-POL-11: case-folded, duplicates dropped, file order kept. Small lists
  // are searched directly; a Set keeps a huge list linear.
  let seen = false;
  if (st.mxSet !== null) seen = st.mxSet.has(p.text);
  else {
    const mx = st.mx;
    const t = p.text;
    for (let i = 0; i < mx.length; i++) {
      const m = mx[i] as string;
      if (m.length === t.length && m === t) {
        seen = true;
        break;
      }
    }
    if (!seen && mx.length >= 16) st.mxSet = new Set(mx);
  }
  if (seen) {
    st.diags.push(
      diag(
        "policy.mx.duplicate",
        `\`${show(text.slice(vs, ve))}\` on line ${lineNo} repeats an earlier mx pattern`,
        { line: lineNo, column },
      ),
    );
    return;
  }
  st.mx.push(p.text);
  st.mxSet?.add(p.text);
  if (!p.numeric) st.patterns.push(p);
}

/** STS-POL-04: extension key = letter or digit, then up to 31 of letters, digits, `_`, `-`, `.`. */
function isExtensionKey(key: string): boolean {
  const len = key.length;
  if (len === 0 || len > 32 || !isAlnum(key.charCodeAt(0))) return false;
  for (let i = 1; i < len; i++) {
    const c = key.charCodeAt(i);
    if (!isAlnum(c) && c !== 95 && c !== 45 && c !== 46) return false;
  }
  return true;
}

function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

function readExtension(
  st: State,
  key: string,
  value: string,
  lineNo: number,
  keyCol0: number,
  at: Location,
): void {
  const keyAt = { line: lineNo, column: keyCol0 + 1 };
  if (!isExtensionKey(key)) {
    const ctl = firstControl(key);
    if (ctl >= 0) {
      controlChar(st, key, ctl, keyAt);
      return;
    }
    let why = "";
    if (key.length > 32) why = ` (${key.length} characters; at most 32)`;
    else if (/[ \t]/.test(key)) why = " (it contains whitespace)";
    else if (!isAlnum(key.charCodeAt(0))) why = " (it must start with a letter or digit)";
    st.diags.push(diag("policy.key.invalid", `\`${show(key)}\` is not a valid key${why}`, keyAt));
    return;
  }
  const near = nearMiss(key);
  if (near !== null) {
    st.nearMiss ??= {};
    st.nearMiss[near] ??= `line ${lineNo} has \`${key}\``;
    const sameLetters = key.toLowerCase() === near;
    st.diags.push(
      diag(
        sameLetters ? "policy.key.case" : "policy.key.similar",
        `\`${key}\` on line ${lineNo} is not \`${near}\`, so it is ignored as an unknown key`,
        keyAt,
        `Write the key exactly as \`${near}:\``,
      ),
    );
  }
  if (Object.hasOwn(st.extensions, key)) {
    st.diags.push(
      diag(
        "policy.key.duplicate",
        `\`${key}\` appears again on line ${lineNo}; the first value is used`,
        keyAt,
      ),
    );
    return;
  }
  const bad = badExtensionValue(value);
  if (bad < 0) {
    st.extensions[key] = value;
    return;
  }
  const c = value.charCodeAt(bad);
  if (value.length === 0) {
    st.diags.push(diag("policy.extension.invalid-value", `\`${key}\` has no value`, at));
  } else if (c < 0x20 || c === 0x7f) {
    controlChar(st, value, bad, at);
  } else {
    st.diags.push(
      diag(
        "policy.extension.invalid-value",
        `The value of \`${key}\` holds an unpaired surrogate at column ${(at.column ?? 1) + bad}, which has no UTF-8 form`,
        { line: lineNo, column: (at.column ?? 1) + bad },
      ),
    );
  }
}

/**
 * Index of the first character an extension value may not hold (a control
 * character or an unpaired surrogate, which no UTF-8 byte sequence gives), 0
 * for an empty value, or -1 when the value is good.
 */
function badExtensionValue(v: string): number {
  if (v.length === 0) return 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return i;
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = v.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return i;
      i++;
    }
  }
  return -1;
}

/** The required key an extension key was probably meant to be (`Mode`, `max-age`), or null. */
function nearMiss(key: string): Required | null {
  if (key.length > 8) return null;
  const k = key.toLowerCase().replace(/[-_.]/g, "");
  if (k === "version") return "version";
  if (k === "mode") return "mode";
  if (k === "maxage") return "max_age";
  if (k === "mx") return "mx";
  return null;
}

function finish(st: State, lines: string[]): Parsed<Policy> {
  const d = st.diags;
  if (st.fields === 0) {
    d.push(diag("policy.empty", "The policy has no fields"));
    return { ok: false, diagnostics: d };
  }
  const missing = (code: Code, key: Required) => {
    const hint = st.nearMiss?.[key];
    d.push(diag(code, `No \`${key}\` line${hint ? ` (${hint}; keys must be spelt exactly)` : ""}`));
  };
  // STS-POL-05: version, mode and max_age are required; mx unless mode is none.
  if (st.versionLine === 0) missing("policy.version.missing", "version");
  if (st.modeLine === 0) missing("policy.mode.missing", "mode");
  if (st.maxAgeLine === 0) missing("policy.max-age.missing", "max_age");
  if (st.mode === "enforce" || st.mode === "testing") {
    if (st.mxLines === 0) missing("policy.mx.missing", "mx");
    else if (st.mx.length > 0 && st.patterns.length === 0) {
      // STS-POL-10: numeric patterns are kept but match nothing.
      d.push(
        diag(
          "policy.mx.no-usable",
          `Mode is ${st.mode} but every mx pattern is an address, so no MX host can match`,
        ),
      );
    }
  }
  if (st.mode === null || st.maxAge < 0 || hasErrors(d)) return { ok: false, diagnostics: d };
  return {
    ok: true,
    value: {
      version: "STSv1",
      mode: st.mode,
      max_age: st.maxAge,
      mx: st.mx,
      patterns: st.patterns,
      extensions: st.extensions,
      lines,
    },
    diagnostics: d,
  };
}

/** UTF-8 size of a string; a lone surrogate counts as the 3 bytes of U+FFFD. */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function tooLarge(detail: string): Parsed<Policy> {
  return {
    ok: false,
    diagnostics: [diag("policy.too-large", `${detail}; the limit is ${MAX_POLICY_BYTES}`)],
  };
}

/** STS-FETCH-09: names the first byte that breaks UTF-8, with its line and byte column. */
function invalidUtf8(b: Uint8Array): Diagnostic {
  const i = firstInvalidUtf8(b);
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < i; k++) {
    if (b[k] === 10) {
      line++;
      lineStart = k + 1;
    }
  }
  const byte = (b[i] ?? 0).toString(16).toUpperCase().padStart(2, "0");
  return diag(
    "policy.encoding.invalid-utf8",
    `Byte 0x${byte} at offset ${i} (line ${line}, byte ${i - lineStart + 1}) is not valid UTF-8`,
    { line, column: i - lineStart + 1 },
  );
}

function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i] ?? 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f; // no encoded surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    const c1 = b[i + 1] ?? 0;
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return Math.max(0, n - 1);
}

/**
 * Writes a policy in canonical form: LF line ends, `version`, `mode`, one
 * `mx` line per pattern, `max_age`, then any extensions. Throws RangeError
 * when a field holds CR or LF or max_age is not a whole number: that would
 * write a different policy than the caller asked for (a bug, not bad input).
 */
export function formatPolicy(p: {
  mode: PolicyMode;
  max_age: number;
  mx: readonly string[];
  extensions?: Readonly<Record<string, string>>;
}): string {
  if (!Number.isSafeInteger(p.max_age) || p.max_age < 0) {
    throw new RangeError(`max_age must be a whole number of seconds, got ${p.max_age}`);
  }
  let out = `version: STSv1\nmode: ${oneLine(p.mode)}\n`;
  for (const m of p.mx) out += `mx: ${oneLine(m)}\n`;
  out += `max_age: ${p.max_age}\n`;
  if (p.extensions !== undefined) {
    for (const [k, v] of Object.entries(p.extensions)) out += `${oneLine(k)}: ${oneLine(v)}\n`;
  }
  return out;
}

function oneLine(s: string): string {
  if (s.includes("\n") || s.includes("\r")) {
    throw new RangeError(`policy field ${JSON.stringify(s)} holds a line break`);
  }
  return s;
}

/** The text of the policy's pattern that `host` matches (STS-MX-01), or null. */
export function policyMatch(policy: Pick<Policy, "patterns">, host: string): string | null {
  return matchMx(host, policy.patterns)?.text ?? null;
}
