// Reads `policies[].policy`, whose members drift most in real reports:
// policy-string (RPT-JSON-04), mx-host (RPT-JSON-05) and U-label domains (RPT-JSON-06).

import type { AppliedPolicy } from "./tlsrpt-report.ts";
import {
  describe,
  domain,
  type Findings,
  isObject,
  type Json,
  join,
  member,
  quote,
  requiredText,
} from "./tlsrpt-report-fields.ts";

const POLICY_TYPES = new Set(["sts", "tlsa", "no-policy-found"]);

/** `policies[].policy`; absent → warning and null (the caller fills nulls). */
export function appliedPolicy(
  v: Json | undefined,
  path: string,
  f: Findings,
): AppliedPolicy | null {
  if (v === undefined || v === null) {
    f.add("report.field.absent", `${path} is ${v === null ? "null" : "missing"}`, path);
    return null;
  }
  if (!isObject(v)) {
    f.add("report.field.type", `${path} is ${describe(v)}, not an object`, path);
    return null;
  }
  const type = requiredText(v, "policy-type", path, f);
  if (type !== null && !POLICY_TYPES.has(type)) {
    const at = join(path, "policy-type");
    f.add("report.policy-type.unknown", `${at} is ${quote(type)}`, at);
  }
  const strings = policyString(member(v, "policy-string"), join(path, "policy-string"), type, f);
  const rawDomain = requiredText(v, "policy-domain", path, f);
  const policyDomain =
    rawDomain === null ? null : domain(rawDomain, join(path, "policy-domain"), f);
  const mx = mxHost(member(v, "mx-host"), join(path, "mx-host"), f);
  if (type === "no-policy-found" && ((strings?.length ?? 0) > 0 || (mx?.length ?? 0) > 0)) {
    f.add(
      "report.no-policy-found.has-policy",
      `${path} is no-policy-found but names a policy`,
      path,
    );
  }
  if ((type === "sts" || type === "tlsa") && strings === undefined) {
    const at = join(path, "policy-string");
    f.add("report.policy-string.missing", `${at} is missing for a ${type} policy`, at);
  }
  // Members are set in §4.4 order, so the object prints in that order.
  const out = { "policy-type": type } as AppliedPolicy;
  if (strings !== undefined) out["policy-string"] = strings;
  out["policy-domain"] = policyDomain;
  if (mx !== undefined) out["mx-host"] = mx;
  return out;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** Lines of a policy string; blank lines carry nothing a policy can say. */
function lines(s: string): string[] {
  return s.split(LINE_BREAK).filter((line) => line.trim() !== "");
}

/**
 * RPT-JSON-04: an array of strings, one per policy line or TLSA record.
 * Read also: one string with line breaks; elements with line breaks; nested
 * arrays; an element that is itself a JSON-encoded array (Microsoft tlsa).
 */
export function policyString(
  value: Json | undefined,
  at: string,
  type: string | null,
  f: Findings,
): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    f.add("report.policy-string.string", `${at} is a string, not an array of lines`, at);
    return lines(value);
  }
  if (!Array.isArray(value)) {
    f.add("report.field.not-string", `${at} is ${describe(value)}, not an array of strings`, at);
    return undefined;
  }
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const item = value[i] as Json;
    const itemAt = () => `${at}[${i}]`;
    if (typeof item === "string") {
      const decoded = encodedArray(item);
      if (decoded) {
        f.add(
          "report.policy-string.nested-json",
          `${itemAt()} holds a JSON-encoded array of ${decoded.length} strings`,
          itemAt(),
        );
        out.push(...decoded);
      } else if (LINE_BREAK.test(item)) {
        f.add("report.policy-string.multiline", `${itemAt()} holds several lines`, itemAt());
        out.push(...lines(item));
      } else out.push(item);
    } else if (Array.isArray(item) && item.every((x) => typeof x === "string")) {
      f.add(
        "report.policy-string.nested-array",
        `${itemAt()} is an array inside the array`,
        itemAt(),
      );
      out.push(...(item as string[]));
    } else {
      f.add("report.field.not-string", `${itemAt()} is ${describe(item)}, not a string`, itemAt());
    }
  }
  if (type === "sts") {
    // Two `mx:` in one line need two colons: most lines are passed over without the regex.
    const joined = out.findIndex(
      (line) => line.indexOf(":") !== line.lastIndexOf(":") && /\bmx\s*:.*\bmx\s*:/i.test(line),
    );
    if (joined >= 0) {
      f.add("report.policy-string.joined", `${at} has several mx lines in one element`, at);
    }
  }
  return out;
}

/** `["3 1 1 AB…", …]` inside a string: decoded only when it is an array of strings. */
function encodedArray(s: string): string[] | null {
  if (s.indexOf("[") === -1) return null;
  const t = s.trim();
  if (!t.startsWith("[") || !t.endsWith("]")) return null;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : null;
  } catch {
    return null;
  }
}

const MX_PREFIX = /(^|[\s,;])mx\s*:\s*/gi;

/**
 * RPT-JSON-05: mx-host is an array of MX patterns. Read also a bare string
 * (RFC App. B, erratum 6241), entries copied with their `mx: ` policy prefix,
 * several patterns in one entry; U-labels become A-labels (RPT-JSON-06).
 */
export function mxHost(value: Json | undefined, at: string, f: Findings): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const out: string[] = [];
  if (typeof value === "string") {
    f.add("report.mx-host.string", `${at} is the string ${JSON.stringify(value)}`, at);
    mxEntry(value, at, out, f);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      // Most entries are one plain ASCII pattern: nothing to strip, split or convert.
      if (typeof item === "string" && isPlainPattern(item)) out.push(item);
      else if (typeof item === "string") mxEntry(item, `${at}[${i}]`, out, f);
      else {
        const itemAt = `${at}[${i}]`;
        f.add("report.field.not-string", `${itemAt} is ${describe(item)}, not a string`, itemAt);
      }
    }
  } else {
    f.add("report.field.not-string", `${at} is ${describe(value)}, not an array of strings`, at);
    return undefined;
  }
  return out;
}

/** Non-empty printable ASCII without spaces, `,`, `;` or `:` (so no `mx:` prefix either). */
function isPlainPattern(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2c || c === 0x3b || c === 0x3a) return false;
  }
  return true;
}

function mxEntry(text: string, at: string, out: string[], f: Findings): void {
  const bare = text.replace(MX_PREFIX, "$1");
  if (bare !== text) {
    f.add("report.mx-host.prefix", `${at} is ${JSON.stringify(text)}`, at);
  }
  const patterns = bare.split(/[\s,;]+/).filter((p) => p !== "");
  if (patterns.length > 1) {
    f.add("report.mx-host.joined", `${at} holds ${patterns.length} patterns`, at);
  }
  for (const p of patterns) out.push(domain(p, at, f));
}
