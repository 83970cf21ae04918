// Reads `policies[].failure-details` (RFC 8460 §4.4): result types kept verbatim
// (RPT-RES-01), counts checked (RPT-JSON-03), the URI key's two names (RPT-JSON-07).

import { isKnownResultType } from "./result-type.ts";
import type { FailureDetail } from "./tlsrpt-report.ts";
import {
  count,
  describe,
  type Findings,
  isObject,
  type Json,
  join,
  optionalText,
  quote,
  requiredText,
} from "./tlsrpt-report-fields.ts";

/** Absent → empty; one object → wrapped with a warning (as RPT-JSON-01 does for policies). */
export function failureDetails(v: Json | undefined, path: string, f: Findings): FailureDetail[] {
  if (v === undefined || v === null) return [];
  let list: Json[];
  if (Array.isArray(v)) list = v;
  else if (isObject(v)) {
    f.add("report.failure-details.not-array", `${path} is a single object`, path);
    list = [v];
  } else {
    f.add("report.field.type", `${path} is ${describe(v)}, not an array`, path);
    return [];
  }
  const out: FailureDetail[] = [];
  list.forEach((item, i) => {
    const detail = failureDetail(item, `${path}[${i}]`, f);
    if (detail) out.push(detail);
  });
  return out;
}

const ADDRESS_KEYS = [
  "sending-mta-ip",
  "receiving-mx-hostname",
  "receiving-mx-helo",
  "receiving-ip",
] as const;

function failureDetail(v: Json, path: string, f: Findings): FailureDetail | null {
  if (!isObject(v)) {
    f.add("report.field.type", `${path} is ${describe(v)}, not an object`, path);
    return null;
  }
  const type = requiredText(v, "result-type", path, f);
  if (type !== null && !isKnownResultType(type)) {
    const at = join(path, "result-type");
    f.add("report.result-type.unknown", `${at} is ${quote(type)}`, at);
  }
  // Members are set in §4.4 order, so the object prints in that order.
  const out = { "result-type": type } as FailureDetail;
  for (const key of ADDRESS_KEYS) {
    const text = optionalText(v, key, path, f);
    if (text !== undefined) out[key] = text;
  }
  out["failed-session-count"] = count(v, "failed-session-count", path, f);
  let info = optionalText(v, "additional-information", path, f);
  if (info === undefined) {
    // RPT-JSON-07: the RFC's field list names it additional-info-uri.
    info = optionalText(v, "additional-info-uri", path, f);
    if (info !== undefined) {
      const at = join(path, "additional-info-uri");
      f.add("report.additional-information.alias", `${at} was read as additional-information`, at);
    }
  }
  if (info !== undefined) out["additional-information"] = info;
  const reason = optionalText(v, "failure-reason-code", path, f);
  if (reason !== undefined) out["failure-reason-code"] = reason;
  return out;
}
