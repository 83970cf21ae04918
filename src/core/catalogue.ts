// The one catalogue of diagnostic codes. Each area declares its codes in
// catalogue/<area>.ts; this file joins them and builds diagnostics from them.
// docs/diagnostics.md is generated from `catalogue` (npm run docs).

import { checkCodes } from "./catalogue/check.ts";
import { inputCodes } from "./catalogue/input.ts";
import { policyCodes } from "./catalogue/policy.ts";
import { publishCodes } from "./catalogue/publish.ts";
import { reportCodes } from "./catalogue/report.ts";
import { stsRecordCodes } from "./catalogue/sts-record.ts";
import { tlsrptRecordCodes } from "./catalogue/tlsrpt-record.ts";
import type { CodeInfo, Diagnostic, Location } from "./diagnostic.ts";

export const catalogue = {
  ...stsRecordCodes,
  ...tlsrptRecordCodes,
  ...policyCodes,
  ...reportCodes,
  ...inputCodes,
  ...checkCodes,
  ...publishCodes,
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof catalogue;

/**
 * Builds a diagnostic. `detail` says what is wrong and where, in words
 * specific to this input; the catalogue adds how to fix it and the RFC section.
 */
export function diag(code: Code, detail: string, at?: Location, fix?: string): Diagnostic {
  const info: CodeInfo = catalogue[code];
  const how = fix ?? info.fix;
  const message = `${detail}${/[.!?]$/.test(detail) ? "" : "."} ${how}${/[.!?]$/.test(how) ? "" : "."} (${info.rfc})`;
  const d: Diagnostic = { code, severity: info.severity, message, rule: info.rule, rfc: info.rfc };
  if (at !== undefined) d.at = at;
  return d;
}
