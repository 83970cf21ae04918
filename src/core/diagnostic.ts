// Typed findings. Every parser and check reports through these shapes, so a
// script can key on `code` and a person can read `message`.

export type Severity = "error" | "warning" | "info";

/** Where in the input a finding points. Parsers fill what they know. */
export interface Location {
  /** 1-based line in a multi-line input (policy file). */
  line?: number;
  /** 1-based column (policy file) or character position (TXT record). */
  column?: number;
  /** JSON path into a report, e.g. `policies[0].summary`. */
  path?: string;
}

export interface Diagnostic {
  /** Stable dotted code from the catalogue; never changes once released. */
  code: string;
  severity: Severity;
  /** What is wrong, where, and how to fix it. */
  message: string;
  /** Checklist rule in ../shared/spec (e.g. `STS-POL-08`). */
  rule: string;
  /** RFC section the rule comes from (e.g. `RFC 8461 §3.2`). */
  rfc: string;
  at?: Location;
}

/** One catalogue entry: the fixed facts about a code. */
export interface CodeInfo {
  severity: Severity;
  rule: string;
  rfc: string;
  /** One line naming the problem, used in docs/diagnostics.md. */
  title: string;
  /** How to fix it; appended to every message of this code. */
  fix: string;
}

/** Result of every parser: never throws on bad input; warnings travel with a good value. */
export type Parsed<T> =
  | { ok: true; value: T; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
