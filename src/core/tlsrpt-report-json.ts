// One linear pass over report JSON text before JSON.parse sees it: it bounds
// nesting (RPT-RCV-03) and finds repeated member names, which I-JSON forbids and
// JSON.parse silently resolves to the last value.

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
