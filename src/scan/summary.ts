// What a survey wants to know at the end: how many domains publish MTA-STS,
// with which mode, how many publish TLS-RPT, and what goes wrong most often
// (each finding code counted once per domain, with a few example domains).
// Memory is bounded: counters and three examples per code.

import { catalogue } from "../core/catalogue.ts";
import type { CodeInfo } from "../core/diagnostic.ts";
import type { PolicyMode } from "../core/policy.ts";
import type { ScanRecord, ScanStatus } from "./types.ts";

export interface Problem {
  code: string;
  severity: string;
  title: string;
  /** Domains with this finding. */
  domains: number;
  examples: string[];
}

export interface Summary {
  /** Every record, invalid names included. */
  total: number;
  /** Inputs that were not domain names; left out of every share. */
  invalid: number;
  /** Domains looked at: the denominator of every share. */
  scanned: number;
  status: Record<ScanStatus, number>;
  mtaSts: {
    /** A `_mta-sts` record exists (valid or not). */
    published: number;
    /** DNS failed for `_mta-sts`: neither published nor absent as far as we know. */
    unknown: number;
    /** A valid policy was fetched, by mode. */
    validPolicy: number;
    modes: Record<PolicyMode, number>;
  };
  tlsrpt: { published: number; withMtaSts: number };
  /** Among domains publishing MTA-STS: most common first. */
  problems: Problem[];
}

const EXAMPLES = 3;
const INVALID = "input.domain.invalid";

export function createSummary(): { add(r: ScanRecord): void; result(): Summary } {
  const s: Summary = {
    total: 0,
    invalid: 0,
    scanned: 0,
    status: { ok: 0, warning: 0, error: 0, none: 0 },
    mtaSts: {
      published: 0,
      unknown: 0,
      validPolicy: 0,
      modes: { enforce: 0, testing: 0, none: 0 },
    },
    tlsrpt: { published: 0, withMtaSts: 0 },
    problems: [],
  };
  const problems = new Map<string, Problem>();
  return {
    add(r) {
      s.total++;
      if (r.findings.some((f) => f.code === INVALID)) {
        s.invalid++;
        return;
      }
      s.scanned++;
      s.status[r.status] = (s.status[r.status] ?? 0) + 1;
      const published = r.status !== "none" && !stsLookupFailed(r);
      if (r.status !== "none" && !published) s.mtaSts.unknown++;
      if (published) s.mtaSts.published++;
      if (r.mode !== null && r.mode in s.mtaSts.modes) {
        s.mtaSts.validPolicy++;
        s.mtaSts.modes[r.mode]++;
      }
      if (r.tlsrpt) {
        s.tlsrpt.published++;
        if (published) s.tlsrpt.withMtaSts++;
      }
      if (!published) return;
      const seen = new Set<string>();
      for (const f of r.findings) {
        if (f.severity === "info" || seen.has(f.code)) continue;
        seen.add(f.code);
        let p = problems.get(f.code);
        if (!p) {
          const info = (catalogue as Record<string, CodeInfo>)[f.code];
          p = {
            code: f.code,
            severity: f.severity,
            title: info?.title ?? f.code,
            domains: 0,
            examples: [],
          };
          problems.set(f.code, p);
        }
        p.domains++;
        if (p.examples.length < EXAMPLES) p.examples.push(r.domain);
      }
    },
    result() {
      s.problems = [...problems.values()].sort(
        (a, b) => b.domains - a.domains || a.code.localeCompare(b.code),
      );
      return structuredClone(s);
    },
  };
}

/** No record seen, and none said absent: DNS failed or time ran out before the answer. */
function stsLookupFailed(r: ScanRecord): boolean {
  return r.id === null && !r.findings.some((f) => f.code.startsWith("sts-record."));
}

export function renderSummaryText(s: Summary, elapsedMs?: number): string {
  const n = (k: number) => k.toLocaleString("en-US");
  const pct = (k: number) =>
    `${n(k)} (${s.scanned === 0 ? "0.0" : ((100 * k) / s.scanned).toFixed(1)}%)`;
  const lines: string[] = [];
  const rate =
    elapsedMs !== undefined && elapsedMs > 0
      ? ` in ${(elapsedMs / 1000).toFixed(1)} s (${n(Math.round((s.total * 1000) / elapsedMs))}/s)`
      : "";
  lines.push(`Scanned ${n(s.scanned)} domain${s.scanned === 1 ? "" : "s"}${rate}`);
  if (s.invalid > 0)
    lines.push(
      `  ${s.invalid === 1 ? "1 name was not a domain name" : `${n(s.invalid)} names were not domain names`} (left out below)`,
    );
  const m = s.mtaSts;
  lines.push(
    `MTA-STS   published by ${pct(m.published)}; no record ${pct(s.status.none)}${m.unknown > 0 ? `; DNS failed ${pct(m.unknown)}` : ""}`,
  );
  lines.push(
    `          valid policy ${pct(m.validPolicy)}: enforce ${pct(m.modes.enforce)}, testing ${pct(m.modes.testing)}, none ${pct(m.modes.none)}`,
  );
  lines.push(
    `TLS-RPT   published by ${pct(s.tlsrpt.published)}; by ${n(s.tlsrpt.withMtaSts)} of the ${n(m.published)} publishing MTA-STS`,
  );
  lines.push(
    `Status    ok ${n(s.status.ok)}, warning ${n(s.status.warning)}, error ${n(s.status.error)}, none ${n(s.status.none)}`,
  );
  if (s.problems.length > 0) {
    lines.push(
      "",
      `Problems among the ${n(m.published)} domains publishing MTA-STS, most common first:`,
    );
    const width = Math.max(...s.problems.map((p) => p.code.length));
    for (const p of s.problems) {
      lines.push(
        `  ${n(p.domains).padStart(9)}  ${p.severity.padEnd(7)}  ${p.code.padEnd(width)}  ${p.title}`,
      );
      lines.push(`  ${" ".repeat(9)}  e.g. ${p.examples.join(", ")}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
