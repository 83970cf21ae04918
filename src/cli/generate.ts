// `mtasts generate <domain>`: the policy file and the DNS records that publish
// it. Exit 0 written (warnings allowed), 1 nothing to build (no MX), 2 usage,
// 3 the live MX look-up failed (--from-dns).

import { parseArgs } from "node:util";
import { createResolver, parseServerAddress, systemServers } from "../adapters/dns.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { policyUrl } from "../core/names.ts";
import { type Generated, generate, nsupdateScript, zoneText } from "../generate/index.ts";
import { parsedOrHelp } from "./args.ts";
import { printable, styleFor } from "./render.ts";

export const GENERATE_HELP = `Usage:
  mtasts generate <domain> [--mode testing|enforce|none] [--max-age S]
                  [--mx PATTERN…] [--from-dns] [--rua URI…]
                  [--host-address IP… | --delegate-to HOST [--delegate-record NAME]]
                  [--format text|zone|nsupdate|json] [--ttl S] [--resolver HOST:PORT]

Writes the MTA-STS policy file and the DNS records that publish it: the
_mta-sts TXT record with a fresh id, _smtp._tls (with --rua), and
mta-sts.<domain> as A/AAAA (--host-address) or a CNAME (--delegate-to).
Publish the policy first, then the records (RFC 8461 §8.1).

Options:
  --mode M             testing (default), enforce or none
  --max-age S          seconds senders cache the policy, 1-31557600
                       (default: 604800 testing, 1209600 enforce, 86400 none)
  --mx PATTERN         an MX host or *.suffix pattern (repeatable)
  --from-dns           add the domain's live MX hosts as exact names
  --rua URI            TLS-RPT destination, mailto:ADDR or https://URL (repeatable)
  --host-address IP    the policy host's address (repeatable; A or AAAA)
  --delegate-to HOST   delegate to a provider's policy host (RFC 8461 §8.2):
                       prints the CNAMEs the domain publishes
  --delegate-record N  the provider's _mta-sts name to point at
                       (default: _mta-sts.<HOST without its mta-sts. label>)
  --format F           text (default), zone, nsupdate or json
  --ttl S              TTL of the records (default 3600)
  --resolver H:P       DNS resolver for the live MX (repeatable; default resolv.conf)
  --offline            do not look up the live MX (no coverage warnings)
  --now TIME           the clock for the id (ISO 8601; testing)

With --mx, every live MX the patterns leave out is a warning (stderr, or
"warnings" in JSON). --format json prints
{"policy": "<text>", "records": [{"name","type","value","ttl"}], …}.

Exit status: 0 written (warnings allowed), 1 the domain has no MX to build
from, 2 usage error, 3 the live MX look-up failed. See docs/generate.md.
`;

export interface GenerateIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const FORMATS = ["text", "zone", "nsupdate", "json"] as const;
type Format = (typeof FORMATS)[number];

export async function runGenerate(args: readonly string[], io: GenerateIo): Promise<number> {
  const parsed = parsedOrHelp(() => parse(args), io, GENERATE_HELP);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const usage = (m: string) => {
    io.stderr.write(`mtasts: ${m}\n\n${GENERATE_HELP}`);
    return 2;
  };
  if (positionals.length !== 1) {
    return usage(
      positionals.length === 0 ? "generate needs a domain" : "generate takes one domain",
    );
  }
  const format = values.format ?? "text";
  if (!(FORMATS as readonly string[]).includes(format)) {
    return usage(`--format ${JSON.stringify(format)} is not one of ${FORMATS.join(", ")}`);
  }
  const servers = [];
  for (const r of values.resolver ?? []) {
    const s = parseServerAddress(r);
    if (s === null)
      return usage(`--resolver ${JSON.stringify(r)} is not HOST:PORT (e.g. 127.0.0.1:53)`);
    servers.push(s);
  }
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime()))
    return usage(`--now ${JSON.stringify(values.now)} is not an ISO 8601 time`);
  const resolver = createResolver({
    servers: servers.length > 0 ? servers : systemServers(),
    timeoutMs: 3000,
    attempts: 2,
  });
  const outcome = await generate(
    {
      domain: positionals[0] as string,
      ...(values.mode !== undefined ? { mode: values.mode } : {}),
      ...(values["max-age"] !== undefined ? { maxAge: values["max-age"] } : {}),
      mx: values.mx ?? [],
      fromDns: values["from-dns"],
      rua: values.rua ?? [],
      hostAddresses: values["host-address"] ?? [],
      ...(values["delegate-to"] !== undefined ? { delegateTo: values["delegate-to"] } : {}),
      ...(values["delegate-record"] !== undefined
        ? { delegateRecord: values["delegate-record"] }
        : {}),
      ...(values.ttl !== undefined ? { ttl: values.ttl } : {}),
      offline: values.offline,
    },
    { resolver, now: () => now },
  );
  if (!outcome.ok) {
    const f = outcome.failure;
    if (f.kind === "usage") {
      return usage(f.errors.map((e) => `${e.argument}: ${e.message}`).join("\nmtasts: "));
    }
    io.stderr.write(`mtasts: ${f.message}\n`);
    return f.kind === "dns" ? 3 : 1;
  }
  const g = outcome.value;
  if (format === "json") {
    io.stdout.write(`${JSON.stringify(jsonView(g), null, 2)}\n`);
    return 0;
  }
  writeWarnings(io, g.warnings);
  io.stdout.write(render(g, format as Exclude<Format, "json">, io));
  return 0;
}

function jsonView(g: Generated) {
  return {
    policy: g.policy,
    records: g.records,
    domain: g.domain,
    id: g.id,
    mode: g.mode,
    max_age: g.maxAge,
    mx: g.mx,
    policy_url: policyUrl(g.domain),
    provider_records: g.provider,
    live_mx: g.liveMx,
    warnings: g.warnings,
  };
}

function render(g: Generated, format: "text" | "zone" | "nsupdate", io: GenerateIo): string {
  const url = policyUrl(g.domain) as string;
  const policyComment = [`Serve this policy at ${url} (text/plain) before publishing the records:`]
    .concat(
      g.policy
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    )
    .concat(
      g.provider.length > 0
        ? ["The provider publishes:", ...g.provider.map((r) => `  ${zoneText([r]).trimEnd()}`)]
        : [],
    );
  if (format === "zone")
    return `${policyComment.map((l) => `; ${l}`).join("\n")}\n${zoneText(g.records)}`;
  if (format === "nsupdate") return nsupdateScript(g.records, policyComment.join("\n"));
  const style = styleFor(io.stdout, io.env);
  const out: string[] = [
    style.bold(`Policy for ${g.domain}`) + style.dim(`  (serve at ${url}, text/plain)`),
    "",
    ...g.policy
      .trimEnd()
      .split("\n")
      .map((l) => `  ${l}`),
    "",
    style.bold("DNS records") +
      style.dim("  (publish after the policy is served; the _mta-sts id last)"),
    "",
    ...zoneText(g.records)
      .trimEnd()
      .split("\n")
      .map((l) => `  ${l}`),
  ];
  if (g.provider.length > 0) {
    out.push(
      "",
      style.bold("The provider publishes"),
      "",
      ...g.provider.map((r) => `  ${zoneText([r]).trimEnd()}`),
    );
  }
  return `${out.join("\n")}\n`;
}

function writeWarnings(io: GenerateIo, warnings: readonly Diagnostic[]): void {
  for (const w of warnings)
    io.stderr.write(`mtasts: ${w.severity} ${w.code}: ${printable(w.message)}\n`);
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      mode: { type: "string" },
      "max-age": { type: "string" },
      mx: { type: "string", multiple: true },
      "from-dns": { type: "boolean", default: false },
      rua: { type: "string", multiple: true },
      "host-address": { type: "string", multiple: true },
      "delegate-to": { type: "string" },
      "delegate-record": { type: "string" },
      format: { type: "string" },
      ttl: { type: "string" },
      resolver: { type: "string", multiple: true },
      offline: { type: "boolean", default: false },
      now: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
