// The domain's MX hosts as DNS says today: the source of `--from-dns`
// patterns, and what `--mx` patterns are held against.

import type { Resolver } from "../adapters/dns.ts";
import { diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { type MxPattern, matchMx, parseMxPattern } from "../core/mx-pattern.ts";

export type LiveMx =
  /** Host names in preference order, lowercase, without a trailing dot. */
  | { kind: "hosts"; hosts: string[] }
  /** NXDOMAIN or NODATA: nothing published yet. */
  | { kind: "none" }
  /** RFC 7505 null MX: the domain accepts no mail. */
  | { kind: "null" }
  | { kind: "failed"; message: string };

export async function liveMx(resolver: Resolver, domain: string): Promise<LiveMx> {
  const answer = await resolver.mx(domain);
  switch (answer.kind) {
    case "answer": {
      const sorted = [...answer.records].sort((a, b) => a.preference - b.preference);
      if (sorted.some((r) => r.exchange === "." || r.exchange === "")) return { kind: "null" };
      const hosts: string[] = [];
      for (const r of sorted) if (!hosts.includes(r.exchange)) hosts.push(r.exchange);
      return { kind: "hosts", hosts };
    }
    case "nxdomain":
    case "nodata":
      return { kind: "none" };
    case "error":
      return { kind: "failed", message: answer.message };
    default:
      return { kind: "failed", message: `the MX look-up for ${domain} ended in ${answer.kind}` };
  }
}

/** STS-MX-01 against today's DNS: each uncovered MX is a warning, each idle pattern a note. */
export function coverageFindings(
  patterns: readonly string[],
  hosts: readonly string[],
): Diagnostic[] {
  const parsed: MxPattern[] = [];
  for (const p of patterns) {
    const r = parseMxPattern(p);
    if (r.ok) parsed.push(r.value);
  }
  const out: Diagnostic[] = [];
  const used = new Set<string>();
  for (const host of hosts) {
    const hit = matchMx(host, parsed);
    if (hit === null) {
      out.push(
        diag(
          "generate.mx.not-covered",
          `The live MX ${host} matches none of the patterns (${patterns.join(", ")})`,
          undefined,
          `Add \`--mx ${host}\` (or use --from-dns); in enforce mode senders would refuse to deliver to ${host}`,
        ),
      );
    } else used.add(hit.text);
  }
  for (const p of parsed) {
    if (!used.has(p.text) && !p.numeric) {
      out.push(
        diag(
          "generate.mx.unused",
          `The pattern ${p.text} matches none of the live MX hosts (${hosts.join(", ")})`,
        ),
      );
    }
  }
  return out;
}
