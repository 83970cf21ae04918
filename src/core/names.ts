// Where a Policy Domain's artefacts live. Pure string work, so every
// capability (check, resolver, host, scan) derives the names the same way.

/**
 * The Policy Domain in A-label form, lowercase, without a trailing dot, or
 * null when it is not a host name (an address literal has no policy, STS-REC-01).
 */
export function policyDomain(domain: string): string | null {
  let d = domain.trim();
  if (d.endsWith(".")) d = d.slice(0, -1);
  if (
    d.length === 0 ||
    d.length > 253 ||
    d.startsWith("[") ||
    /^[\d.]+$/.test(d) ||
    d.includes(":")
  )
    return null;
  let ascii: string;
  try {
    // WHATWG URL applies UTS-46 (non-transitional), turning U-labels into A-labels.
    ascii = new URL(`http://${d}/`).hostname;
  } catch {
    return null;
  }
  if (ascii.length === 0 || ascii.length > 253) return null;
  for (const label of ascii.split(".")) {
    if (
      label.length === 0 ||
      label.length > 63 ||
      !/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(label)
    )
      return null;
  }
  return ascii;
}

/** `_mta-sts.<domain>`: the TXT record senders query (STS-REC-01); never a parent domain. */
export function stsRecordName(domain: string): string | null {
  const d = policyDomain(domain);
  return d === null ? null : `_mta-sts.${d}`;
}

/** `_smtp._tls.<domain>`: the TLS-RPT record (RPT-REC-01). */
export function tlsrptRecordName(domain: string): string | null {
  const d = policyDomain(domain);
  return d === null ? null : `_smtp._tls.${d}`;
}

/** `mta-sts.<domain>`: the Policy Host (STS-FETCH-01). */
export function policyHost(domain: string): string | null {
  const d = policyDomain(domain);
  return d === null ? null : `mta-sts.${d}`;
}

/** `https://mta-sts.<domain>/.well-known/mta-sts.txt`, exactly (STS-FETCH-01). */
export function policyUrl(domain: string): string | null {
  const host = policyHost(domain);
  return host === null ? null : `https://${host}/.well-known/mta-sts.txt`;
}

/** The Policy Domain of a recipient address: the part after the last `@` (STS-REC-01). */
export function domainOfAddress(address: string): string | null {
  const at = address.lastIndexOf("@");
  if (at < 0) return null;
  return policyDomain(address.slice(at + 1));
}
