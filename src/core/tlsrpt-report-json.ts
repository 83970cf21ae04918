// Passes over report JSON text before JSON.parse sees it: they bound nesting
// (RPT-RCV-03) and find repeated member names, which I-JSON forbids and
// JSON.parse silently resolves to the last value. Every report gets the cheap
// one (scanShape: depth and a member count); scanJson, which names each
// repeated member's path, runs only when the parsed value has fewer members.

export interface JsonScan {
  /** Nesting went past the limit; nothing else in the scan is meaningful then. */
  tooDeep: boolean;
  /** Paths of repeated members, e.g. `policies[0].summary.total-failure-session-count`. */
  duplicates: string[];
}

interface Frame {
  /** Member names seen so far; null for an array. */
  keys: Set<string> | null;
  key: string;
  index: number;
  expectKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Scans `text` without building values. Malformed JSON never makes it throw or
 * loop: every step advances, and JSON.parse reports the syntax error afterwards.
 */
export function scanJson(text: string, maxDepth: number, maxDuplicates: number): JsonScan {
  const stack: Frame[] = [];
  const duplicates: string[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === BACKSLASH) {
          escaped = true;
          j += 2;
        } else if (d === QUOTE) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, Math.min(j, n));
        const key = escaped ? decodeKey(raw) : raw;
        if (top.keys.has(key)) {
          if (duplicates.length < maxDuplicates) duplicates.push(memberPath(stack, key));
        } else top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return { tooDeep: true, duplicates };
      stack.push({ keys: c === 0x7b ? new Set() : null, key: "", index: 0, expectKey: true });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return { tooDeep: false, duplicates };
}

function decodeKey(raw: string): string {
  try {
    const value: unknown = JSON.parse(`"${raw}"`);
    return typeof value === "string" ? value : raw;
  } catch {
    return raw;
  }
}

function memberPath(stack: readonly Frame[], key: string): string {
  let path = "";
  for (let k = 0; k + 1 < stack.length; k++) {
    const parent = stack[k] as Frame;
    path += parent.keys ? `${path ? "." : ""}${parent.key}` : `[${parent.index}]`;
  }
  return path ? `${path}.${key}` : key;
}

/** What the fast pass finds: nesting within the limit, and how many members the text names. */
export interface JsonShape {
  tooDeep: boolean;
  /** Colons outside strings: in JSON text that parses, one per member name. */
  members: number;
}

/**
 * The cheap pass run on every report: nesting depth and a member count, with
 * string contents skipped by indexOf. When the parsed value holds fewer
 * members than the text names (`countMembers`), a name was repeated, and
 * `scanJson` is run to say where.
 */
export function scanShape(text: string, maxDepth: number): JsonShape {
  const n = text.length;
  let depth = 0;
  let members = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = text.indexOf('"', i + 1);
      // A quote preceded by an odd run of backslashes is inside the string.
      while (j !== -1 && oddBackslashesBefore(text, j)) j = text.indexOf('"', j + 1);
      if (j === -1) break; // unterminated: JSON.parse reports it
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return { tooDeep: true, members };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth > 0) depth--;
    } else if (c === 0x3a /* : */) {
      members++;
    }
  }
  return { tooDeep: false, members };
}

function oddBackslashesBefore(text: string, quote: number): boolean {
  let k = quote - 1;
  while (k >= 0 && text.charCodeAt(k) === BACKSLASH) k--;
  return (quote - 1 - k) % 2 === 1;
}

/** Own members of every object in a parsed JSON value (nesting is already bounded). */
export function countMembers(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += countMembers(v[i]);
    return n;
  }
  const keys = Object.keys(v);
  n += keys.length;
  for (let i = 0; i < keys.length; i++) {
    n += countMembers((v as Record<string, unknown>)[keys[i] as string]);
  }
  return n;
}
