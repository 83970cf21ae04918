// `mtasts host`: serve MTA-STS policies over HTTPS for many domains, from a
// host.yml or, in the quick mode, from a directory and one certificate.

import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { parsedOrHelp } from "./args.ts";
import type { Io } from "./main.ts";

export const HOST_HELP = `Usage:
  mtasts host [-c FILE] [--check-config]
  mtasts host --policies DIR --listen HOST:PORT --cert FILE --key FILE
              [--http-listen HOST:PORT] [--workers N|auto] [--access-log] [-v LEVEL]

One HTTPS server for the policies of many domains: https://mta-sts.<domain>/
.well-known/mta-sts.txt answers the policy of <domain> (text/plain; charset=utf-8,
GET and HEAD only, never a redirect, 404 for any other host or path). Each policy
file is checked on load; an invalid one is not served (its domain keeps the last
good version) and the error names the file and line. Files are reloaded when they
change, and on SIGHUP, without dropping connections. Keys: docs/host.md.

Options:
  -c, --config FILE        host.yml (listeners, policies, per-domain certificates, limits)
  --check-config           load the configuration, every policy and certificate; report, exit
  --policies DIR           quick mode: serve DIR/<domain>.txt as the policy of <domain>
  --listen HOST:PORT       quick mode: HTTPS address (e.g. 0.0.0.0:443)
  --cert FILE, --key FILE  quick mode: one certificate (PEM, chain leaf first) naming every
                           mta-sts.<domain> (several names or a wildcard)
  --http-listen HOST:PORT  port 80 for ACME HTTP-01 challenges (nothing else is answered)
  --workers N|auto         worker processes (default 1; auto = one per CPU)
  --access-log             log every request (one line each)
  -v, --verbosity LEVEL    debug, info, warn, error

Stops gracefully on SIGTERM or SIGINT (in-flight requests finish; a second signal
exits at once). Exit status: 0 stopped cleanly or configuration valid, 1 cannot
start or --check-config found problems, 2 usage or configuration error.
`;

export async function runHost(args: readonly string[], io: Io): Promise<number> {
  const parsed = parsedOrHelp(() => parseHostArgs(args), io, HOST_HELP);
  if (typeof parsed === "number") return parsed;
  const { values: v, positionals } = parsed;
  if (positionals.length > 0)
    return usage(io, `unexpected argument ${JSON.stringify(positionals[0])}`);
  const quick = [v.policies, v.listen, v.cert, v.key];
  const given = quick.filter((x) => x !== undefined).length;
  if (v.config !== undefined && given > 0)
    return usage(
      io,
      "use either -c FILE or the quick mode (--policies, --listen, --cert, --key), not both",
    );
  if (v.config === undefined && given !== 4)
    return usage(
      io,
      "give -c FILE, or all four of --policies DIR --listen HOST:PORT --cert FILE --key FILE",
    );
  const level = v.verbosity;
  if (level !== undefined && !["debug", "info", "warn", "error"].includes(level))
    return usage(io, "-v expects debug, info, warn or error");

  const host = await import("../host/index.ts");
  let config: import("../host/index.ts").HostConfig;
  try {
    config =
      v.config !== undefined
        ? host.loadHostConfig(v.config)
        : host.quickHostConfig({
            policies: v.policies as string,
            listen: v.listen as string,
            cert: v.cert as string,
            key: v.key as string,
            httpListen: v["http-listen"],
          });
    if (v.config !== undefined && v["http-listen"] !== undefined)
      config.httpListen = [host.listenFlag(v["http-listen"], "--http-listen")];
    if (v.workers !== undefined) config.workers = workersFlag(v.workers);
  } catch (err) {
    io.stderr.write(`mtasts: ${(err as Error).message}\n`);
    return 2;
  }
  if (level !== undefined) config.log.level = level as typeof config.log.level;
  if (v["access-log"]) config.log.access = true;

  const { createLogger } = await import("../adapters/log.ts");
  const { answerSamples, reportReady, workerIndex, runPrimary, sharedTicketKeys } = await import(
    "../host/cluster.ts"
  );
  const index = workerIndex();
  const log = createLogger({
    ...config.log,
    write: (line) =>
      io.stderr.write(index === null ? line : line.replace(/^(\S+ \S+)/, `$1 [w${index}]`)),
  });
  if (v["check-config"]) return checkConfig(config, host, io, log);
  if (index === null && config.workers > 1) {
    if (config.listen.some((l) => l.port === 0))
      return usage(
        io,
        "workers > 1 needs fixed ports (port 0 would give each worker another port)",
      );
    try {
      await runPrimary(config.workers, log, config.metricsListen, config.limits.shutdownTimeoutMs);
    } catch (err) {
      io.stderr.write(`mtasts: cannot start the policy host: ${(err as Error).message}\n`);
      return 1;
    }
    return 0;
  }
  if (index !== null && index > 0) config.idCheck.enabled = false;

  // Signal handlers first: a SIGHUP that arrives while starting must not
  // take the default action (exit).
  let server: import("../host/index.ts").PolicyHost | undefined;
  let acme: import("../acme/index.ts").AcmeAutomation | null = null;
  process.on("SIGHUP", () => {
    log.info("SIGHUP: reloading policies and certificates");
    void server?.reload();
  });
  let stopping = false;
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info("stopping: finishing in-flight requests", { signal });
    if (!server) process.exit(0);
    Promise.all([server.close(), acme?.stop()]).then(stopped, stopped);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  if (index !== null) answerSamples(() => server?.sample() ?? null);
  // A worker gets Ctrl-C with the whole process group, and SIGTERM from the
  // primary right after: only the primary's word counts.
  process.on("SIGINT", () => (index === null ? stop("SIGINT") : undefined));
  try {
    const ticketKeys = index === null ? undefined : sharedTicketKeys();
    acme = config.acme === null ? null : await startHostAcme(config.acme, log);
    server = await host.createHost(config, {
      log,
      reusePort: index !== null,
      worker: index !== null,
      ...(ticketKeys ? { ticketKeys } : {}),
      ...(acme === null ? {} : { challenges: acme, certificates: acme }),
    });
    await server.listen();
    if (acme !== null) keepCertificates(acme, server, config, log);
    if (index !== null) reportReady();
  } catch (err) {
    io.stderr.write(`mtasts: cannot start the policy host: ${(err as Error).message}\n`);
    await acme?.stop();
    await server?.close();
    if (index !== null) process.disconnect?.(); // let the primary see this worker exit
    return 1;
  }
  await done;
  log.info("stopped");
  // A worker's IPC channel to the primary would keep it alive.
  if (index !== null) process.disconnect?.();
  return 0;
}

/** The ACME side of `acme:` (loaded only when configured). */
async function startHostAcme(
  settings: NonNullable<import("../host/index.ts").HostConfig["acme"]>,
  log: import("../adapters/log.ts").Logger,
): Promise<import("../acme/index.ts").AcmeAutomation> {
  const { startAcme } = await import("../acme/index.ts");
  const { readFileSync } = await import("node:fs");
  return startAcme({
    stateDir: settings.stateDir,
    directoryUrl: settings.directoryUrl,
    challengeTypes: settings.challengeTypes,
    ...(settings.email === null ? {} : { email: settings.email }),
    ...(settings.caFile === null ? {} : { ca: readFileSync(settings.caFile, "utf8") }),
    log,
  });
}

/** How often the served domains are compared with the certificates held (cheap: due or missing names only). */
const ACME_SWEEP_MS = 10 * 60_000;

/**
 * Orders certificates for every served domain without a certificate file of
 * its own, now and after each sweep: domains appear when policy files do, and
 * the automation skips names that are valid or waiting out a retry backoff.
 */
function keepCertificates(
  acme: import("../acme/index.ts").AcmeAutomation,
  server: import("../host/index.ts").PolicyHost,
  config: import("../host/index.ts").HostConfig,
  log: import("../adapters/log.ts").Logger,
): void {
  const sweep = () => {
    const names = server.policies
      .domains()
      .filter((d) => config.domains.get(d)?.certificate === undefined)
      .map((d) => `mta-sts.${d}`);
    acme.ensure(names).catch((err: unknown) => log.error(`ACME: ${(err as Error).message}`));
  };
  sweep();
  setInterval(sweep, ACME_SWEEP_MS).unref();
}

async function checkConfig(
  config: import("../host/index.ts").HostConfig,
  host: typeof import("../host/index.ts"),
  io: Io,
  log: import("../adapters/log.ts").Logger,
): Promise<number> {
  let problems = 0;
  try {
    const h = await host.createHost(
      { ...config, idCheck: { ...config.idCheck, enabled: false } },
      { log },
    );
    problems = h.problems.length;
    for (const p of h.problems)
      io.stdout.write(`invalid: ${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}\n`);
    io.stdout.write(
      `${h.policies.domains().length} domain(s) served: ${h.policies.domains().sort().join(", ")}\n`,
    );
    await h.close();
  } catch (err) {
    io.stdout.write(`cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  return problems > 0 ? 1 : 0;
}

function workersFlag(text: string): number {
  const n = text === "auto" ? availableParallelism() : Number(text);
  if (text !== "auto" && !(Number.isInteger(n) && n >= 1 && n <= 256))
    throw new Error(
      `--workers expects an integer from 1 to 256 or auto, got ${JSON.stringify(text)}`,
    );
  return n;
}

function parseHostArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      "check-config": { type: "boolean", default: false },
      policies: { type: "string" },
      listen: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      "http-listen": { type: "string" },
      workers: { type: "string" },
      "access-log": { type: "boolean", default: false },
      verbosity: { type: "string", short: "v" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function usage(io: Io, message: string): number {
  io.stderr.write(`mtasts: ${message}\n\n${HOST_HELP}`);
  return 2;
}
