// Should Postfix apply DANE rather than MTA-STS for this destination? RFC 8461
// §2 says MTA-STS must not override DANE, and postfix-mta-sts-resolver does
// exactly that (its issue #67, SM-WEAK-01). The answer is decided from the
// DNSSEC-validated MX and TLSA records a validating resolver returns (the AD
// bit): docs/dane.md explains the choice of replies.

import type { Resolver } from "../adapters/dns.ts";
import type { Verdict } from "./answer.ts";

/** A DANE verdict, or null when DANE does not apply and MTA-STS should. */
export async function daneVerdict(
  domain: string,
  resolver: Resolver,
): Promise<Extract<Verdict, { kind: "dane" | "dane-only" | "temp" }> | null> {
  const mx = await resolver.mx(domain);
  // Without a validated MX RRset Postfix's DANE does not engage either
  // (RFC 7672 §2.2.1), so MTA-STS is the only authentication there is.
  if (mx.kind !== "answer" || !mx.authenticated) return null;
  const hosts = [...new Set(mx.records.map((r) => r.exchange))].filter((h) => h !== ".");
  if (hosts.length === 0) return null;
  const states = await Promise.all(hosts.map((h) => hostState(h, resolver)));
  if (states.includes("failed")) {
    // STS-DANE-02: a TLSA lookup failure in a signed zone may be an attack
    // hiding the records; falling back to MTA-STS would let it succeed.
    return { kind: "temp", reason: `DANE TLSA lookup failed for an MX host of ${domain}` };
  }
  if (states.every((s) => s === "usable")) return { kind: "dane-only" };
  if (states.some((s) => s !== "none")) return { kind: "dane" };
  return null;
}

type HostState = "usable" | "unusable" | "none" | "failed";

async function hostState(host: string, resolver: Resolver): Promise<HostState> {
  const tlsa = await resolver.tlsa(`_25._tcp.${host}`);
  switch (tlsa.kind) {
    case "answer":
      if (!tlsa.authenticated) return "none";
      // DANE-TA(2) and DANE-EE(3) are the usages SMTP can use (RFC 7672 §3.1).
      return tlsa.records.some((r) => r.usage === 2 || r.usage === 3) ? "usable" : "unusable";
    case "nxdomain":
    case "nodata":
      return "none";
    default: {
      // RFC 7672 §2.2.2: TLSA matters only for hosts whose address records
      // are themselves secure; a broken unsigned zone is not a DANE failure.
      const a = await resolver.a(host);
      return a.kind === "answer" && a.authenticated ? "failed" : "none";
    }
  }
}
