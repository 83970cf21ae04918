// `mtasts rollout <domain> --to MODE`: pre-flight, then the policy file, then
// the `_mta-sts` id (RFC 2136 or printed). Exit 0 done (or printed, or a dry
// run that would pass), 1 pre-flight failed (nothing changed), 2 usage,
// 3 the policy was written but the id was not published (finish by hand).

import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { createResolver, systemServers } from "../adapters/dns.ts";
import { parseTsigKey, type TsigKey } from "../adapters/dns-update.ts";
import { checkDomain as checkLive, defaultCheckDeps } from "../check/index.ts";
import { checkDomain, checkMaxAge, checkMode, checkPatterns, checkTtl } from "../generate/index.ts";
import {
  dnsPublisher,
  policyDirectory,
  type RolloutDeps,
  type RolloutOutcome,
  rollout,
  servedPolicy,
} from "../rollout/index.ts";
import { parsedOrHelp } from "./args.ts";
import { checkFlags } from "./check-flags.ts";
import { humanDuration, printable, renderDiagnostics, type Style, styleFor } from "./render.ts";
import { parseUpdateServer, type UpdateServer, updateServerAddress } from "./update-server.ts";

export const ROLLOUT_HELP = `Usage:
  mtasts rollout <domain> --to testing|enforce|none [--policies DIR]
                 [--update-server HOST:PORT (--tsig-key NAME:ALG:SECRET | --tsig-file FILE)]
                 [--db STORE [--days N]] [--mx PATTERN…] [--max-age S]
                 [--force] [--dry-run] [--json]

Moves a domain's MTA-STS policy to a new mode, safely: the check must pass
(enforce: every MX covered and its certificate valid; with --db, no failed
sessions in TLS-RPT reports of the last N days), then the policy file is
written and served, then the _mta-sts id changes (RFC 8461 §8.1). --to none
withdraws MTA-STS (§8.3) and prints when the records may be deleted.

Options:
  --to MODE             testing, enforce or none
  --policies DIR        write DIR/<domain>.txt (what 'mtasts host --policies DIR' serves)
  --update-server H:P   publish the id by RFC 2136 dynamic update (needs --policies);
                        H is an address or the primary nameserver's name
  --tsig-key N:ALG:B64  TSIG key for the update (hmac-sha256 or hmac-sha512)
  --tsig-file FILE      the key as a named.conf key statement (tsig-keygen output)
  --zone ZONE           the zone to update (default: the domain)
  --db STORE            TLS-RPT report store (SQLite file or postgres:// URL)
  --days N              report window for --db (default 7)
  --mx PATTERN          the new policy's patterns (default: the served policy's,
                        else the live MX names)
  --max-age S           default 604800 testing, 1209600 enforce, 86400 none
  --ttl S               TTL of the TXT record (default 3600)
  --force               go ahead despite pre-flight errors (they are still shown)
  --dry-run             show everything, change nothing
  --no-verify           do not fetch the policy back before changing the id
  --json                print the outcome as one JSON object
  --resolver H:P, --ca-file FILE, --timeout S, --https-port N, --smtp-port N
                        as for 'mtasts check'
  --now TIME            the clock for the id and dates (ISO 8601; testing)

Without --update-server, the records are printed in the order to publish them.

Exit status: 0 done, printed, or a dry run that would pass; 1 pre-flight
failed (nothing changed); 2 usage error; 3 the policy was written but the id
was not published (the message says how to finish by hand). See docs/rollout.md.
`;

export interface RolloutIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

export async function runRollout(args: readonly string[], io: RolloutIo): Promise<number> {
  const parsed = parsedOrHelp(() => parse(args), io, ROLLOUT_HELP);
  if (typeof parsed === "number") return parsed;
  const { values: v, positionals } = parsed;
  const usage = (m: string) => {
    io.stderr.write(`mtasts: ${m}\n\n${ROLLOUT_HELP}`);
    return 2;
  };
  if (positionals.length !== 1)
    return usage(positionals.length === 0 ? "rollout needs a domain" : "rollout takes one domain");
  const domain = checkDomain(positionals[0] as string);
  if (!domain.ok) return usage(`${domain.error.argument}: ${domain.error.message}`);
  if (v.to === undefined) return usage("rollout needs --to testing|enforce|none");
  const to = checkMode(v.to, "--to");
  if (!to.ok) return usage(`--to: ${to.error.message}`);
  const maxAge = v["max-age"] === undefined ? null : checkMaxAge(v["max-age"], to.value);
  if (maxAge !== null && !maxAge.ok) return usage(`--max-age: ${maxAge.error.message}`);
  const mx = checkPatterns(v.mx ?? []);
  if (!mx.ok) return usage(`--mx: ${mx.error.message}`);
  const ttl = checkTtl(v.ttl);
  if (!ttl.ok) return usage(`--ttl: ${ttl.error.message}`);
  const days = Number(v.days ?? "7");
  if (!Number.isInteger(days) || days < 1 || days > 366)
    return usage(`--days ${JSON.stringify(v.days)} must be 1-366`);
  const now = v.now === undefined ? null : new Date(v.now);
  if (now !== null && Number.isNaN(now.getTime()))
    return usage(`--now ${JSON.stringify(v.now)} is not an ISO 8601 time`);
  const flags = checkFlags(v);
  if (!flags.ok) return usage(flags.message);
  const { servers, options, dnsTimeoutMs } = flags;
  let dnsTarget: UpdateServer | null = null;
  let key: TsigKey | undefined;
  if (v["update-server"] !== undefined) {
    dnsTarget = parseUpdateServer(v["update-server"]);
    if (dnsTarget === null)
      return usage(
        `--update-server ${JSON.stringify(v["update-server"])} is not HOST[:PORT] (an IP address or a host name)`,
      );
    if (v.policies === undefined) {
      return usage(
        "--update-server needs --policies DIR: the policy must be written and served before the id changes (RFC 8461 §8.1)",
      );
    }
  }
  if (v["tsig-key"] !== undefined && v["tsig-file"] !== undefined)
    return usage("give --tsig-key or --tsig-file, not both");
  if (v["tsig-key"] !== undefined || v["tsig-file"] !== undefined) {
    if (dnsTarget === null) return usage("--tsig-key/--tsig-file apply only with --update-server");
    let text = v["tsig-key"] ?? "";
    if (v["tsig-file"] !== undefined) {
      try {
        text = readFileSync(v["tsig-file"], "utf8");
      } catch (err) {
        return usage(`cannot read --tsig-file ${v["tsig-file"]}: ${(err as Error).message}`);
      }
    }
    const parsedKey = parseTsigKey(text);
    if ("error" in parsedKey)
      return usage(`${v["tsig-file"] ? "--tsig-file" : "--tsig-key"}: ${parsedKey.error}`);
    key = parsedKey;
  }
  const zone = v.zone === undefined ? domain.value : checkDomain(v.zone, "--zone");
  if (typeof zone !== "string" && !zone.ok) return usage(`--zone: ${zone.error.message}`);

  const checkDeps = defaultCheckDeps({ dnsTimeoutMs, ...(servers.length > 0 ? { servers } : {}) });
  const resolver = createResolver({
    servers: servers.length > 0 ? servers : systemServers(),
    timeoutMs: dnsTimeoutMs,
  });
  const deps: RolloutDeps = {
    check: (d) => checkLive(d, checkDeps, options),
    now: () => now ?? new Date(),
    served: servedPolicy({
      resolver,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.httpsPort !== undefined ? { port: options.httpsPort } : {}),
    }),
  };
  if (v.policies !== undefined) {
    const problem = directoryProblem(v.policies, !v["dry-run"]);
    if (problem !== null) return usage(`--policies ${JSON.stringify(v.policies)} ${problem}`);
    deps.files = policyDirectory(v.policies);
  }
  if (dnsTarget !== null) {
    const target = await updateServerAddress(dnsTarget, resolver);
    if ("error" in target) {
      io.stderr.write(`mtasts: ${target.error}; nothing was changed\n`);
      return 3;
    }
    deps.dns = dnsPublisher(typeof zone === "string" ? zone : zone.value, target, key);
  }
  let close = async () => {};
  if (v.db !== undefined) {
    const { openReportStore } = await import("../reports/store.ts");
    try {
      const store = await openReportStore(v.db, { create: false });
      close = () => store.close();
      deps.failures = (d, since) => store.summary({ domain: d, since }, "result-type");
    } catch (err) {
      io.stderr.write(`mtasts: cannot open the report store --db: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let outcome: Awaited<ReturnType<typeof rollout>>;
  try {
    outcome = await rollout(
      {
        domain: domain.value,
        to: to.value,
        ...(maxAge?.ok ? { maxAge: maxAge.value } : {}),
        ...(mx.value.length > 0 ? { mx: mx.value } : {}),
        force: v.force,
        dryRun: v["dry-run"],
        days,
        ttl: ttl.value,
        verify: !v["no-verify"],
      },
      deps,
    );
  } catch (err) {
    // Only the pre-flight's inputs can fail this way (the policy directory or
    // the report store), and they are read before anything is written.
    io.stderr.write(`mtasts: ${(err as Error).message}; nothing was changed\n`);
    return 1;
  } finally {
    await close().catch(() => {});
  }
  io.stdout.write(
    v.json
      ? `${JSON.stringify(outcome, null, 2)}\n`
      : renderRollout(outcome, styleFor(io.stdout, io.env)),
  );
  if (outcome.status === "blocked") return 1;
  if (outcome.status === "not-served" || outcome.status === "dns-failed") return 3;
  return 0;
}

/** Why DIR cannot take the policy file, or null: checked before the pre-flight, so a typo costs nothing. */
function directoryProblem(dir: string, write: boolean): string | null {
  try {
    if (!statSync(dir).isDirectory()) return "is not a directory";
    accessSync(dir, write ? constants.R_OK | constants.W_OK : constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return "does not exist (create it, or give the directory mtasts host --policies serves)";
    if (code === "EACCES") return `is not ${write ? "writable" : "readable"} by this user`;
    return `cannot be used: ${(err as Error).message}`;
  }
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      to: { type: "string" },
      policies: { type: "string" },
      "update-server": { type: "string" },
      "tsig-key": { type: "string" },
      "tsig-file": { type: "string" },
      zone: { type: "string" },
      db: { type: "string" },
      days: { type: "string" },
      mx: { type: "string", multiple: true },
      "max-age": { type: "string" },
      ttl: { type: "string" },
      force: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "no-verify": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      resolver: { type: "string", multiple: true },
      "ca-file": { type: "string" },
      timeout: { type: "string" },
      "https-port": { type: "string" },
      "smtp-port": { type: "string" },
      now: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

const STATE_LABEL = {
  done: "done",
  todo: "to do",
  would: "would",
  failed: "FAILED",
  skipped: "skipped",
} as const;

const CLOSING: Record<RolloutOutcome["status"], string> = {
  done: "Done: the policy is served and the new id is published.",
  printed: "Nothing was published in DNS: do the steps marked 'to do', in this order.",
  "dry-run": "Dry run: nothing was changed.",
  blocked: "Nothing was changed: the pre-flight failed (fix the errors above, or --force).",
  "not-served":
    "The policy file is written but the id was NOT changed: finish by hand with the steps marked 'to do' or 'FAILED', in order.",
  "dns-failed":
    "The policy file is written and served, but the DNS update failed: publish the record of the FAILED step by hand.",
};

function renderRollout(o: RolloutOutcome, style: Style): string {
  const p = o.previous;
  const now =
    p.mode === null
      ? "no policy today"
      : `today: mode ${p.mode}${p.maxAge !== null ? `, max_age ${p.maxAge} (${humanDuration(p.maxAge)})` : ""}${p.id !== null ? `, id ${p.id}` : ""}`;
  const out: string[] = [
    style.bold(`Rollout of ${o.domain} to ${o.to}`) + style.dim(`  (${printable(now)})`),
    "",
  ];
  const passed = o.blockers.length === 0;
  out.push(
    `Pre-flight: ${passed ? style.ok("passed") : o.status === "blocked" ? style.bad(`blocked (${o.blockers.length})`) : style.bad(`${o.blockers.length} problem(s)`)}`,
  );
  out.push(...renderDiagnostics([...o.blockers, ...o.warnings], style));
  if (o.failures !== null) {
    out.push(
      "",
      o.failures.failed === 0
        ? `TLS-RPT reports since ${o.failures.since.slice(0, 10)}: no failed sessions`
        : `TLS-RPT reports since ${o.failures.since.slice(0, 10)}: ${o.failures.failed} failed sessions`,
      ...o.failures.rows.map(
        (r) => `  ${printable(r.resultType ?? "unknown")}: ${r.failed} in ${r.reports} report(s)`,
      ),
    );
  }
  out.push("", style.bold("Steps"));
  o.steps.forEach((s, i) => {
    const label =
      s.state === "failed"
        ? style.bad(STATE_LABEL[s.state])
        : s.state === "done"
          ? style.ok(STATE_LABEL[s.state])
          : STATE_LABEL[s.state];
    out.push("", `  ${i + 1}. [${label}] ${printable(s.summary)}`);
    if (s.text !== undefined)
      out.push(
        ...s.text
          .trimEnd()
          .split("\n")
          .map((l) => style.dim(`       ${l}`)),
      );
  });
  if (o.removeAfter !== null) out.push("", `Earliest removal: ${o.removeAfter}`);
  if (o.error !== null) out.push("", style.bad(`mtasts: ${printable(o.error)}`));
  out.push("", CLOSING[o.status]);
  return `${out.join("\n")}\n`;
}
