// `mtasts validate <kind>`: one artefact in, a verdict out. The JSON shape
// and the exit codes are a contract other tools rely on (issue "Foundation"):
//   {"kind", "valid", "value", "diagnostics": [{"code","severity","message",...}]}
//   exit 0 valid (warnings allowed), 1 invalid, 2 usage error or unreadable input.

import { readInput } from "../adapters/input.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { matchMx, normalizeHost } from "../core/mx-pattern.ts";
import { type Policy, parsePolicy } from "../core/policy.ts";
import { parseStsRecord } from "../core/sts-record.ts";
import { parseTlsrptRecord } from "../core/tlsrpt-record.ts";
import { parseTlsrptReport, reportTotals, type TlsrptReport } from "../core/tlsrpt-report.ts";
import { countLabel, humanDuration, renderDiagnostics, type Style } from "./render.ts";

import type { ValidateKind } from "./validate-kinds.ts";

export type { ValidateKind } from "./validate-kinds.ts";

export interface MxVerdict {
  host: string;
  matched: boolean;
  pattern: string | null;
}

export interface Outcome {
  kind: ValidateKind;
  valid: boolean;
  value: object | null;
  diagnostics: Diagnostic[];
  mx?: MxVerdict;
  /** Lines describing the value for people, shown above the findings. */
  summary: string[];
}

export type Failure = { error: string };

/** Caps on what we read: a record fits a TXT RRset; a policy is capped by STS-FETCH-07. */
const RECORD_READ_CAP = 64 * 1024;
const POLICY_READ_CAP = 64 * 1024;
const REPORT_READ_CAP = 10 * 1024 * 1024;

export async function validate(
  kind: ValidateKind,
  source: string,
  options: { mx?: string },
): Promise<Outcome | Failure> {
  switch (kind) {
    case "sts-record":
    case "tlsrpt-record":
      return validateRecord(kind, source);
    case "policy":
      return validatePolicy(source, options.mx);
    case "report":
      return validateReport(source);
  }
}

async function validateRecord(
  kind: "sts-record" | "tlsrpt-record",
  source: string,
): Promise<Outcome | Failure> {
  let text = source;
  if (source === "-") {
    const read = await readInput("-", RECORD_READ_CAP);
    if (!read.ok) return { error: read.error };
    // A record piped from `dig +short` or echo ends with a newline that is not part of it.
    text = new TextDecoder().decode(read.bytes).replace(/\r?\n$/, "");
  }
  if (kind === "sts-record") {
    const parsed = parseStsRecord(text);
    const value = parsed.ok ? parsed.value : null;
    return {
      kind,
      valid: parsed.ok,
      value,
      diagnostics: parsed.diagnostics,
      summary: value ? [`id ${value.id}${extensionText(value.extensions)}`] : [],
    };
  }
  const parsed = parseTlsrptRecord(text);
  const value = parsed.ok ? parsed.value : null;
  return {
    kind,
    valid: parsed.ok,
    value,
    diagnostics: parsed.diagnostics,
    summary: value ? value.rua.map((uri) => `rua ${uri}`) : [],
  };
}

async function validatePolicy(source: string, mxHost?: string): Promise<Outcome | Failure> {
  let host: string | undefined;
  if (mxHost !== undefined) {
    const normalized = normalizeHost(mxHost);
    if (normalized === null) {
      return {
        error: `--mx ${JSON.stringify(mxHost)} is not a valid host name (give an MX host such as mx1.example.com)`,
      };
    }
    host = normalized;
  }
  const read = await readInput(source, POLICY_READ_CAP);
  if (!read.ok) return { error: read.error };
  const parsed = parsePolicy(read.bytes);
  const policy = parsed.ok ? parsed.value : null;
  const outcome: Outcome = {
    kind: "policy",
    valid: parsed.ok,
    value: policy ? policyValue(policy) : null,
    diagnostics: parsed.diagnostics,
    summary: policy ? policySummary(policy) : [],
  };
  if (host !== undefined) {
    const pattern = policy ? matchMx(host, policy.patterns) : null;
    outcome.mx = { host, matched: pattern !== null, pattern: pattern ? pattern.text : null };
    outcome.summary.push(
      pattern
        ? `mx ${host} is covered by pattern ${pattern.text}`
        : `mx ${host} is NOT covered by any mx pattern of this policy`,
    );
  }
  return outcome;
}

/** The contract's policy value: RFC key names; extensions beside them. */
function policyValue(p: Policy): object {
  return {
    version: p.version,
    mode: p.mode,
    max_age: p.max_age,
    mx: p.mx,
    extensions: p.extensions,
  };
}

function policySummary(p: Policy): string[] {
  return [
    `mode ${p.mode}, max_age ${p.max_age} (${humanDuration(p.max_age)})`,
    ...(p.mx.length > 0 ? [`mx ${p.mx.join(", ")}`] : []),
  ];
}

async function validateReport(source: string): Promise<Outcome | Failure> {
  const read = await readInput(source, REPORT_READ_CAP);
  if (!read.ok) return { error: read.error };
  // Loaded here: gzip and the MIME parser are a third of a record check's start-up.
  const { extractReport } = await import("../adapters/report-source.ts");
  const extracted = await extractReport(read.bytes);
  if (!extracted.ok) {
    return {
      kind: "report",
      valid: false,
      value: null,
      diagnostics: extracted.diagnostics,
      summary: [],
    };
  }
  const parsed = parseTlsrptReport(extracted.json);
  const diagnostics = [...extracted.diagnostics, ...parsed.diagnostics];
  const valid = parsed.ok && !diagnostics.some((d) => d.severity === "error");
  const report = parsed.ok ? parsed.value : null;
  return {
    kind: "report",
    valid,
    value: report,
    diagnostics,
    summary: report ? reportSummary(report, extracted.source) : [],
  };
}

function reportSummary(r: TlsrptReport, source: string): string[] {
  const t = reportTotals(r);
  const range = r["date-range"];
  return [
    `${r["organization-name"]} report ${r["report-id"]} (from ${source})`,
    `${range["start-datetime"]} … ${range["end-datetime"]}`,
    `${t.policies} polic${t.policies === 1 ? "y" : "ies"} for ${t.policyDomains.join(", ") || "(no domain)"}`,
    `${t.successful} successful, ${t.failed} failed session${t.failed === 1 ? "" : "s"}${
      t.resultTypes.length > 0 ? `; failures: ${t.resultTypes.join(", ")}` : ""
    }`,
  ];
}

function extensionText(ext: Record<string, string>): string {
  const keys = Object.keys(ext);
  return keys.length === 0 ? "" : `; extensions ${keys.map((k) => `${k}=${ext[k]}`).join(", ")}`;
}

export function renderJson(o: Outcome): string {
  const out: Record<string, unknown> = {
    kind: o.kind,
    valid: o.valid,
    value: o.value,
    diagnostics: o.diagnostics,
  };
  if (o.mx) out.mx = o.mx;
  return `${JSON.stringify(out)}\n`;
}

export function renderText(o: Outcome, style: Style): string {
  const head = o.valid
    ? `${style.ok("✓")} ${style.bold(o.kind)} is valid${countLabel(o.diagnostics)}`
    : `${style.bad("✗")} ${style.bold(o.kind)} is invalid${countLabel(o.diagnostics)}`;
  const lines = [
    head,
    ...o.summary.map((s) => `  ${s}`),
    ...renderDiagnostics(o.diagnostics, style),
  ];
  return `${lines.join("\n")}\n`;
}
