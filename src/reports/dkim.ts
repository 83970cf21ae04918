// DKIM verification for reports that arrive by mail (RFC 8460 §3, RPT-DLV-06):
// mailauth does the cryptography; this file chooses which of a message's
// signatures speaks for it and maps mailauth's vocabulary onto ours. The DNS
// lookups go through our own stub resolver (bounded time, servers chosen by
// the caller), so tests publish keys in the lab's DNS server.

import type { DNSResolver } from "mailauth";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { createResolver, type Resolver } from "../adapters/dns.ts";
import type { DkimVerdict, DkimVerifier } from "./types.ts";

/** The shape mailauth asks DNS through: TXT answers as arrays of character-strings. */
export type DkimDnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface DkimVerifierOptions {
  /** Default: our stub resolver over /etc/resolv.conf's servers. */
  resolver?: DkimDnsResolver;
  /** Signature expiry (x=) is judged against this clock; default: now. */
  now?: () => Date;
}

/** What mailauth reports for one signature (the fields we read). */
interface SignatureResult {
  signingDomain?: string;
  selector?: string;
  status?: { result?: string; comment?: string };
  canonBodyLengthLimited?: boolean;
  /** The key record as published. */
  rr?: string;
}

type Rank = DkimVerdict["result"];

// When no signature passes, the verdict is the one most worth retrying or
// reading: a DNS hiccup may pass tomorrow, a bad signature is a real failure,
// a missing key is the sender's configuration.
const ORDER: Rank[] = ["pass", "temperror", "fail", "permerror", "none"];

export function createDkimVerifier(options: DkimVerifierOptions = {}): DkimVerifier {
  const resolver = options.resolver ?? dkimTxtResolver(createResolver());
  const now = options.now ?? (() => new Date());
  return async (message) => {
    try {
      const result = await dkimVerify(Buffer.from(message), {
        // mailauth's declared type is narrower than what it accepts (a thrown code is an answer too).
        resolver: resolver as DNSResolver,
        curTime: now(),
      });
      // RPT-DLV-04: the submitter is named in its own header; the From domain stands in without it.
      const submitter =
        headerValue(result.headers?.parsed, "tls-report-submitter") ??
        result.headerFrom?.[0]?.split("@").pop() ??
        null;
      return chooseVerdict(result.results as SignatureResult[], submitter);
    } catch (err) {
      // A message mailauth cannot even walk is not "unsigned": say so, and let
      // the ingest policy decide; never reject (the DkimVerifier contract).
      const reason = err instanceof Error ? err.message : String(err);
      return { result: "temperror", domain: null, detail: `DKIM check failed: ${reason}` };
    }
  };
}

/**
 * Our resolver in mailauth's shape: NXDOMAIN and NODATA become the error
 * codes mailauth reads as "no key" (a permanent error); every other failure
 * becomes a code it reads as a DNS failure (a temporary error).
 */
export function dkimTxtResolver(resolver: Resolver): DkimDnsResolver {
  return async (name, rrtype) => {
    if (rrtype.toUpperCase() !== "TXT") throw dnsError("ENOTIMP", `${rrtype} lookups not offered`);
    const answer = await resolver.txt(name);
    switch (answer.kind) {
      case "answer":
        // Strings of one RR are already joined (RFC 6376 §3.6.2.2 joins them too).
        return answer.records.map((text) => [text]);
      case "nxdomain":
        throw dnsError("ENOTFOUND", `${name}: NXDOMAIN`);
      case "nodata":
        throw dnsError("ENODATA", `${name}: no TXT record`);
      case "servfail":
        throw dnsError("ESERVFAIL", `${name}: SERVFAIL`);
      case "refused":
        throw dnsError("EREFUSED", `${name}: REFUSED`);
      case "timeout":
        throw dnsError("ETIMEOUT", `${name}: no answer`);
      default:
        throw dnsError("EDNSERROR", `${name}: ${answer.message}`);
    }
  };
}

function dnsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * One verdict for the message. A passing signature wins, preferring one whose
 * d= is the TLS-Report-Submitter domain or a parent of it (RPT-DLV-06), so
 * ingest sees the signature that can vouch for the report; otherwise the
 * highest-ranked failure in ORDER.
 */
export function chooseVerdict(results: SignatureResult[], submitter: string | null): DkimVerdict {
  const verdicts = results.map(toVerdict);
  const passing = verdicts.filter((v) => v.result === "pass");
  if (passing.length > 0) {
    const aligned = submitter ? passing.find((v) => aligns(v.domain, submitter)) : undefined;
    return aligned ?? (passing[0] as DkimVerdict);
  }
  for (const rank of ORDER) {
    const found = verdicts.find((v) => v.result === rank);
    if (found) return found;
  }
  return { result: "none", domain: null, detail: "message not signed" };
}

function toVerdict(r: SignatureResult): DkimVerdict {
  const domain = r.signingDomain ? r.signingDomain.toLowerCase() : null;
  const comment = r.status?.comment ?? "";
  const where = domain ? `d=${domain}${r.selector ? ` s=${r.selector}` : ""}` : "signature";
  const detail = (what: string) => `${where}: ${what}`;
  switch (r.status?.result) {
    case "pass":
      // RFC 8460 §3: l= lets anyone append to a signed report; such a
      // signature does not authenticate the report.
      if (r.canonBodyLengthLimited) {
        return {
          result: "fail",
          domain,
          detail: detail("signature uses l=, which RFC 8460 §3 forbids"),
        };
      }
      // RFC 8460 §3: the key SHOULD say s=tlsrpt; receivers MAY ignore reports
      // whose key does not. We only say so: many reporters sign with their mail key.
      return {
        result: "pass",
        domain,
        detail: detail(
          r.rr && !/(?:^|;)\s*s=[^;]*\b(?:tlsrpt|\*)/i.test(r.rr)
            ? "signature verified (the key has no s=tlsrpt service type)"
            : "signature verified",
        ),
      };
    case "fail":
      return { result: "fail", domain, detail: detail(comment || "bad signature") };
    case "none":
      return { result: "none", domain: null, detail: "message not signed" };
    case "temperror":
    case "temperr":
      return { result: "temperror", domain, detail: detail(comment || "temporary error") };
    case "policy":
      return { result: "permerror", domain, detail: detail(comment || "key too weak") };
    case "neutral":
      // mailauth says "neutral" for a body hash mismatch (the body was altered
      // after signing: RFC 6376 §6.1.3 makes that a failure) and for keys that
      // are missing or unusable (permanent errors in RFC 6376 §6.1.2 terms).
      if (/body hash/i.test(comment)) return { result: "fail", domain, detail: detail(comment) };
      return { result: "permerror", domain, detail: detail(comment || "signature unusable") };
    default:
      return { result: "permerror", domain, detail: detail(comment || "unverifiable signature") };
  }
}

/** d= equal to the submitter domain or one of its parents (RPT-DLV-06). */
function aligns(domain: string | null, submitter: string): boolean {
  if (!domain) return false;
  const s = submitter.toLowerCase().replace(/\.$/, "");
  return s === domain || s.endsWith(`.${domain}`);
}

function headerValue(
  parsed: ReadonlyArray<{ key: string; line: string | Buffer }> | undefined,
  name: string,
): string | null {
  const found = parsed?.find((h) => h.key === name);
  if (!found) return null;
  const line = typeof found.line === "string" ? found.line : found.line.toString("latin1");
  const value = line
    .slice(line.indexOf(":") + 1)
    .replace(/\s+/g, " ")
    .trim();
  return value === "" ? null : value;
}
