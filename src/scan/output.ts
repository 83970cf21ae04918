// The four ways results leave a scan, each written a line at a time as
// domains finish, so a killed scan keeps every line it completed: ndjson
// (the contract), CSV (spreadsheets), one JSON document (streamed, valid once
// the scan ends) and text for people.

import type { Summary } from "./summary.ts";
import type { ScanRecord } from "./types.ts";

export type Format = "ndjson" | "csv" | "json" | "text";

export interface Sink {
  write(s: string): unknown;
}

/** Colours and escaping for text; the CLI supplies them (plain when not a terminal). */
export interface TextStyle {
  bold(s: string): string;
  dim(s: string): string;
  ok(s: string): string;
  warn(s: string): string;
  bad(s: string): string;
  /** Makes input text safe for a terminal. */
  safe(s: string): string;
}

export interface ResultWriter {
  write(record: ScanRecord): void;
  /** Closes the document; `summary` goes into it for JSON (other formats print it apart). */
  end(summary?: Summary): void;
}

export function createWriter(format: Format, sink: Sink, style?: TextStyle): ResultWriter {
  switch (format) {
    case "ndjson":
      return { write: (r) => sink.write(`${JSON.stringify(r)}\n`), end: () => {} };
    case "csv":
      return csvWriter(sink);
    case "json":
      return jsonWriter(sink);
    case "text":
      return { write: (r) => sink.write(textLine(r, style ?? plain)), end: () => {} };
  }
}

function jsonWriter(sink: Sink): ResultWriter {
  let first = true;
  let opened = false;
  const open = () => {
    if (!opened) sink.write('{"domains":[');
    opened = true;
  };
  return {
    write(r) {
      open();
      sink.write(`${first ? "\n" : ",\n"}${JSON.stringify(r)}`);
      first = false;
    },
    end(summary) {
      open();
      sink.write(
        `${first ? "" : "\n"}]${summary ? `,"summary":${JSON.stringify(summary)}` : ""}}\n`,
      );
    },
  };
}

export const CSV_COLUMNS = [
  "domain",
  "status",
  "mode",
  "max_age",
  "tlsrpt",
  "mx",
  "errors",
  "warnings",
  "elapsed_ms",
] as const;

function csvWriter(sink: Sink): ResultWriter {
  sink.write(`${CSV_COLUMNS.join(",")}\r\n`);
  return {
    write(r) {
      const row = [
        r.domain,
        r.status,
        r.mode ?? "",
        r.max_age === null ? "" : String(r.max_age),
        r.tlsrpt === null ? "" : r.tlsrpt ? "yes" : "no",
        r.mx.map((m) => m.host).join(" "),
        codes(r, "error").join(" "),
        codes(r, "warning").join(" "),
        String(r.elapsedMs),
      ];
      sink.write(`${row.map(csvField).join(",")}\r\n`);
    },
    end: () => {},
  };
}

/** RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet never runs it as a formula. */
export function csvField(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Each code once, in the order found. */
export function codes(r: ScanRecord, severity: "error" | "warning"): string[] {
  return [...new Set(r.findings.filter((f) => f.severity === severity).map((f) => f.code))];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Input text made safe for a terminal: control and bidi characters as escapes. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`);
}

/** ANSI colours, or none. */
export function textStyle(color: boolean): TextStyle {
  const wrap = (open: number, close: number) => (s: string) =>
    color ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    ok: wrap(32, 39),
    warn: wrap(33, 39),
    bad: wrap(31, 39),
    safe: safeText,
  };
}

const plain = textStyle(false);

/** `example.com  ok  enforce  max_age 14 d, TLS-RPT` then the codes of what is wrong. */
export function textLine(r: ScanRecord, style: TextStyle): string {
  const status = r.status.padEnd(7);
  const label =
    r.status === "ok"
      ? style.ok(status)
      : r.status === "warning"
        ? style.warn(status)
        : r.status === "error"
          ? style.bad(status)
          : style.dim(status);
  const facts: string[] = [];
  if (r.status === "none") facts.push("no MTA-STS");
  if (r.mode !== null) facts.push(r.mode);
  if (r.max_age !== null) facts.push(`max_age ${days(r.max_age)}`);
  if (r.tlsrpt) facts.push("TLS-RPT");
  const problems =
    r.status === "none"
      ? []
      : [...codes(r, "error"), ...codes(r, "warning").map((c) => style.dim(c))];
  const domain = style.safe(r.domain);
  return `${style.bold(domain.padEnd(32))} ${label} ${facts.join(", ")}${problems.length > 0 ? `  ${problems.join(" ")}` : ""}\n`;
}

function days(seconds: number): string {
  return seconds >= 86_400 ? `${Math.round(seconds / 86_400)} d` : `${seconds} s`;
}
