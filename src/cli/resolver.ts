// `mtasts resolver`: run the Postfix MTA-STS policy daemon (a drop-in for
// postfix-mta-sts-resolver's mta-sts-daemon, same config file and flags), or
// `mtasts resolver query` to ask a running one, like mta-sts-query.

import { appendFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { parsedOrHelp } from "./args.ts";
import type { Io } from "./main.ts";
import { stopSignal } from "./signals.ts";

export const DEFAULT_CONFIG = "/etc/mta-sts-daemon.yml";

export const RESOLVER_HELP = `Usage:
  mtasts resolver [-c FILE] [-v LEVEL] [-l LOGFILE] [-p PIDFILE] [-u USER] [-g GROUP]
  mtasts resolver query <domain|key> [--zone NAME] [-c FILE | --socket ADDR] [--json]
  mtasts resolver --check-config [-c FILE]

The Postfix MTA-STS policy daemon (socketmap protocol), reading
postfix-mta-sts-resolver's mta-sts-daemon.yml unchanged. In main.cf:
  smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix

Options:
  -c, --config FILE     configuration (default ${DEFAULT_CONFIG} if it exists,
                        else built-in defaults); keys: docs/resolver-config.md
  -v, --verbosity LEVEL debug, info, warn, error (fatal = error); overrides log.level
  -l, --logfile FILE    append logs to FILE instead of standard error
  -p, --pidfile FILE    write the process id to FILE while running
  -u, --user USER       switch to USER after the socket is bound
  -g, --group GROUP     switch to GROUP after the socket is bound
  --check-config        validate the configuration, print the effective values, exit
  --disable-uvloop      accepted for compatibility; has no effect

query: sends one request to a running daemon and prints the reply data.
  --zone NAME           socketmap name (default: postfix)
  --socket ADDR         HOST:PORT or a unix socket path (default: from the config)
  --json                {"zone","key","status","data"}
  Exit status: 0 OK, 1 NOTFOUND, 3 TEMP/TIMEOUT/PERM or no answer, 2 usage.

The daemon stops gracefully on SIGTERM or SIGINT (a second signal exits at once).
`;

export async function runResolver(args: readonly string[], io: Io): Promise<number> {
  if (args[0] === "query") return runQuery(args.slice(1), io);
  const parsed = parsedOrHelp(() => parseDaemonArgs(args), io, RESOLVER_HELP);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0)
    return usage(io, `unexpected argument ${JSON.stringify(positionals[0])}`);
  const level = values.verbosity === undefined ? undefined : verbosity(values.verbosity);
  if (level === null) return usage(io, `-v expects debug, info, warn, error or fatal`);

  const loaded = await loadConfig(values.config, io);
  if (typeof loaded === "number") return loaded;
  const { config, warnings, source } = loaded;
  if (level) config.log.level = level;
  for (const w of warnings) io.stderr.write(`mtasts: warning: ${w}\n`);
  if (values["check-config"]) {
    io.stdout.write(`# ${source}\n${JSON.stringify(effective(config), null, 2)}\n`);
    return 0;
  }

  const { createLogger } = await import("../adapters/log.ts");
  const logfile = values.logfile;
  const log = createLogger({
    ...config.log,
    write: logfile ? (line) => appendFileSync(logfile, line) : (line) => io.stderr.write(line),
  });
  const { localPostfixVersion, tlsrptAdvice } = await import("../resolver/postfix-version.ts");
  // Asked beside start-up, not before it: postconf takes a second where
  // main.cf is missing (it pauses before a fatal exit), and Postfix's lookups
  // should not wait for a warning.
  void localPostfixVersion().then((postfix) => {
    const advice = postfix ? tlsrptAdvice(postfix, config.defaultZone, config.zones) : null;
    if (advice) log.warn(advice);
  });
  // A long-lived daemon whose heap is mostly cached policies: V8's memory-saving
  // heap growth keeps RSS near the live data (at 100,000 policies, 157 MB
  // instead of 200+; bench/RESULTS.md). NODE_OPTIONS refuses this flag, so the
  // daemon sets it itself; V8 reads it at each heap-sizing decision.
  setFlagsFromString("--optimize-for-size");
  const { startResolver } = await import("../resolver/daemon.ts");
  let daemon: Awaited<ReturnType<typeof startResolver>>;
  try {
    daemon = await startResolver(config, { log });
  } catch (err) {
    io.stderr.write(`mtasts: cannot start the resolver: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    if (values.group !== undefined) process.setgid?.(values.group);
    if (values.user !== undefined) process.setuid?.(values.user);
  } catch (err) {
    io.stderr.write(`mtasts: cannot switch user/group: ${(err as Error).message}\n`);
    await daemon.close();
    return 1;
  }
  const pidfile = values.pidfile;
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);

  const signal = await stopSignal((second) =>
    log.warn("second signal: exiting now", { signal: second }),
  );
  log.info("stopping", { signal });
  await daemon.close().catch((err: unknown) => {
    log.error("error while stopping", { error: String(err) });
  });
  if (pidfile) rmSync(pidfile, { force: true });
  return 0;
}

async function loadConfig(file: string | undefined, io: Io) {
  const { loadResolverConfig, defaultResolverConfig } = await import("../resolver/config.ts");
  const { ConfigError } = await import("../config/config-error.ts");
  const path = file ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  if (path === undefined)
    return {
      config: defaultResolverConfig(),
      warnings: [] as string[],
      source: "built-in defaults",
    };
  try {
    return { ...loadResolverConfig(path), source: path };
  } catch (err) {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    io.stderr.write(`mtasts: ${message}\n`);
    return 2;
  }
}

async function runQuery(args: readonly string[], io: Io): Promise<number> {
  const parsed = parsedOrHelp(() => parseQueryArgs(args), io, RESOLVER_HELP);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(io, "resolver query takes one domain (or key)");
  const key = positionals[0] as string;
  let target: { host: string; port: number } | { path: string };
  if (values.socket !== undefined) {
    const t = socketTarget(values.socket);
    if (!t) return usage(io, `--socket expects HOST:PORT or a socket path, got ${values.socket}`);
    target = t;
  } else {
    const loaded = await loadConfig(values.config, io);
    if (typeof loaded === "number") return loaded;
    const l = loaded.config.listen;
    target = l.kind === "unix" ? { path: l.path } : { host: l.host, port: l.port };
  }
  const zone = values.zone ?? "postfix";
  const { querySocketmap } = await import("../resolver/query.ts");
  const reply = await querySocketmap(target, zone, key, 30_000);
  if ("error" in reply) {
    io.stderr.write(`mtasts: ${reply.error}\n`);
    return 3;
  }
  const space = reply.text.indexOf(" ");
  const status = space < 0 ? reply.text : reply.text.slice(0, space);
  const data = space < 0 ? "" : reply.text.slice(space + 1);
  if (values.json) io.stdout.write(`${JSON.stringify({ zone, key, status, data })}\n`);
  else if (status === "OK") io.stdout.write(`${data}\n`);
  else io.stderr.write(`${status}${data ? ` ${data}` : ""}\n`);
  return status === "OK" ? 0 : status === "NOTFOUND" ? 1 : 3;
}

function socketTarget(s: string): { host: string; port: number } | { path: string } | null {
  if (s.includes("/")) return { path: s };
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1] as string, port } : null;
}

function verbosity(v: string): "debug" | "info" | "warn" | "error" | null {
  const l = v.toLowerCase();
  if (l === "fatal") return "error";
  return l === "debug" || l === "info" || l === "warn" || l === "error" ? l : null;
}

/** The config as JSON (Maps become objects) for --check-config. */
function effective(config: object): unknown {
  return JSON.parse(
    JSON.stringify(config, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v)),
  );
}

function parseDaemonArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      verbosity: { type: "string", short: "v" },
      logfile: { type: "string", short: "l" },
      pidfile: { type: "string", short: "p" },
      user: { type: "string", short: "u" },
      group: { type: "string", short: "g" },
      "disable-uvloop": { type: "boolean", default: false },
      "check-config": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function parseQueryArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      zone: { type: "string", short: "z" },
      config: { type: "string", short: "c" },
      socket: { type: "string", short: "s" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function usage(io: Io, message: string): number {
  io.stderr.write(`mtasts: ${message}\n\n${RESOLVER_HELP}`);
  return 2;
}
