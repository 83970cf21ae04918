// `mtasts scan`: survey many domains for MTA-STS and TLS-RPT, and
// `mtasts scan diff OLD NEW`. Flags become a ScanPlan; the scan capability
// does the rest. Exit 0 finished with no domain in error, 1 finished with
// some, 2 usage or unreadable input, 3 interrupted (results so far are kept).

import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { type DnsServerAddress, parseServerAddress } from "../adapters/dns.ts";
import { DEFAULT_TIMEOUT_MS } from "../check/index.ts";
import type { CheckOptions } from "../check/types.ts";
import { policyDomain } from "../core/names.ts";
import type { Format, ScanPlan } from "../scan/index.ts";
import { styleFor } from "./render.ts";

export const SCAN_HELP = `Usage:
  mtasts scan [DOMAIN…] [--from FILE|-] [--from-log FILE…] [options]
  mtasts scan diff OLD.ndjson NEW.ndjson [--json]

Surveys many domains for MTA-STS and TLS-RPT: for each, the _mta-sts record,
the policy fetched by RFC 8461's rules (only when the record exists), its mode
and max_age, the MX records against it, and the _smtp._tls record. Results
are written as each domain finishes; memory does not grow with the list.

Input (any mix; each domain is scanned once):
  DOMAIN…             domains (or addresses) as arguments
  --from FILE|-       a list: one domain a line, # comments, or rank,domain
  --from-log FILE…    mail logs (plain or gzip): Postfix qmgr from=/smtp to=,
                      Exim <= / => / -> lines; senders' and recipients' domains.
                      Takes every following argument up to the next option

Output (default: one line per domain for people):
  --ndjson            one JSON object a line: {"domain","status","mode","findings",…}
                      status ok|warning|error|none (none: no _mta-sts record)
  --csv               domain,status,mode,max_age,tlsrpt,mx,errors,warnings,elapsed_ms
  --json              one document {"domains":[…],"summary":{…}} (valid once finished)
  --summary           adoption, TLS-RPT and the commonest problems at the end;
                      alone, only the summary; beside --ndjson/--csv, on stderr
  --resume FILE       append ndjson results to FILE, skipping domains it already
                      has (created if missing): rerun the same command after an
                      interruption to go on

Checks and politeness:
  --probe-mx          also connect to each MX: STARTTLS, TLS version, certificate,
                      DANE, as mtasts check does (default: no SMTP connection)
  --concurrency N     domains in flight at once (default 50)
  --rate N            DNS questions a second to each resolver (default 500)
  --timeout SECONDS   bound on each domain (default ${DEFAULT_TIMEOUT_MS / 1000})
  --resolver H:P      DNS resolver (repeatable: domains are spread over them;
                      default: /etc/resolv.conf)
  --ca-file FILE      extra trusted root certificates (PEM)
  --https-port N      policy hosts on port N instead of 443 (labs, testing)
  --smtp-port N       MX hosts on port N instead of 25 (labs, testing)

A progress line (done/total, rate, ETA, errors) is shown on stderr when it is
a terminal. Ctrl-C stops at once, keeping every complete result.

Exit status: 0 finished, no domain in error; 1 finished, some domain in error
(scan diff: some domain newly broken); 2 usage error or unreadable input;
3 interrupted. Finding codes: docs/diagnostics.md.
`;

export interface ScanCliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  stdin?: Readable;
  signal?: AbortSignal;
}

class UsageError extends Error {}

export async function runScan(args: readonly string[], io: ScanCliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expandFromLog(args));
  } catch (err) {
    return usage(io, err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(SCAN_HELP);
    return 0;
  }
  if (positionals[0] === "diff") return runDiff(positionals.slice(1), values.json, io);
  let plan: ScanPlan;
  try {
    plan = planOf(values, positionals);
  } catch (err) {
    if (err instanceof UsageError) return usage(io, err.message);
    throw err;
  }
  return runInThread(plan, io);
}

/**
 * The session runs in a worker thread with a capped heap (src/scan/thread.ts);
 * Ctrl-C and SIGTERM stop it cleanly (a second Ctrl-C kills at once).
 */
async function runInThread(plan: ScanPlan, io: ScanCliIo): Promise<number> {
  const { runScanThread } = await import("../scan/index.ts");
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (!io.signal) {
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
  try {
    const result = await runScanThread(plan, {
      stdout: io.stdout,
      stderr: io.stderr,
      stdin: io.stdin ?? process.stdin,
      // Whatever styleFor decides (TTY, NO_COLOR, TERM=dumb), the thread does too.
      color: styleFor(io.stdout, io.env).bold("x") !== "x",
      signal: io.signal ?? controller.signal,
    });
    if (result.stopped) return 3;
    return result.errors > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

type Values = ReturnType<typeof parse>["values"];

function planOf(values: Values, positionals: string[]): ScanPlan {
  const domains: string[] = [];
  for (const p of positionals) {
    if (policyDomain(p.includes("@") ? p.slice(p.lastIndexOf("@") + 1) : p) === null)
      throw new UsageError(`${JSON.stringify(p)} is not a domain name (give e.g. example.com)`);
    domains.push(p);
  }
  const lists = values.from ?? [];
  const logs = values["from-log"] ?? [];
  if (domains.length + lists.length + logs.length === 0)
    throw new UsageError("scan needs domains: as arguments, --from FILE or --from-log FILE…");
  if ([...lists, ...logs].filter((f) => f === "-").length > 1)
    throw new UsageError("standard input (-) can be read only once");
  for (const f of [...lists, ...logs]) if (f !== "-") readable(f);

  const formats = (["ndjson", "csv", "json"] as const).filter((f) => values[f]);
  if (formats.length > 1)
    throw new UsageError(
      `choose one output format, not ${formats.map((f) => `--${f}`).join(" and ")}`,
    );
  let format: Format | null = formats[0] ?? (values.summary ? null : "text");
  if (values.resume !== undefined) {
    if (format !== null && format !== "text" && format !== "ndjson")
      throw new UsageError(
        "--resume writes ndjson to its file; it cannot be combined with --csv or --json",
      );
    format = "ndjson";
    const at = statSafe(values.resume);
    if (at?.isDirectory()) throw new UsageError(`--resume ${values.resume} is a directory`);
    try {
      // It is read, then appended to; or created in its folder.
      if (at) accessSync(values.resume, constants.R_OK | constants.W_OK);
      else accessSync(dirname(resolve(values.resume)), constants.W_OK);
    } catch (err) {
      throw new UsageError(`--resume ${values.resume}: ${(err as Error).message}`);
    }
  }

  const resolvers: DnsServerAddress[] = [];
  for (const r of values.resolver ?? []) {
    const s = parseServerAddress(r);
    if (s === null)
      throw new UsageError(
        `--resolver ${JSON.stringify(r)} is not HOST:PORT (e.g. 127.0.0.1:53 or [::1]:53)`,
      );
    resolvers.push(s);
  }
  const check: CheckOptions = {};
  const timeout =
    number(values.timeout, "--timeout", 0.1, 3600, "a number of seconds") ??
    DEFAULT_TIMEOUT_MS / 1000;
  check.timeoutMs = Math.round(timeout * 1000);
  const httpsPort = integer(values["https-port"], "--https-port", 1, 65535);
  if (httpsPort !== undefined) check.httpsPort = httpsPort;
  const smtpPort = integer(values["smtp-port"], "--smtp-port", 1, 65535);
  if (smtpPort !== undefined) check.smtpPort = smtpPort;
  if (values["ca-file"] !== undefined) {
    readable(values["ca-file"]);
    const pem = readFileSync(values["ca-file"], "utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----"))
      throw new UsageError(
        `--ca-file ${values["ca-file"]} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
    check.ca = [pem];
  }
  return {
    sources: { domains, lists, logs },
    format,
    summary: values.summary,
    ...(values.resume !== undefined ? { resume: values.resume } : {}),
    scan: {
      concurrency: integer(values.concurrency, "--concurrency", 1, 5000) ?? 50,
      probeMx: values["probe-mx"],
      check,
    },
    resolvers,
    rate: number(values.rate, "--rate", 1, 1_000_000, "a number of queries a second") ?? 500,
    // Two DNS tries must fit the domain's budget with room for the steps after them.
    dnsTimeoutMs: Math.min(5000, Math.floor(check.timeoutMs / 4)),
  };
}

async function runDiff(files: string[], json: boolean, io: ScanCliIo): Promise<number> {
  if (files.length !== 2) return usage(io, "scan diff needs two ndjson files: OLD NEW");
  try {
    for (const f of files) readable(f);
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { diffScans, renderDiffText } = await import("../scan/index.ts");
  const diff = await diffScans(files[0] as string, files[1] as string);
  io.stdout.write(json ? `${JSON.stringify(diff)}\n` : renderDiffText(diff));
  return diff.broken.length > 0 ? 1 : 0;
}

/** `--from-log a.log b.log.1.gz …`: every argument up to the next option is a log. */
function expandFromLog(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    out.push(arg);
    if (arg !== "--from-log" || i + 1 >= args.length) continue;
    out.push(args[++i] as string);
    while (i + 1 < args.length && (!(args[i + 1] as string).startsWith("-") || args[i + 1] === "-"))
      out.push("--from-log", args[++i] as string);
  }
  return out;
}

function readable(file: string): void {
  const at = statSafe(file);
  if (at === null) throw new UsageError(`cannot read ${file}: no such file`);
  if (at.isDirectory()) throw new UsageError(`cannot read ${file}: it is a directory`);
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

function number(v: string | undefined, flag: string, min: number, max: number, what: string) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${flag} ${JSON.stringify(v)} must be ${what} from ${min} to ${max}`);
  return n;
}

function integer(v: string | undefined, flag: string, min: number, max: number) {
  const n = number(v, flag, min, max, "a whole number");
  if (n !== undefined && !Number.isInteger(n))
    throw new UsageError(
      `${flag} ${JSON.stringify(v)} must be a whole number from ${min} to ${max}`,
    );
  return n;
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: "string", multiple: true },
      "from-log": { type: "string", multiple: true },
      ndjson: { type: "boolean", default: false },
      csv: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      summary: { type: "boolean", default: false },
      resume: { type: "string" },
      "probe-mx": { type: "boolean", default: false },
      concurrency: { type: "string" },
      rate: { type: "string" },
      timeout: { type: "string" },
      resolver: { type: "string", multiple: true },
      "ca-file": { type: "string" },
      "https-port": { type: "string" },
      "smtp-port": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function usage(io: ScanCliIo, message: string): number {
  io.stderr.write(`mtasts: ${message}\n\nRun 'mtasts scan --help' for the options.\n`);
  return 2;
}
