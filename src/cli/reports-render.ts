// Output helpers for `mtasts reports`: aligned text tables for people, CSV for
// spreadsheets. Report text is untrusted (RPT-RCV-04): it is made printable
// for terminals, and CSV cells that a spreadsheet would run as a formula are
// prefixed with a quote.

import { printable } from "./render.ts";

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** Columns padded to their widest cell; `right` lists the columns aligned right (numbers). */
export function table(head: string[], rows: string[][], right: ReadonlySet<number>): string[] {
  const cells = [head, ...rows.map((r) => r.map(printable))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? "")].length)));
  return cells.map((r) =>
    r
      .map((c, i) => {
        const pad = " ".repeat((widths[i] ?? 0) - [...c].length);
        return right.has(i) ? pad + c : c + pad;
      })
      .join("  ")
      .trimEnd(),
  );
}

/** RFC 4180 CSV with CRLF line ends. */
export function csv(head: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => {
    if (v === null) return "";
    if (typeof v === "number") return String(v);
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [head, ...rows].map((r) => `${r.map(cell).join(",")}\r\n`).join("");
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return "–";
  const p = (100 * part) / whole;
  return `${p < 0.1 && p > 0 ? p.toFixed(3) : p.toFixed(1)}%`;
}
