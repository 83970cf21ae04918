// Matching a host name against a certificate's DNS-IDs (RFC 6125 §6.4), as
// MTA-STS requires for the policy host (STS-FETCH-02) and MX hosts (STS-CERT-04).

/**
 * The SAN dNSName that covers `host`, or null when none does.
 *
 * - Only SAN dNSName entries count: a name that is only in the subject CN never
 *   matches (no CN fallback; callers pass the SAN list, empty for a CN-only
 *   certificate).
 * - Comparison is ASCII case-insensitive; one trailing dot on either side is ignored.
 * - `*` is allowed only as the complete left-most label and stands for exactly
 *   one non-empty label: `*.example.com` covers `mta-sts.example.com`, not
 *   `example.com` nor `a.b.example.com`. Partial-label wildcards (`mta*.example.com`,
 *   `*sts.example.com`) never match (mtasts decision, STS-CERT-04), nor does a
 *   wildcard over a single label (`*.com`) or a `*` anywhere else.
 * - A host that is an IP address or not a well-formed name matches nothing.
 */
export function certificateNameMatches(host: string, dnsNames: readonly string[]): string | null {
  const wanted = normalise(host);
  if (wanted === null || wanted.includes("*") || isIpAddress(wanted)) return null;
  const wantedLabels = wanted.split(".");
  for (const san of dnsNames) {
    const name = normalise(san);
    if (name === null) continue;
    if (!name.includes("*")) {
      if (name === wanted) return san;
      continue;
    }
    // RFC 6125 §6.4.3, narrowed: the wildcard is the whole left-most label, only there.
    const labels = name.split(".");
    const [first, ...rest] = labels;
    if (first !== "*" || rest.some((l) => l.includes("*")) || rest.length < 2) continue;
    if (wantedLabels.length !== labels.length) continue;
    if (rest.every((label, i) => label === wantedLabels[i + 1])) return san;
  }
  return null;
}

/** Lowercase ASCII name without one trailing dot, or null when it is not a plausible DNS name. */
function normalise(name: string): string | null {
  let n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253 || !/^[\x21-\x7e]+$/.test(n)) return null;
  n = n.toLowerCase();
  if (n.split(".").some((label) => label.length === 0 || label.length > 63)) return null;
  return n;
}

function isIpAddress(name: string): boolean {
  return name.includes(":") || /^[0-9.]+$/.test(name);
}
