// Turns a validation outcome into what a person reads on a terminal. Colour
// only when stdout is a TTY and NO_COLOR is unset (https://no-color.org).

import type { Diagnostic, Severity } from "../core/diagnostic.ts";

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  severity(sev: Severity, s: string): string;
  ok(s: string): string;
  bad(s: string): string;
}

export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  const on = Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== "dumb";
  const wrap = (open: number, close: number) => (s: string) =>
    on ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  const red = wrap(31, 39);
  const yellow = wrap(33, 39);
  const cyan = wrap(36, 39);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    ok: wrap(32, 39),
    bad: red,
    severity: (sev, s) => (sev === "error" ? red(s) : sev === "warning" ? yellow(s) : cyan(s)),
  };
}

/**
 * Text from the network (records, certificate names, policy lines) made safe
 * for a terminal: control characters and bidirectional overrides would let a
 * hostile server recolour, rewrite or reorder what the admin reads.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === "\t" ? " " : `\\u{${c.codePointAt(0)?.toString(16)}}`,
  );
}

export function countLabel(diagnostics: readonly Diagnostic[]): string {
  const n = (sev: Severity) => diagnostics.filter((d) => d.severity === sev).length;
  const parts: string[] = [];
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;
  if (n("error") > 0) parts.push(plural(n("error"), "error"));
  if (n("warning") > 0) parts.push(plural(n("warning"), "warning"));
  if (n("info") > 0) parts.push(plural(n("info"), "note"));
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

export function renderDiagnostics(
  diagnostics: readonly (Diagnostic & { subject?: string })[],
  style: Style,
): string[] {
  const lines: string[] = [];
  for (const d of diagnostics) {
    const where = printable(locationText(d));
    lines.push("");
    lines.push(
      `  ${style.severity(d.severity, d.severity.padEnd(7))} ${style.bold(d.code)}${where ? style.dim(`  ${where}`) : ""}`,
    );
    lines.push(`          ${printable(d.message)}`);
  }
  return lines;
}

function locationText(d: Diagnostic & { subject?: string }): string {
  const parts: string[] = [];
  if (d.subject !== undefined) parts.push(d.subject);
  if (!d.at) return parts.join(", ");
  if (d.at.line !== undefined) parts.push(`line ${d.at.line}`);
  if (d.at.column !== undefined) parts.push(`column ${d.at.column}`);
  if (d.at.path !== undefined) parts.push(d.at.path);
  return parts.join(", ");
}

/** Seconds as the largest whole unit a person would say (604800 → "7 days"). */
export function humanDuration(seconds: number): string {
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const k = seconds / size;
      return `${k} ${name}${k === 1 ? "" : "s"}`;
    }
  }
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}
