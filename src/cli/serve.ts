// `mtasts serve`: the dashboard, JSON API and report intake on one port, until
// SIGTERM or SIGINT. `serve hash-password` and `serve new-token` print what an
// admin writes into the config. This file maps flags and config to
// startDashboard (src/dashboard) and events to log lines; nothing else.

import { parseArgs } from "node:util";
import type { SessionPersistence } from "../dashboard/session-db.ts";
import type { MonitorView } from "../monitor/types.ts";
import type { ReportStore } from "../reports/store.ts";
import { parsedOrHelp } from "./args.ts";
import { DEFAULT_DB, type ReportsIo } from "./reports.ts";
import { stopSignal } from "./signals.ts";

export const SERVE_HELP = `Usage:
  mtasts serve [-c FILE] [--db <sqlite-file|postgres://url>] [--listen HOST:PORT]
               [--insecure-no-auth] [--log-format text|json]
  mtasts serve hash-password     read a password on stdin, print its scrypt hash
  mtasts serve new-token         print a new API token and the hash for the config

Serves the dashboard, its JSON API (/api/…) and the TLS-RPT report intake
(POST /tlsrpt, no login: senders cannot log in) on one port. Pages and API need
a login or an API token (Authorization: Bearer …); /healthz answers without.

Options:
  -c, --config FILE      YAML configuration (users, API tokens, sessions, metrics,
                         intake, monitor; see docs/dashboard.md)
  --db D                 SQLite file or postgres:// URL (default ${DEFAULT_DB},
                         or db: in the config); the flag wins over the config
  --listen HOST:PORT     address to serve on (default 127.0.0.1:8080, or listen:)
  --insecure-no-auth     no users configured: let every visitor act as admin;
                         only on a loopback address
  --log-format F         text (default) or json, one line per event on stderr

Exit status: 0 after a clean stop, 1 the configuration is invalid or the address
cannot be used, 2 usage error, 3 the store cannot be opened.
`;

/** Connects the `monitor:` section to a monitor (wired by the host program). */
export type MonitorHook = (
  settings: unknown,
  /** `log` writes one event in the server's log format (text or json). */
  context: { db: string; store: ReportStore; log: (event: Record<string, unknown>) => void },
) => Promise<{
  view: MonitorView;
  /** Called after reports are stored (coalesced: never two at once). */
  reportsStored?: () => Promise<void>;
  close(): Promise<void>;
}>;

export interface ServeHooks {
  monitor?: MonitorHook;
  /** Resolves when the server should stop; default: SIGTERM or SIGINT. */
  stopSignal?: () => Promise<string>;
}

export interface ServeIo extends ReportsIo {
  /** Default: process.stdin. */
  stdin?: AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
}

const EXIT = { ok: 0, config: 1, usage: 2, store: 3 } as const;
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/i;

export async function runServe(
  args: readonly string[],
  io: ServeIo,
  hooks: ServeHooks = {},
): Promise<number> {
  if (args[0] === "hash-password") return hashPasswordCommand(args.slice(1), io);
  if (args[0] === "new-token") return newTokenCommand(args.slice(1), io);
  const parsed = parsedOrHelp(
    () =>
      parseArgs({
        args: [...args],
        allowPositionals: false,
        strict: true,
        options: {
          config: { type: "string", short: "c" },
          db: { type: "string" },
          listen: { type: "string" },
          "insecure-no-auth": { type: "boolean", default: false },
          "log-format": { type: "string", default: "text" },
          help: { type: "boolean", short: "h", default: false },
        },
      }),
    io,
    SERVE_HELP,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const usage = (message: string) => {
    io.stderr.write(`mtasts: ${message}\n\n${SERVE_HELP}`);
    return EXIT.usage;
  };
  if (v["log-format"] !== "text" && v["log-format"] !== "json")
    return usage(`--log-format must be text or json, got ${JSON.stringify(v["log-format"])}`);
  const dashboard = await import("../dashboard/index.ts");
  let config: import("../dashboard/index.ts").ServeConfig;
  try {
    config =
      v.config === undefined
        ? dashboard.defaultConfig(DEFAULT_DB)
        : dashboard.loadServeConfig(v.config, DEFAULT_DB);
  } catch (error) {
    io.stderr.write(`mtasts: ${(error as Error).message}\n`);
    return EXIT.config;
  }
  if (v.db !== undefined) config.db = v.db;
  if (v.listen !== undefined) {
    const hp = dashboard.parseHostPort(v.listen);
    if (hp === null)
      return usage(
        `--listen ${JSON.stringify(v.listen)} is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)`,
      );
    config.listen = hp;
  }
  const open = v["insecure-no-auth"] === true;
  const accounts = config.users.length + config.apiTokens.length;
  if (open && accounts > 0)
    return usage(
      "--insecure-no-auth is for a server without users or API tokens; the config has some, so log in instead",
    );
  if (open && !LOOPBACK.test(config.listen.host))
    return usage(
      `--insecure-no-auth only on a loopback address (127.0.0.1, ::1); --listen is ${config.listen.host}`,
    );
  if (!open && accounts === 0) {
    io.stderr.write(
      "mtasts: no users or API tokens are configured, so nobody could log in; add users: to the config (passwords from `mtasts serve hash-password`), or for a look on this machine only, run with --insecure-no-auth on a loopback --listen\n",
    );
    return EXIT.config;
  }

  const write = (line: string) => io.stderr.write(line);
  const log = (event: Record<string, unknown>) => {
    const at = new Date().toISOString();
    if (v["log-format"] === "json") write(`${JSON.stringify({ time: at, ...event })}\n`);
    else
      write(
        `${at} ${Object.entries(event)
          .map(([k, x]) => `${k}=${typeof x === "string" && !/\s/.test(x) ? x : JSON.stringify(x)}`)
          .join(" ")}\n`,
      );
  };

  const { openReportStore } = await import("../reports/store.ts");
  const { openReportReader } = await import("../reports/dashboard-reader.ts");
  let store: ReportStore;
  let reader: Awaited<ReturnType<typeof openReportReader>>;
  try {
    store = await openReportStore(config.db);
    try {
      reader = await openReportReader(config.db);
    } catch (error) {
      await store.close();
      throw error;
    }
  } catch (error) {
    io.stderr.write(`mtasts: cannot open the report store: ${(error as Error).message}\n`);
    return EXIT.store;
  }
  // Sessions outlive a restart in the same database; the open mode keeps none.
  let sessions: SessionPersistence | null = null;
  if (!open) {
    try {
      const { openSessionDb } = await import("../dashboard/session-db.ts");
      sessions = await openSessionDb(config.db);
    } catch (error) {
      io.stderr.write(`mtasts: cannot open the session table: ${(error as Error).message}\n`);
      await reader.close().catch(() => {});
      await store.close().catch(() => {});
      return EXIT.store;
    }
  }
  let monitor: Awaited<ReturnType<MonitorHook>> | null = null;
  const closeStores = async () => {
    await monitor?.close().catch(() => {});
    await sessions?.close().catch(() => {});
    await reader.close().catch(() => {});
    await store.close().catch(() => {});
  };
  if (config.monitor !== undefined) {
    if (hooks.monitor === undefined)
      log({
        event: "monitor-not-available",
        message: "monitor: is set but this build has no monitoring; pages show how to enable it",
      });
    else {
      try {
        monitor = await hooks.monitor(config.monitor, { db: config.db, store, log });
      } catch (error) {
        io.stderr.write(`mtasts: cannot start monitoring: ${(error as Error).message}\n`);
        await closeStores();
        return EXIT.config;
      }
    }
  }
  let server: Awaited<ReturnType<typeof dashboard.startDashboard>>;
  try {
    server = await dashboard.startDashboard({
      config,
      store,
      reader: reader.sql,
      open,
      log,
      ...(sessions === null ? {} : { sessions }),
      ...(monitor === null ? {} : { monitor: monitor.view }),
      ...(monitor?.reportsStored === undefined
        ? {}
        : { onReportStored: coalesced(monitor.reportsStored, log) }),
    });
  } catch (error) {
    io.stderr.write(
      `mtasts: cannot serve on ${config.listen.host}:${config.listen.port}: ${(error as Error).message}\n`,
    );
    await closeStores();
    return EXIT.config;
  }
  const metricsAt = server.metricsAddress();
  io.stdout.write(
    `mtasts serve: listening on ${server.url} (reports: POST ${server.url}${config.intake.path}; store ${store.target})${metricsAt === null ? "" : `; metrics on http://${metricsAt.host}:${metricsAt.port}/metrics`}\n`,
  );
  if (open) io.stdout.write("mtasts serve: --insecure-no-auth: every visitor is an admin\n");
  if (
    config.tls === null &&
    config.session.secureCookie !== true &&
    !LOOPBACK.test(config.listen.host)
  ) {
    log({
      event: "warning",
      message:
        "plain HTTP on a non-loopback address: put a TLS proxy in front and set session.secure_cookie: true, or configure tls:",
    });
  }
  const signal = await (hooks.stopSignal ?? stopSignal)();
  log({ event: "stopping", signal });
  await server.close();
  await closeStores();
  log({ event: "stopped" });
  return EXIT.ok;
}

/** Runs `fn` for a burst of calls once, plus once more if calls came while it ran. */
function coalesced(fn: () => Promise<void>, log: (e: Record<string, unknown>) => void): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    running = true;
    do {
      again = false;
      await fn().catch((error: unknown) =>
        log({ event: "monitor-evaluate-failed", error: (error as Error).message }),
      );
    } while (again);
    running = false;
  };
  return () => {
    if (running) again = true;
    else void run();
  };
}

async function hashPasswordCommand(args: readonly string[], io: ServeIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(
      "Usage: mtasts serve hash-password < FILE\n\nReads one password from standard input (a trailing newline is dropped) and prints\nits scrypt hash for password_hash: in the serve config. Example:\n  read -rs PW && printf '%s' \"$PW\" | mtasts serve hash-password\n",
    );
    return EXIT.ok;
  }
  if (args.length > 0) {
    io.stderr.write(
      `mtasts: hash-password takes no arguments (the password comes on standard input)\n`,
    );
    return EXIT.usage;
  }
  const stdin = io.stdin ?? process.stdin;
  if (stdin.isTTY)
    io.stderr.write(
      "Type the password, then Enter and Ctrl-D (it is shown as typed; pipe it in to avoid that):\n",
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    size += b.length;
    if (size > 4096) {
      io.stderr.write("mtasts: the password is over 1024 characters; use a shorter one\n");
      return EXIT.usage;
    }
    chunks.push(b);
  }
  const password = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (password.length === 0 || password.length > 1024) {
    io.stderr.write("mtasts: give a password of 1 to 1024 characters on standard input\n");
    return EXIT.usage;
  }
  const { hashPassword } = await import("../dashboard/index.ts");
  io.stdout.write(`${await hashPassword(password)}\n`);
  return EXIT.ok;
}

async function newTokenCommand(args: readonly string[], io: ServeIo): Promise<number> {
  if (args.length > 0) {
    io.stderr.write("mtasts: new-token takes no arguments\n");
    return args.includes("--help") ? EXIT.ok : EXIT.usage;
  }
  const { newApiToken } = await import("../dashboard/index.ts");
  const { token, hash } = newApiToken();
  io.stdout.write(
    `token: ${token}\nconfig:\n  api_tokens:\n    - name: CHANGE-ME\n      role: read-only\n      token_hash: ${hash}\n`,
  );
  return EXIT.ok;
}
