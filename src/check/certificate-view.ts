import type { CertSummary } from "../adapters/certificate.ts";
import type { CertificateView } from "./types.ts";

const DAY_MS = 86_400_000;

/** What the report shows of a certificate: names, dates, and days left at `now`. */
export function certificateView(c: CertSummary, now: Date): CertificateView {
  return {
    subject: c.subject,
    issuer: c.issuer,
    dnsNames: c.dnsNames,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    daysLeft: Math.floor((Date.parse(c.notAfter) - now.getTime()) / DAY_MS),
    fingerprint256: c.fingerprint256,
  };
}
