// A name from a list, a log or the command line, as the Policy Domain it
// names (A-labels, lowercase, no trailing dot), or the reason it is not one.

import { policyDomain } from "../../core/names.ts";

export type Named = { domain: string } | { invalid: string };

export function nameOf(raw: string): Named {
  // An address names its domain (user@example.com).
  const text = raw.includes("@") ? raw.slice(raw.lastIndexOf("@") + 1) : raw;
  const domain = policyDomain(text);
  if (domain !== null) return { domain };
  return { invalid: whyNot(text) };
}

function whyNot(text: string): string {
  const t = text.trim().replace(/\.$/, "");
  if (t.length === 0) return "empty";
  if (t.includes("/")) return "a URL or path; give the host name alone";
  if (t.startsWith("[") || /^[\d.]+$/.test(t) || t.includes(":"))
    return "an address literal has no MTA-STS policy";
  if (t.length > 253) return `${t.length} characters, over the limit of 253`;
  const long = t.split(".").find((l) => l.length > 63);
  if (long !== undefined) return `a label of ${long.length} characters, over the limit of 63`;
  if (t.split(".").some((l) => l.length === 0)) return "an empty label (two dots in a row)";
  return "characters that are not allowed in a host name";
}
