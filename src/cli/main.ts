// The command line: parse arguments, call a capability, render. Nothing here
// knows protocol rules; it only maps words to calls and outcomes to exit codes.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { styleFor } from "./render.ts";
import type { MonitorHook } from "./serve.ts";
import { type ValidateKind, validateKinds } from "./validate-kinds.ts";

// Commands load their modules on demand, so `mtasts validate` never pays for
// the network stack of `mtasts check` and `--version` pays for neither.

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** A bug in mtasts, not in the input (EX_SOFTWARE from sysexits.h). */
export const EXIT_INTERNAL = 70;

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

const MAIN_HELP = `mtasts — MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460) toolkit

Usage:
  mtasts check <domain…> [options]           audit domains end to end (DNS, policy, MX, DANE)
  mtasts scan [DOMAIN…] [--from FILE] [--from-log FILE…] [options]
                                             survey many domains for MTA-STS and TLS-RPT
  mtasts scan diff OLD NEW                   what changed between two scans
  mtasts validate <kind> [options] <input>   check one artefact against the RFCs
  mtasts generate <domain> [options]         the policy file and DNS records to publish
  mtasts rollout <domain> --to MODE          move to testing/enforce/none safely
  mtasts resolver [-c FILE]                  Postfix MTA-STS policy daemon (socketmap)
  mtasts resolver query <domain>             ask a running resolver
  mtasts host [-c FILE]                      HTTPS policy host for many domains (mta-sts.<domain>)
  mtasts reports <command> [--db D]          TLS-RPT report store: ingest, summary, list,
                                             show, prune, quarantine
  mtasts serve [-c FILE] [--db D] [--listen HOST:PORT]
                                             web dashboard, JSON API and report intake
  mtasts --help | -h                         this help
  mtasts --version                           print the version

Run 'mtasts <command> --help' for its options.
`;

const VALIDATE_HELP = `Usage:
  mtasts validate sts-record    [--json] <TEXT|->        one _mta-sts TXT value (strings joined)
  mtasts validate tlsrpt-record [--json] <TEXT|->        one _smtp._tls TXT value
  mtasts validate policy        [--json] [--mx HOST] <FILE|->
                                                         a policy file's bytes as served
  mtasts validate report        [--json] <FILE|->        a TLS-RPT report: .json, .json.gz or .eml

Options:
  --json       print one JSON object: {"kind","valid","value","diagnostics"}
  --mx HOST    (policy) also say whether HOST is covered by the policy's mx patterns
  -            read the input from standard input

Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error or unreadable input.
Every finding has a stable code; see docs/diagnostics.md.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    io.stdout.write(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === "--version" || command === "-V") {
    io.stdout.write(`mtasts ${version()}\n`);
    return EXIT_OK;
  }
  if (command === "validate") return runValidate(rest, io);
  if (command === "check") return (await import("./check.ts")).runCheck(rest, io);
  if (command === "scan") return (await import("./scan.ts")).runScan(rest, io);
  if (command === "resolver") return (await import("./resolver.ts")).runResolver(rest, io);
  if (command === "host") return (await import("./host.ts")).runHost(rest, io);
  if (command === "reports") return (await import("./reports.ts")).runReports(rest, io);
  if (command === "serve") {
    // The monitor (and with it the check stack) loads only when the config asks for it.
    const monitor: MonitorHook = async (settings, context) =>
      (await import("./serve-monitor.ts")).monitorHook(settings, context);
    return (await import("./serve.ts")).runServe(rest, io, { monitor });
  }
  if (command === "generate") return (await import("./generate.ts")).runGenerate(rest, io);
  if (command === "rollout") return (await import("./rollout.ts")).runRollout(rest, io);
  return usage(io, `unknown command ${JSON.stringify(command)}`, MAIN_HELP);
}

async function runValidate(args: readonly string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseValidateArgs>;
  try {
    parsed = parseValidateArgs(args);
  } catch (err) {
    return usage(io, err instanceof Error ? err.message : String(err), VALIDATE_HELP);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(VALIDATE_HELP);
    return EXIT_OK;
  }
  const [kind, input, ...extra] = positionals;
  if (kind === undefined) return usage(io, "validate needs a kind", VALIDATE_HELP);
  if (!isKind(kind)) {
    return usage(
      io,
      `unknown kind ${JSON.stringify(kind)}; expected one of ${validateKinds.join(", ")}`,
      VALIDATE_HELP,
    );
  }
  if (input === undefined) {
    const what = kind.endsWith("record") ? "the record text" : "a file";
    return usage(io, `validate ${kind} needs ${what}, or - to read standard input`, VALIDATE_HELP);
  }
  if (extra.length > 0) {
    const hint = kind.endsWith("record")
      ? " (quote the record: it contains spaces and semicolons)"
      : "";
    return usage(
      io,
      `validate ${kind} takes one input, got ${positionals.length - 1}${hint}`,
      VALIDATE_HELP,
    );
  }
  if (values.mx !== undefined && kind !== "policy") {
    return usage(io, "--mx applies only to validate policy", VALIDATE_HELP);
  }
  const { renderJson, renderText, validate } = await import("./validate.ts");
  const outcome = await validate(kind, input, values.mx === undefined ? {} : { mx: values.mx });
  if ("error" in outcome) {
    io.stderr.write(`mtasts: ${outcome.error}\n`);
    return EXIT_USAGE;
  }
  io.stdout.write(
    values.json ? renderJson(outcome) : renderText(outcome, styleFor(io.stdout, io.env)),
  );
  return outcome.valid ? EXIT_OK : EXIT_INVALID;
}

function parseValidateArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: "boolean", default: false },
      mx: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function isKind(s: string): s is ValidateKind {
  return (validateKinds as readonly string[]).includes(s);
}

function usage(io: Io, message: string, help: string): number {
  io.stderr.write(`mtasts: ${message}\n\n${help}`);
  return EXIT_USAGE;
}

/** Entry point for bin/mtasts.js: never a stack trace, always an exit code. */
export async function main(): Promise<void> {
  const fail = (err: unknown) => {
    process.stderr.write(
      `mtasts: internal error (a bug in mtasts, please report it): ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(EXIT_INTERNAL);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  // A closed pipe (`mtasts … | head`) is the reader's choice, not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    fail(err);
  });
  try {
    process.exitCode = await run(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
    });
  } catch (err) {
    fail(err);
  }
}
