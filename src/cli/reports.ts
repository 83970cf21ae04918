// `mtasts reports …`: the TLS-RPT report store from the command line. This file
// routes subcommands and holds what they share: --db, opening the store with a
// clear error, and the exit codes. Each subcommand loads its module on demand.

import type { ReportStore } from "../reports/store.ts";
import { parsedOrHelp } from "./args.ts";

export const DEFAULT_DB = "./mtasts-reports.db";

export const EXIT = {
  ok: 0,
  /** Some report was quarantined, or the id named nothing. */
  attention: 1,
  usage: 2,
  /** The store could not be opened or failed; nothing was half-written. */
  store: 3,
  /** --mda: EX_TEMPFAIL from sysexits.h, so Postfix keeps the mail and retries. */
  tempfail: 75,
} as const;

export const REPORTS_HELP = `Usage:
  mtasts reports ingest [FILE|DIR…|-] [--json] [--mda] [--no-dkim]
                        [--unsigned keep|quarantine] [--managed-domain D]…
  mtasts reports summary [--domain D] [--since T] [--until T]
                         [--by day|mx|reporter|result-type|domain] [--json | --csv]
  mtasts reports list [--domain D] [--since T] [--until T] [--limit N] [--json]
  mtasts reports show <id> [--raw | --json]
  mtasts reports prune --keep DURATION [--dry-run] [--json]
  mtasts reports quarantine list [--all] [--json]
  mtasts reports quarantine show <id> [--raw | --json]
  mtasts reports quarantine reingest <id>… | --all [--json] [ingest options]
  mtasts reports listen [intakes…] [options]     HTTPS, LMTP/SMTP, IMAP, Maildir intakes
                                                 (mtasts reports listen --help)

Every command takes --db D: a SQLite file (default ${DEFAULT_DB}) or
postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME].

ingest reads report files (.json, .json.gz, .eml; a directory means its files)
or standard input (-, or no FILE when stdin is not a terminal), e.g. from a
Postfix alias: tlsrpt: "|mtasts reports ingest --mda --db /var/lib/mtasts/reports.db"
  --json                one object: {"results":[…],"counts":{…}}
  --mda                 exit 0 once the report is kept, 75 (retry later) otherwise
  --no-dkim             do not verify DKIM on mailed reports (recorded as unchecked)
  --unsigned MODE       keep (default: store and flag) or quarantine mail reports
                        whose DKIM is not a pass by the submitter's domain
  --managed-domain D    quarantine reports for other policy domains (repeatable)

T is a duration back from now (30d, 12h, 2w) or a date (2025-05-01,
2025-05-01T12:00:00Z); a report is selected when its period overlaps
[--since, --until). summary --json prints one object:
  {"total":{"successful":N,"failed":N},"reports":N,"by":…,"filters":{…},"rows":[…]}

Exit status: 0 done; 1 some report quarantined, or no such id; 2 usage error or
unreadable input; 3 the store could not be opened or failed (nothing is
half-written: run the same command again). docs/reports.md has the details.
`;

export interface ReportsIo {
  stdout: { write(s: string | Uint8Array): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export async function runReports(args: readonly string[], io: ReportsIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined:
      return usage(io, "reports needs a subcommand");
    case "--help":
    case "-h":
    case "help":
      io.stdout.write(REPORTS_HELP);
      return EXIT.ok;
    case "ingest":
      return (await import("./reports-ingest.ts")).runIngest(rest, io);
    case "summary":
      return (await import("./reports-summary.ts")).runSummary(rest, io);
    case "list":
      return (await import("./reports-list.ts")).runList(rest, io);
    case "show":
      return (await import("./reports-show.ts")).runShow(rest, io);
    case "prune":
      return (await import("./reports-prune.ts")).runPrune(rest, io);
    case "quarantine":
      return (await import("./reports-quarantine.ts")).runQuarantine(rest, io);
    case "listen":
      return (await import("./reports-listen.ts")).runReportsListen(rest, io);
    default:
      return usage(io, `unknown reports subcommand ${JSON.stringify(sub)}`);
  }
}

export function usage(io: ReportsIo, message: string): number {
  io.stderr.write(`mtasts: ${message}\n\n${REPORTS_HELP}`);
  return EXIT.usage;
}

/** Options every subcommand takes. */
export const COMMON_OPTIONS = {
  db: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Runs a parseArgs call; a bad argument becomes a usage message and exit 2. */
/** Parsed subcommand arguments, or the exit status after a usage error or --help. */
export function parsedOrUsage<T extends { values: { help?: boolean | undefined } }>(
  parse: () => T,
  io: ReportsIo,
): T | number {
  return parsedOrHelp(parse, io, REPORTS_HELP);
}

/**
 * Opens the store named by --db, runs `work`, closes it. A store that cannot
 * be opened or fails is exit 3 with a message naming it (never its password).
 */
export async function withStore(
  db: string | undefined,
  io: ReportsIo,
  options: { create: boolean; failure?: number },
  work: (store: ReportStore) => Promise<number>,
): Promise<number> {
  const failure = options.failure ?? EXIT.store;
  const { openReportStore } = await import("../reports/store.ts");
  let store: ReportStore;
  try {
    store = await openReportStore(db ?? DEFAULT_DB, { create: options.create });
  } catch (error) {
    io.stderr.write(`mtasts: ${messageOf(error)}\n`);
    return failure;
  }
  try {
    return await work(store);
  } catch (error) {
    io.stderr.write(
      `mtasts: the report store ${store.target} failed: ${messageOf(error)}; nothing was half-written, run the command again once it is fixed\n`,
    );
    return failure;
  } finally {
    await store.close().catch(() => {});
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return error.errors.map(messageOf).join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}
