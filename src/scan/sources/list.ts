// Domain lists: one domain (or address) a line, `#` comments, blank lines,
// or `rank,domain` as top-sites lists have it.
// A line of one token with a dot is meant as a domain: if it is not one it is
// reported in the output (input.domain.invalid). Anything else is garbage:
// counted and shown on stderr, never scanned.

import { type Named, nameOf } from "./domain-name.ts";

export type ListLine = Named | { skip: true } | { garbage: string };

/** Longer lines are garbage whatever they hold (a binary file, a pasted document). */
const MAX_LINE = 1024;

export function parseListLine(line: string): ListLine {
  if (line.length > MAX_LINE) return { garbage: "line too long" };
  const hash = line.indexOf("#");
  const text = (hash >= 0 ? line.slice(0, hash) : line).trim();
  if (text.length === 0) return { skip: true };
  // Top-sites lists (Tranco, Alexa) are `rank,domain`.
  const token = /^\d+,[^\s,]+$/.test(text) ? text.slice(text.indexOf(",") + 1) : text;
  if (/[\s,;]/.test(token)) return { garbage: "more than one word" };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(token)) return { garbage: "control characters" };
  if (!token.includes(".")) return { garbage: "no dot: not a domain name" };
  return nameOf(token);
}
