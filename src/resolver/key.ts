// Socketmap key → policy domain (SM-PMSR-04/05), answering instead of crashing
// on keys PMSR chokes on (SM-WEAK-10).

import { isIP } from "node:net";
import { domainToASCII } from "node:url";

export type NormalizedKey =
  | { kind: "domain"; domain: string }
  | { kind: "skip"; reason: "parent" | "ip-literal" | "invalid" };

const PARENT: NormalizedKey = { kind: "skip", reason: "parent" };
const IP_LITERAL: NormalizedKey = { kind: "skip", reason: "ip-literal" };
const INVALID: NormalizedKey = { kind: "skip", reason: "invalid" };

// What inet_aton (and so PMSR's getaddrinfo(AI_NUMERICHOST)) takes as IPv4: `127.1`, `0x7f.1`.
const LEGACY_IPV4 = /^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$/;

/**
 * The MTA-STS Policy Domain for a socketmap key: lowercase A-labels, no
 * trailing dot; or why no policy lookup should happen. Never throws.
 */
export function normalizeKey(key: string): NormalizedKey {
  // Nearly every key is already a bare lowercase host name, and classify()
  // only calls a name a domain when it holds nothing the steps below would
  // change (no space, colon, bracket, capital, trailing dot or non-ASCII).
  const plain = classify(key);
  if (plain !== null && plain.kind === "domain") return plain;
  // Postfix's own form for IPv6 next-hops; PMSR misses it (SM-PMSR-06).
  const trimmed = key.trim();
  if (trimmed.includes(":") && isIP(trimmed) === 6) return IP_LITERAL;

  let name: string;
  const bracket = key.indexOf("]");
  if (bracket !== -1) {
    name = stripLeading(key.slice(0, bracket), "[");
    if (name.length >= 5 && name.slice(0, 5).toLowerCase() === "ipv6:") {
      return isIP(name.slice(5)) === 6 ? IP_LITERAL : INVALID;
    }
  } else {
    const colon = key.lastIndexOf(":");
    name = colon === -1 ? key : key.slice(0, colon);
  }
  name = stripTrailingDots(name.toLowerCase().trim());

  const first = classify(name);
  if (first !== null) return first;

  // Only non-ASCII names reach here; WHATWG mapping also folds full-width
  // dots and case, so the result is classified again from scratch.
  const ascii = domainToASCII(name);
  if (ascii === "") return INVALID;
  const second = classify(stripTrailingDots(ascii));
  return second ?? INVALID;
}

/** A verdict for an ASCII name, or null when the name holds non-ASCII characters. */
function classify(name: string): NormalizedKey | null {
  if (name.charCodeAt(0) === 0x2e) return PARENT;
  // Every IPv4 address ends in a digit and every IPv6 one holds a colon; host
  // names mostly do neither, and skip isIP's two regular expressions.
  const tail = name.charCodeAt(name.length - 1);
  if (((tail >= 0x30 && tail <= 0x39) || name.includes(":")) && isIP(name) !== 0) return IP_LITERAL;
  const len = name.length;
  let labelStart = 0;
  let lastLabelNumeric = true;
  let nonAscii = false;
  let badChar = false;
  let badLength = len === 0 || len > 253;
  for (let i = 0; i <= len; i++) {
    const c = i === len ? 0x2e : name.charCodeAt(i);
    if (c === 0x2e) {
      const labelLen = i - labelStart;
      if (labelLen === 0 || labelLen > 63) badLength = true;
      labelStart = i + 1;
      if (i < len) lastLabelNumeric = true;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) continue;
    lastLabelNumeric = false;
    if ((c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f) continue;
    if (c >= 0x80) nonAscii = true;
    else badChar = true;
  }
  // IDNA mapping can change lengths (and drop or fold characters) but never
  // repairs ASCII garbage, so only a clean non-ASCII name is worth converting.
  if (badChar) return INVALID;
  if (nonAscii) return null;
  if (badLength) return INVALID;
  // An all-numeric top label is no host name; PMSR treats the inet_aton forms as addresses.
  if (lastLabelNumeric) return LEGACY_IPV4.test(name) ? IP_LITERAL : INVALID;
  return { kind: "domain", domain: name };
}

function stripLeading(s: string, ch: string): string {
  let i = 0;
  while (i < s.length && s[i] === ch) i++;
  return i === 0 ? s : s.slice(i);
}

function stripTrailingDots(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2e) end--;
  return end === s.length ? s : s.slice(0, end);
}
