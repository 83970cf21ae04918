// Check results for people (grouped per domain) and for scripts (JSON).

import type { DomainResult, Finding, MxResult } from "../check/index.ts";
import { humanDuration, printable, renderDiagnostics, type Style } from "./render.ts";

export function renderCheckJson(results: readonly DomainResult[]): string {
  return `${JSON.stringify({ domains: results })}\n`;
}

export function renderCheckText(results: readonly DomainResult[], style: Style): string {
  return results.map((r) => renderDomain(r, style)).join("\n");
}

function statusLabel(r: DomainResult, style: Style): string {
  switch (r.status) {
    case "ok":
      return style.ok("✓ ok");
    case "warning":
      return style.severity("warning", "! warnings");
    case "error":
      return style.bad("✗ errors");
    case "incomplete":
      return style.severity("warning", "? incomplete");
  }
}

function renderDomain(r: DomainResult, style: Style): string {
  const lines = [
    `${style.bold(r.domain)}  ${statusLabel(r, style)}  ${style.dim(`(${(r.elapsedMs / 1000).toFixed(1)} s)`)}`,
  ];
  const record = (text: string | null | undefined) =>
    text == null ? style.dim("(none)") : printable(text);
  lines.push(`  _mta-sts     ${record(r.stsRecord?.text)}`);
  lines.push(`  _smtp._tls   ${record(r.tlsrptRecord?.text)}`);
  const p = r.policy;
  if (p?.valid) {
    const cert = p.certificate ? `, certificate ${validity(p.certificate)}` : "";
    lines.push(
      `  policy       ${p.mode}, max_age ${humanDuration(p.max_age ?? 0)}, mx ${printable(p.mx.join(", "))}${style.dim(` (${p.tls?.version ?? "TLS"}${cert})`)}`,
    );
  } else {
    lines.push(`  policy       ${style.dim(p?.fetched ? "(invalid)" : "(not fetched)")}`);
  }
  for (const mx of r.mx) lines.push(`  MX ${String(mx.preference).padEnd(9)} ${mxLine(mx, style)}`);
  const ordered = [...r.findings].sort((a, b) => rank(a) - rank(b));
  const shown = ordered.filter((f) => f.severity !== "info" || f.code !== "mx.tls.ok");
  lines.push(...renderDiagnostics(shown, style));
  return `${lines.join("\n")}\n`;
}

function mxLine(mx: MxResult, style: Style): string {
  const parts = [`${mx.host}${mx.addresses[0] ? style.dim(` [${mx.addresses[0]}]`) : ""}`];
  if (mx.tls) parts.push(mx.tls.version);
  else if (mx.starttls === false) parts.push(style.bad("no STARTTLS"));
  if (mx.certificate) parts.push(`cert ${validity(mx.certificate)}`);
  if (mx.covered === true) parts.push(`covered by ${printable(mx.pattern ?? "")}`);
  if (mx.covered === false) parts.push(style.bad("not in policy"));
  if (mx.stsValid !== null)
    parts.push(mx.stsValid ? style.ok("MTA-STS ok") : style.bad("MTA-STS fails"));
  if (mx.dane.status !== "none") parts.push(`DANE ${mx.dane.status}`);
  return parts.join(" · ");
}

/** Days left, or the date itself when it is decades away (year 9999 means "no expiry"). */
function validity(c: { daysLeft: number; notAfter: string }): string {
  if (c.daysLeft > 3650) return `valid until ${c.notAfter.slice(0, 10)}`;
  return `${c.daysLeft} days left`;
}

function rank(f: Finding): number {
  return f.severity === "error" ? 0 : f.severity === "warning" ? 1 : 2;
}
