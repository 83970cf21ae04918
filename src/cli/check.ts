// `mtasts check <domain…>`: audit domains end to end. Exit 0 no errors,
// 1 errors found, 2 usage, 3 the check could not complete (network).

import { parseArgs } from "node:util";
import { checkDomain, type DomainResult, defaultCheckDeps } from "../check/index.ts";
import type { CheckDeps } from "../check/types.ts";
import { policyDomain } from "../core/names.ts";
import { checkFlags } from "./check-flags.ts";
import { renderCheckJson, renderCheckText } from "./check-render.ts";
import { styleFor } from "./render.ts";

export const CHECK_HELP = `Usage:
  mtasts check <domain…> [--json] [--resolver HOST:PORT] [--ca-file FILE] [--timeout SECONDS]

Audits each domain end to end: the _mta-sts and _smtp._tls TXT records, the
policy fetched by RFC 8461's rules, every MX host (STARTTLS, TLS version,
certificate chain, name and expiry) against the policy, and DANE TLSA records.

Options:
  --json              one JSON object: {"domains":[{"domain","status","findings":[…],…}]}
  --resolver H:P      DNS resolver to ask (repeatable; default: /etc/resolv.conf)
  --ca-file FILE      extra trusted root certificates (PEM) for policy and MX hosts
  --timeout SECONDS   bound on each domain's whole check (default 30)
  --https-port N      connect to policy hosts on port N instead of 443 (labs, testing)
  --smtp-port N       connect to MX hosts on port N instead of 25 (labs, testing)

Exit status: 0 no errors, 1 errors found, 2 usage error, 3 the check could not
complete (DNS failure or timeout). Codes: docs/diagnostics.md.
`;

export interface CheckIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

export async function runCheck(
  args: readonly string[],
  io: CheckIo,
  deps?: CheckDeps,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    return usage(io, err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CHECK_HELP);
    return 0;
  }
  if (positionals.length === 0) return usage(io, "check needs at least one domain");
  const domains: string[] = [];
  for (const p of positionals) {
    const d = policyDomain(p.includes("@") ? p.slice(p.lastIndexOf("@") + 1) : p);
    if (d === null)
      return usage(io, `${JSON.stringify(p)} is not a domain name (give e.g. example.com)`);
    if (!domains.includes(d)) domains.push(d);
  }
  const flags = checkFlags(values);
  if (!flags.ok) {
    if (flags.input) {
      io.stderr.write(`mtasts: ${flags.message}\n`);
      return 2;
    }
    return usage(io, flags.message);
  }
  const { servers, options, dnsTimeoutMs } = flags;
  const wired =
    deps ?? defaultCheckDeps({ dnsTimeoutMs, ...(servers.length > 0 ? { servers } : {}) });
  const results: DomainResult[] = await Promise.all(
    domains.map((d) => checkDomain(d, wired, options)),
  );
  io.stdout.write(
    values.json ? renderCheckJson(results) : renderCheckText(results, styleFor(io.stdout, io.env)),
  );
  if (results.some((r) => r.status === "error")) return 1;
  if (results.some((r) => r.status === "incomplete")) return 3;
  return 0;
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: "boolean", default: false },
      resolver: { type: "string", multiple: true },
      "ca-file": { type: "string" },
      timeout: { type: "string" },
      "https-port": { type: "string" },
      "smtp-port": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function usage(io: CheckIo, message: string): number {
  io.stderr.write(`mtasts: ${message}\n\n${CHECK_HELP}`);
  return 2;
}
