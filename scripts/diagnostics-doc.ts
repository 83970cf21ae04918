// Writes docs/diagnostics.md from the catalogue (npm run docs). A test
// compares the file with this output, so the two cannot drift.

import { writeFileSync } from "node:fs";
import { catalogue } from "../src/core/catalogue.ts";
import type { CodeInfo } from "../src/core/diagnostic.ts";

export const DOC_PATH = new URL("../docs/diagnostics.md", import.meta.url);

const AREAS: [prefix: string, heading: string][] = [
  ["sts-record.", "`_mta-sts` TXT record"],
  ["tlsrpt-record.", "`_smtp._tls` TXT record"],
  ["policy.", "Policy file and MX patterns"],
  ["report.", "TLS-RPT reports"],
  ["input.", "Reading input (size, compression, mail)"],
  ["dns.", "`check`: DNS"],
  ["fetch.", "`check`: fetching the policy"],
  ["mx.", "`check`: MX hosts against the policy, STARTTLS and certificates"],
  ["dane.", "`check`: DANE (TLSA)"],
  ["check.", "`check`: the run itself"],
  ["generate.", "`generate`: the policy and its records"],
  ["rollout.", "`rollout`: pre-flight and publishing"],
];

export function renderCatalogue(): string {
  const entries = Object.entries(catalogue as Record<string, CodeInfo>);
  const out: string[] = [
    "# Diagnostic codes",
    "",
    "<!-- Generated from src/core/catalogue/*.ts by `npm run docs`. Do not edit by hand. -->",
    "",
    "Every finding mtasts reports carries one of these codes. Codes are stable: once released, a",
    "code keeps its meaning, so scripts and dashboards can key on it. Severity `error` makes the",
    "input invalid (exit 1 from `mtasts validate`); `warning` and `info` do not. The rule column",
    "names the checklist item in the project's RFC checklists that the code implements.",
    "",
  ];
  for (const [prefix, heading] of AREAS) {
    const rows = entries
      .filter(([code]) => code.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b));
    if (rows.length === 0) continue;
    out.push(
      `## ${heading}`,
      "",
      "| code | severity | rule | RFC | problem | how to fix |",
      "|---|---|---|---|---|---|",
    );
    for (const [code, info] of rows) {
      out.push(
        `| \`${code}\` | ${info.severity} | ${info.rule} | ${info.rfc} | ${cell(info.title)} | ${cell(info.fix)} |`,
      );
    }
    out.push("");
  }
  const unfiled = entries.filter(([code]) => !AREAS.some(([p]) => code.startsWith(p)));
  if (unfiled.length > 0)
    throw new Error(`codes without a docs section: ${unfiled.map(([c]) => c).join(", ")}`);
  return out.join("\n");
}

function cell(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ");
}

if (import.meta.main) {
  writeFileSync(DOC_PATH, renderCatalogue());
  console.log(`wrote ${DOC_PATH.pathname}`);
}
