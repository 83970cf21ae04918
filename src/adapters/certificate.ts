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
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(summarizeCertificate(cert));
    cert = cert.issuerCertificate;
  }
  return chain;
}

function dnsNamesOf(san: string | undefined): string[] {
  if (!san) return [];
  return san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4).toLowerCase());
}
