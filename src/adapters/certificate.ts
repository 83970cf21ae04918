// What we keep of an X.509 certificate seen on a TLS connection: enough to
// explain a failure to a person (names, dates, issuer) and to match DANE TLSA
// records (the DER of the certificate and of its public key).

import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, PeerCertificate } from "node:tls";

export interface CertSummary {
  subject: string;
  issuer: string;
  /** SAN dNSName entries only: names are never taken from the CN (STS-FETCH-02, STS-CERT-04). */
  dnsNames: string[];
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  selfSigned: boolean;
  /** DER of the whole certificate (TLSA selector 0). */
  der: Uint8Array;
  /** DER of the SubjectPublicKeyInfo (TLSA selector 1). */
  spki: Uint8Array;
}

export function summarizeCertificate(cert: PeerCertificate): CertSummary {
  const x = new X509Certificate(cert.raw);
  return {
    subject: x.subject.replaceAll("\n", ", "),
    issuer: x.issuer.replaceAll("\n", ", "),
    dnsNames: dnsNamesOf(x.subjectAltName),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
    selfSigned: x.checkIssued(x),
    der: new Uint8Array(x.raw),
    spki: new Uint8Array(x.publicKey.export({ type: "spki", format: "der" })),
  };
}

/** The presented chain, leaf first, as far as the peer sent it (stops at a self-issued cert). */
export function summarizeChain(leaf: DetailedPeerCertificate): CertSummary[] {
  const chain: CertSummary[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = leaf;
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(summarizeCertificate(cert));
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * The DNS entries of Node's `subjectaltname` text. Node writes a value that
 * holds a comma, quote or control character as a JSON string
 * (`DNS:"a, DNS:b"`), so the text is tokenised, not split on commas: a naive
 * split would turn one odd SAN into a forged second entry. Quoted values are
 * kept as written (they can never match a host name).
 */
export function dnsNamesOf(san: string | undefined): string[] {
  const names: string[] = [];
  if (!san) return names;
  let at = 0;
  while (at < san.length) {
    const colon = san.indexOf(":", at);
    if (colon < 0) break;
    const type = san.slice(at, colon);
    let value: string;
    let next: number;
    if (san[colon + 1] === '"') {
      let end = colon + 2;
      while (end < san.length && san[end] !== '"') end += san[end] === "\\" ? 2 : 1;
      try {
        value = JSON.parse(san.slice(colon + 1, end + 1)) as string;
      } catch {
        break;
      }
      next = end + 1;
    } else {
      const comma = san.indexOf(", ", colon);
      next = comma < 0 ? san.length : comma;
      value = san.slice(colon + 1, next);
    }
    if (type === "DNS") names.push(value.toLowerCase());
    if (san.startsWith(", ", next)) next += 2;
    else if (next < san.length) break;
    at = next;
  }
  return names;
}

/** OpenSSL/Node verification codes, in words, for one presented certificate (STS-FETCH-02, STS-CERT-03). */
export function describeCertificateError(
  code: string,
  host: string,
  cert: CertSummary | undefined,
): string {
  const issuer = cert ? ` (issuer: ${cert.issuer})` : "";
  switch (code) {
    case "hostname-mismatch":
      return cert && cert.dnsNames.length > 0
        ? `The certificate's names (${cert.dnsNames.join(", ")}) do not cover ${host}`
        : `The certificate has no subjectAltName DNS entry, so it covers no host name (the subject CN is not used)`;
    case "CERT_HAS_EXPIRED":
      return `The certificate expired${cert ? ` on ${cert.notAfter}` : ""}`;
    case "CERT_NOT_YET_VALID":
      return `The certificate is not valid yet${cert ? `: it starts on ${cert.notBefore}` : ""}`;
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return "The certificate is self-signed";
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
      return `The certificate does not chain to a trusted root${issuer}`;
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
      return `The server sent no usable intermediate certificate, so the chain does not reach a trusted root${issuer}`;
    case "EE_KEY_TOO_SMALL":
      return "The certificate's key is too small (RSA below 2048 bits)";
    default:
      return `The certificate was rejected (${code})`;
  }
}
