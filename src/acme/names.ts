// Which names can be ordered: host names only (RFC 8555 §7.1.4 "dns"
// identifiers), no wildcards (HTTP-01 and TLS-ALPN-01 cannot prove one,
// RFC 8555 §8.3, RFC 8737 §3), no IP addresses.

import { AcmeError } from "./errors.ts";

const IP_LIKE = /^[\d.]+$|:/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Lowercased names without a trailing dot; throws naming every name that cannot be ordered. */
export function checkNames(names: readonly string[]): string[] {
  const out: string[] = [];
  const bad: string[] = [];
  for (const raw of names) {
    const name = normalName(raw);
    if (name.startsWith("*."))
      bad.push(
        `${raw}: a wildcard needs DNS-01, which mtasts does not do (HTTP-01 and TLS-ALPN-01 cannot validate wildcards); list each mta-sts.<domain> name`,
      );
    else if (IP_LIKE.test(name))
      bad.push(`${raw}: an IP address; certificates are ordered for host names (mta-sts.<domain>)`);
    else if (!HOSTNAME.test(name))
      bad.push(`${JSON.stringify(raw)}: not a host name (letters, digits, hyphens, dots)`);
    else if (!out.includes(name)) out.push(name);
  }
  if (bad.length > 0)
    throw new AcmeError(`cannot order certificates for: ${bad.join("; ")}`, {
      domain: "",
      kind: "permanent",
    });
  return out;
}

/** The form names are kept under: lowercase, no trailing dot. */
export const normalName = (name: string): string =>
  String(name).trim().toLowerCase().replace(/\.$/, "");
