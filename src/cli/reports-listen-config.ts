// `mtasts reports listen` flags → a checked configuration, or the first
// problem in words (a usage error). No I/O beyond reading the files the flags
// name (certificate, key, IMAP password, CA).

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ipFamily } from "../adapters/ip.ts";
import type { ImapConnection } from "../reports/intake-imap.ts";
import { DEFAULT_DB } from "./reports.ts";
import { INGEST_OPTIONS } from "./reports-ingest-options.ts";

export interface HostPort {
  host: string;
  port: number;
}

export function parseListenArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      db: { type: "string" },
      http: { type: "string" },
      https: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      path: { type: "string" },
      "rate-limit": { type: "string" },
      "trust-proxy": { type: "boolean", default: false },
      lmtp: { type: "string" },
      smtp: { type: "string" },
      imap: { type: "string" },
      "imap-mailbox": { type: "string" },
      "imap-move": { type: "string" },
      "imap-keep-unseen": { type: "boolean", default: false },
      "imap-interval": { type: "string" },
      "imap-password-file": { type: "string" },
      "imap-ca": { type: "string" },
      maildir: { type: "string" },
      "maildir-move": { type: "string" },
      // --unsigned, --managed-domain, --no-dkim: the same as `reports ingest`.
      ...INGEST_OPTIONS,
      resolver: { type: "string", multiple: true },
      "log-format": { type: "string" },
      verbosity: { type: "string", short: "v" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

export type ListenValues = ReturnType<typeof parseListenArgs>["values"];

export interface ListenConfig {
  db: string;
  http: HostPort | null;
  https: HostPort | null;
  tls: { cert: Buffer; key: Buffer } | null;
  path: string;
  ratePerMinute: number;
  trustProxy: boolean;
  lmtp: HostPort | null;
  smtp: HostPort | null;
  imap: {
    connection: ImapConnection;
    mailbox: string;
    moveTo: string | null;
    markSeen: boolean;
    intervalMs: number;
  } | null;
  maildir: { dir: string; moveTo: string | null } | null;
  resolvers: HostPort[];
  logFormat: "text" | "json";
  level: "debug" | "info" | "warn" | "error";
}

/** Flags to a checked configuration, or the first problem in words. */
export function resolveConfig(
  v: ListenValues,
  env: NodeJS.ProcessEnv,
): ListenConfig | { error: string } {
  const addr = (flag: string, value: string | undefined): HostPort | null | string => {
    if (value === undefined) return null;
    return hostPort(value) ?? `--${flag} expects HOST:PORT, got ${JSON.stringify(value)}`;
  };
  const http = addr("http", v.http);
  const https = addr("https", v.https);
  const lmtp = addr("lmtp", v.lmtp);
  const smtp = addr("smtp", v.smtp);
  for (const a of [http, https, lmtp, smtp]) if (typeof a === "string") return { error: a };
  if (!http && !https && !lmtp && !smtp && v.imap === undefined && v.maildir === undefined) {
    return {
      error: "name at least one intake: --http, --https, --lmtp, --smtp, --imap or --maildir",
    };
  }
  if (lmtp && smtp && sameAddress(lmtp as HostPort, smtp as HostPort)) {
    return { error: "--lmtp and --smtp need different ports" };
  }
  let tls: ListenConfig["tls"] = null;
  if ((v.cert === undefined) !== (v.key === undefined)) {
    return { error: "--cert and --key go together" };
  }
  if (v.cert !== undefined && v.key !== undefined) {
    try {
      tls = { cert: readFileSync(v.cert), key: readFileSync(v.key) };
    } catch (err) {
      return { error: `cannot read the certificate or key: ${(err as Error).message}` };
    }
  }
  if (https && !tls) return { error: "--https needs --cert and --key" };
  const path = v.path ?? "/tlsrpt";
  if (!path.startsWith("/")) return { error: `--path must start with "/", got ${path}` };
  const rate = v["rate-limit"] === undefined ? 300 : Number(v["rate-limit"]);
  if (!Number.isInteger(rate) || rate < 0) {
    return {
      error: `--rate-limit expects a whole number of reports per minute, got ${v["rate-limit"]}`,
    };
  }
  const resolvers: HostPort[] = [];
  for (const r of v.resolver ?? []) {
    // A bare address (IPv6 ones are full of colons) means port 53.
    const a = ipFamily(r) !== 0 ? { host: r, port: 53 } : hostPort(r);
    if (!a) return { error: `--resolver expects HOST[:PORT], got ${JSON.stringify(r)}` };
    resolvers.push(a);
  }
  const imap = v.imap === undefined ? null : imapConfig(v, env);
  if (typeof imap === "string") return { error: imap };
  let maildir: ListenConfig["maildir"] = null;
  if (v.maildir !== undefined) maildir = { dir: v.maildir, moveTo: v["maildir-move"] ?? null };
  else if (v["maildir-move"] !== undefined) return { error: "--maildir-move needs --maildir" };
  const format = v["log-format"] ?? "text";
  if (format !== "text" && format !== "json") {
    return { error: `--log-format expects text or json, got ${JSON.stringify(format)}` };
  }
  const level = (v.verbosity ?? "info").toLowerCase();
  if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
    return { error: "-v expects debug, info, warn or error" };
  }
  return {
    db: v.db ?? DEFAULT_DB,
    http: http as HostPort | null,
    https: https as HostPort | null,
    tls,
    path,
    ratePerMinute: rate,
    trustProxy: v["trust-proxy"] === true,
    lmtp: lmtp as HostPort | null,
    smtp: smtp as HostPort | null,
    imap,
    maildir,
    resolvers,
    logFormat: format,
    level,
  };
}

function imapConfig(v: ListenValues, env: NodeJS.ProcessEnv): ListenConfig["imap"] | string {
  let url: URL;
  try {
    url = new URL(v.imap as string);
  } catch {
    return `--imap expects imap://USER@HOST[:PORT][/MAILBOX] or imaps://…, got ${JSON.stringify(v.imap)}`;
  }
  if (url.protocol !== "imap:" && url.protocol !== "imaps:") {
    return `--imap expects an imap:// or imaps:// URL, got ${url.protocol}`;
  }
  if (!url.username) return "--imap needs a user name in the URL (imap://USER@HOST)";
  let pass = decodeURIComponent(url.password);
  if (v["imap-password-file"] !== undefined) {
    try {
      pass = readFileSync(v["imap-password-file"], "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      return `cannot read --imap-password-file: ${(err as Error).message}`;
    }
  } else if (!pass && env.MTASTS_IMAP_PASSWORD) {
    pass = env.MTASTS_IMAP_PASSWORD;
  }
  if (!pass)
    return "--imap needs a password: --imap-password-file, the URL or $MTASTS_IMAP_PASSWORD";
  const secure = url.protocol === "imaps:";
  let ca: Buffer | undefined;
  if (v["imap-ca"] !== undefined) {
    try {
      ca = readFileSync(v["imap-ca"]);
    } catch (err) {
      return `cannot read --imap-ca: ${(err as Error).message}`;
    }
  }
  const interval = v["imap-interval"] === undefined ? 60 : Number(v["imap-interval"]);
  if (!Number.isFinite(interval) || interval <= 0) {
    return `--imap-interval expects seconds, got ${v["imap-interval"]}`;
  }
  const markSeen = !v["imap-keep-unseen"];
  const moveTo = v["imap-move"] ?? null;
  if (!markSeen && !moveTo)
    return "--imap-keep-unseen needs --imap-move (else every poll reads the same mail)";
  const fromPath = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  return {
    connection: {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port ? Number(url.port) : secure ? 993 : 143,
      secure,
      user: decodeURIComponent(url.username),
      pass,
      ...(ca ? { tls: { ca } } : {}),
    },
    mailbox: v["imap-mailbox"] ?? (fromPath || "INBOX"),
    moveTo,
    markSeen,
    intervalMs: interval * 1000,
  };
}

function hostPort(s: string): HostPort | null {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(s);
  if (!m || m[1] === "") return null;
  const port = Number(m[2]);
  return port >= 0 && port <= 65535 ? { host: m[1] as string, port } : null;
}

function sameAddress(a: HostPort, b: HostPort): boolean {
  return a.host === b.host && a.port === b.port && a.port !== 0;
}
