// Fetch the policy by the RFC's rules (STS-FETCH-*) and parse it.

import type { PolicyFetchResult } from "../adapters/policy-fetch.ts";
import type { Code } from "../core/catalogue.ts";
import { type Policy, parsePolicy } from "../core/policy.ts";
import { certificateView } from "./certificate-view.ts";
import { about, clip, finding, nameList } from "./findings.ts";
import type { CertificateView, Finding, PolicyResult } from "./types.ts";

export interface PolicyStep {
  result: PolicyResult;
  policy: Policy | null;
  findings: Finding[];
}

const fetchCodes: Record<string, Code> = {
  "fetch.dns": "fetch.dns",
  "fetch.connect": "fetch.connect",
  "fetch.timeout": "fetch.timeout",
  "fetch.tls": "fetch.tls",
  "fetch.certificate": "fetch.certificate",
  "fetch.status": "fetch.status",
  "fetch.redirect": "fetch.redirect",
  "fetch.content-type": "fetch.content-type",
  "fetch.too-large": "fetch.too-large",
  "fetch.encoding": "fetch.encoding",
};

export function policyStep(
  fetched: PolicyFetchResult,
  host: string,
  id: string | null,
  now: Date,
): PolicyStep {
  const result: PolicyResult = {
    url: fetched.url,
    fetched: fetched.ok,
    valid: false,
    mode: null,
    max_age: null,
    mx: [],
    id,
  };
  if (!fetched.ok) {
    const code =
      fetched.kind === "fetch.certificate"
        ? certificateCode(fetched.certificateError)
        : (fetchCodes[fetched.kind] ?? "fetch.connect");
    let detail = `${fetched.url}: ${fetched.detail}`;
    if (fetched.kind === "fetch.redirect" && fetched.location)
      detail += ` (redirects to ${fetched.location})`;
    if (fetched.kind === "fetch.status" && fetched.status !== undefined)
      detail = `${fetched.url} answered HTTP ${fetched.status}`;
    let certificate: CertificateView | undefined;
    if (fetched.certificate) {
      certificate = certificateView(fetched.certificate, now);
      result.certificate = certificate;
      detail += `; certificate for ${nameList(certificate.dnsNames) || clip(certificate.subject)}, valid until ${certificate.notAfter}`;
    }
    return { result, policy: null, findings: [finding(code, detail, host)] };
  }
  result.tls = { version: fetched.tls.version, cipher: fetched.tls.cipher };
  const leaf = fetched.tls.chain[0];
  if (leaf) result.certificate = certificateView(leaf, now);
  const findings: Finding[] = [];
  if (fetched.charsetWarning)
    findings.push(finding("fetch.charset", `${fetched.url}: ${fetched.charsetWarning}`, host));
  const parsed = parsePolicy(fetched.body);
  findings.push(...about(fetched.url, parsed.diagnostics));
  if (!parsed.ok) return { result, policy: null, findings };
  const p = parsed.value;
  result.valid = true;
  result.mode = p.mode;
  result.max_age = p.max_age;
  result.mx = p.mx;
  return { result, policy: p, findings };
}

/** Node's verification codes, grouped into what the admin has to fix. */
function certificateCode(error: string | undefined): Code {
  switch (error) {
    case "CERT_HAS_EXPIRED":
      return "fetch.certificate.expired";
    case "CERT_NOT_YET_VALID":
      return "fetch.certificate.not-yet-valid";
    case "hostname-mismatch":
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "fetch.certificate.name-mismatch";
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "CERT_UNTRUSTED":
      return "fetch.certificate.untrusted";
    default:
      return "fetch.certificate";
  }
}
