// DANE for SMTP (RFC 7672): do the MX's TLSA records match what it presents?
// MTA-STS never overrides a failing DANE check (STS-DANE-01), so `check`
// reports both side by side.

import { createHash } from "node:crypto";
import type { CertSummary } from "../adapters/certificate.ts";
import type { DnsAnswer } from "../adapters/dns.ts";
import type { DaneStatus } from "./types.ts";

export interface Tlsa {
  usage: number;
  selector: number;
  matchingType: number;
  data: Uint8Array;
}

export function tlsaText(r: Tlsa): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${Buffer.from(r.data).toString("hex").toUpperCase()}`;
}

function digest(matchingType: number, bytes: Uint8Array): Uint8Array | null {
  if (matchingType === 0) return bytes;
  if (matchingType === 1) return createHash("sha256").update(bytes).digest();
  if (matchingType === 2) return createHash("sha512").update(bytes).digest();
  return null;
}

function matches(r: Tlsa, cert: CertSummary): boolean {
  const source = r.selector === 0 ? cert.der : r.selector === 1 ? cert.spki : null;
  if (!source) return false;
  const d = digest(r.matchingType, source);
  return d !== null && Buffer.from(d).equals(Buffer.from(r.data));
}

/**
 * DANE-EE(3) matches the leaf; DANE-TA(2) matches a CA certificate the server
 * sent. PKIX-TA(0)/PKIX-EE(1) are unusable for SMTP (RFC 7672 §3.1).
 */
export function daneStatus(
  answer: DnsAnswer<Tlsa>,
  chain: readonly CertSummary[] | null,
): DaneStatus {
  if (answer.kind === "nxdomain" || answer.kind === "nodata") return "none";
  if (answer.kind !== "answer") return "failed";
  if (!answer.authenticated) return "insecure";
  const usable = answer.records.filter((r) => r.usage === 2 || r.usage === 3);
  if (usable.length === 0) return "unusable";
  if (!chain || chain.length === 0) return "mismatch";
  const [leaf, ...cas] = chain;
  const ok = usable.some((r) =>
    r.usage === 3 ? leaf !== undefined && matches(r, leaf) : cas.some((c) => matches(r, c)),
  );
  return ok ? "match" : "mismatch";
}
