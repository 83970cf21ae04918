// RFC 8460 result types (IANA "STARTTLS Validation Result Types", §6.6) and the
// one table that maps our own failure kinds to them (RPT-GEN-06/07, Stalwart habit).

/** The registered result types, in the order of RFC 8460 §4.3. */
export const resultTypes = [
  "starttls-not-supported",
  "certificate-host-mismatch",
  "certificate-expired",
  "certificate-not-trusted",
  "validation-failure",
  "tlsa-invalid",
  "dnssec-invalid",
  "dane-required",
  "sts-policy-fetch-error",
  "sts-policy-invalid",
  "sts-webpki-invalid",
] as const;

export type ResultType = (typeof resultTypes)[number];

const known: ReadonlySet<string> = new Set(resultTypes);

/**
 * True for a registered type. Receivers still keep any other string verbatim:
 * new types arrive via Expert Review (RPT-RES-01).
 */
export function isKnownResultType(value: string): value is ResultType {
  return known.has(value);
}

/** What a report's failure-detail says about one of our own failures. */
export interface ResultMapping {
  "result-type": ResultType;
  /** Goes into `failure-reason-code` where the registry has no precise type. */
  "failure-reason-code"?: string;
}

/**
 * Our failure kinds, named like the diagnostic codes that raise them. The STS
 * policy fetch classes come first (STS-FETCH-11); TLS and DANE kinds join later.
 */
export const failureResultTypes = {
  // STS-FETCH-11: network/HTTP/status/size/timeout → fetch error (RPT-GEN-07).
  "fetch.dns": { "result-type": "sts-policy-fetch-error" },
  "fetch.connect": { "result-type": "sts-policy-fetch-error" },
  "fetch.timeout": { "result-type": "sts-policy-fetch-error" },
  "fetch.status": { "result-type": "sts-policy-fetch-error" },
  "fetch.redirect": { "result-type": "sts-policy-fetch-error" },
  "fetch.too-large": { "result-type": "sts-policy-fetch-error" },
  // STS-FETCH-11: certificate or TLS failure on the policy host → web-PKI invalid.
  "fetch.tls": { "result-type": "sts-webpki-invalid" },
  "fetch.certificate": { "result-type": "sts-webpki-invalid" },
  // STS-FETCH-11: media type, decoding or parse failure → policy invalid.
  "fetch.content-type": { "result-type": "sts-policy-invalid" },
  "fetch.encoding": { "result-type": "sts-policy-invalid" },
  "fetch.policy-invalid": { "result-type": "sts-policy-invalid" },
  // RPT-GEN-07 mtasts decision: no registered type for an MX outside the policy.
  "sts.mx-mismatch": {
    "result-type": "validation-failure",
    "failure-reason-code": "sts-mx-mismatch",
  },
} as const satisfies Record<string, ResultMapping>;

export type FailureKind = keyof typeof failureResultTypes;

export function resultTypeFor(kind: FailureKind): ResultMapping {
  return failureResultTypes[kind];
}
