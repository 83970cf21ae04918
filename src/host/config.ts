// host.yml → HostConfig. An unknown key or a bad value is an error naming the
// key path, the value and what is accepted (ConfigError, as for the
// resolver), so a typo cannot silently fall back to a default. Relative file
// names are taken from the config file's directory.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { parseServerAddress } from "../adapters/dns.ts";
import { ipFamily } from "../adapters/ip.ts";
import { ConfigError } from "../config/config-error.ts";
import { certFiles, domains } from "./config-domains.ts";
import { ConfigReader, type Path } from "./config-reader.ts";
import { DEFAULT_CACHE_MAX_AGE } from "./replies.ts";
import type { HostConfig, ListenAddress } from "./types.ts";

export { ConfigError };

const TOP_KEYS = [
  "listen",
  "http_listen",
  "metrics_listen",
  "policies",
  "certificate",
  "domains",
  "cache_max_age",
  "mirror",
  "acme",
  "tls",
  "reload",
  "id_check",
  "dns",
  "limits",
  "workers",
  "log",
] as const;
const LIMIT_KEYS = [
  "max_header_bytes",
  "headers_timeout",
  "request_timeout",
  "keep_alive_timeout",
  "handshake_timeout",
  "max_connections",
  "shutdown_timeout",
] as const;
const TIMER_MAX_S = 2_147_483;

export function defaultHostConfig(): HostConfig {
  return {
    listen: [{ host: "0.0.0.0", port: 443 }],
    httpListen: [],
    metricsListen: null,
    policies: null,
    domains: new Map(),
    certificate: null,
    cacheMaxAge: DEFAULT_CACHE_MAX_AGE,
    tls: { sessionResumption: true },
    mirror: { refreshMs: 3_600_000, timeoutMs: 60_000, caFile: null },
    acme: null,
    reload: { debounceMs: 200, rescanMs: 60_000 },
    idCheck: { enabled: true, delayMs: 60_000, intervalMs: 3_600_000 },
    dnsServers: null,
    limits: {
      maxHeaderBytes: 8192,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 15_000,
      keepAliveTimeoutMs: 5_000,
      handshakeTimeoutMs: 10_000,
      maxConnections: 10_000,
      shutdownTimeoutMs: 10_000,
    },
    workers: 1,
    log: { level: "info", format: "text", access: false },
  };
}

/** The quick mode: `--policies DIR --listen HOST:PORT --cert FILE --key FILE`. */
export function quickHostConfig(options: {
  policies: string;
  listen: string;
  cert: string;
  key: string;
  httpListen?: string | undefined;
}): HostConfig {
  const reader = new ConfigReader();
  const config = defaultHostConfig();
  config.policies = resolve(options.policies);
  config.certificate = { cert: resolve(options.cert), key: resolve(options.key) };
  config.listen = [listenAddress(reader, options.listen, ["--listen"])];
  if (options.httpListen !== undefined)
    config.httpListen = [listenAddress(reader, options.httpListen, ["--http-listen"])];
  if (reader.problems.length > 0) throw new ConfigError("command line", reader.problems);
  return config;
}

/** One HOST:PORT from a command-line flag; throws ConfigError naming the flag. */
export function listenFlag(text: string, flag: string): ListenAddress {
  const reader = new ConfigReader();
  const at = listenAddress(reader, text, [flag]);
  if (reader.problems.length > 0) throw new ConfigError("command line", reader.problems);
  return at;
}

export function loadHostConfig(path: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(path, [
      { path: "", value: path, accepted: "a readable file", text: `cannot read it: ${why}` },
    ]);
  }
  return parseHostConfig(text, path);
}

export function parseHostConfig(text: string, file = "<config>"): HostConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, logLevel: "error" });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: "",
        value: undefined,
        accepted: "valid YAML",
        ...(e.linePos ? { line: e.linePos[0].line } : {}),
        text: `YAML syntax error: ${e.message.split("\n", 1)[0]}`,
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(file, [
      { path: "", value: undefined, accepted: "valid YAML", text: `YAML error: ${String(err)}` },
    ]);
  }
  const reader = new ConfigReader(doc, lines);
  const base = file.startsWith("<") ? process.cwd() : dirname(resolve(file));
  const config = readTop(reader, data, (p) => resolve(base, p));
  if (reader.problems.length > 0) throw new ConfigError(file, reader.problems);
  return config;
}

function readTop(r: ConfigReader, data: unknown, abs: (p: string) => string): HostConfig {
  const c = defaultHostConfig();
  const top = r.section(data, [], TOP_KEYS);
  if (!top) return c;
  const listen = r.strings(top, "listen", [], "HOST:PORT");
  if (listen.length > 0) c.listen = listen.map((l) => listenAddress(r, l.value, l.at));
  c.httpListen = r
    .strings(top, "http_listen", [], "HOST:PORT")
    .map((l) => listenAddress(r, l.value, l.at));
  const metrics = r.string(top, "metrics_listen", [], "HOST:PORT for /metrics and /healthz");
  if (metrics !== null) c.metricsListen = listenAddress(r, metrics, ["metrics_listen"]);
  const policies = r.string(top, "policies", [], "a directory of <domain>.txt policy files");
  c.policies = policies === null ? null : abs(policies);
  c.certificate = certFiles(r, top.certificate, ["certificate"], abs, true);
  c.domains = domains(r, top.domains, abs);
  if (c.policies === null && c.domains.size === 0)
    r.problem(
      ["policies"],
      undefined,
      "a directory of <domain>.txt files",
      "no policies: set policies or domains",
    );
  c.cacheMaxAge = r.number(top, "cache_max_age", [], DEFAULT_CACHE_MAX_AGE, 0, 86_400, true);
  const mirror = r.section(top.mirror, ["mirror"], ["refresh", "timeout", "ca_file"]) ?? {};
  const caFile = r.string(mirror, "ca_file", ["mirror"], "a PEM file of trusted roots");
  c.mirror = {
    refreshMs: r.seconds(mirror, "refresh", ["mirror"], 3600, 300, TIMER_MAX_S),
    timeoutMs: r.seconds(mirror, "timeout", ["mirror"], 60, 1, 600),
    caFile: caFile === null ? null : abs(caFile),
  };
  if (top.acme !== undefined) c.acme = acmeSettings(r, top.acme, abs);
  const tls = r.section(top.tls, ["tls"], ["session_resumption"]) ?? {};
  c.tls = { sessionResumption: r.bool(tls, "session_resumption", ["tls"], true) };
  const reload = r.section(top.reload, ["reload"], ["debounce", "rescan"]) ?? {};
  c.reload = {
    debounceMs: r.seconds(reload, "debounce", ["reload"], 0.2, 0, 60),
    rescanMs: r.seconds(reload, "rescan", ["reload"], 60, 1, TIMER_MAX_S),
  };
  const idc = r.section(top.id_check, ["id_check"], ["enabled", "delay", "interval"]) ?? {};
  c.idCheck = {
    enabled: r.bool(idc, "enabled", ["id_check"], true),
    delayMs: r.seconds(idc, "delay", ["id_check"], 60, 0, TIMER_MAX_S),
    intervalMs: r.seconds(idc, "interval", ["id_check"], 3600, 1, TIMER_MAX_S),
  };
  const dns = r.section(top.dns, ["dns"], ["servers"]) ?? {};
  const servers = r.strings(dns, "servers", ["dns"], "an IP address, IP:PORT or [IPv6]:PORT");
  if (servers.length > 0) {
    c.dnsServers = [];
    for (const s of servers) {
      const address = parseServerAddress(s.value);
      if (address) c.dnsServers.push(address);
      else r.problem(s.at, s.value, "an IP address, IP:PORT or [IPv6]:PORT");
    }
  }
  const lim = r.section(top.limits, ["limits"], LIMIT_KEYS) ?? {};
  const L = ["limits"];
  const d = c.limits;
  c.limits = {
    maxHeaderBytes: r.number(lim, "max_header_bytes", L, d.maxHeaderBytes, 1024, 65_536, true),
    headersTimeoutMs: r.seconds(lim, "headers_timeout", L, d.headersTimeoutMs / 1000, 0.01, 3600),
    requestTimeoutMs: r.seconds(lim, "request_timeout", L, d.requestTimeoutMs / 1000, 0.01, 3600),
    keepAliveTimeoutMs: r.seconds(
      lim,
      "keep_alive_timeout",
      L,
      d.keepAliveTimeoutMs / 1000,
      0,
      3600,
    ),
    handshakeTimeoutMs: r.seconds(
      lim,
      "handshake_timeout",
      L,
      d.handshakeTimeoutMs / 1000,
      0.01,
      3600,
    ),
    maxConnections: r.number(lim, "max_connections", L, d.maxConnections, 1, 1_000_000, true),
    shutdownTimeoutMs: r.seconds(lim, "shutdown_timeout", L, d.shutdownTimeoutMs / 1000, 0, 3600),
  };
  if (c.limits.requestTimeoutMs < c.limits.headersTimeoutMs)
    r.problem(
      ["limits", "request_timeout"],
      c.limits.requestTimeoutMs / 1000,
      `a number of seconds >= limits.headers_timeout (${c.limits.headersTimeoutMs / 1000})`,
    );
  c.workers = workers(r, top.workers);
  if (c.acme !== null && c.workers > 1)
    r.problem(
      ["workers"],
      c.workers,
      "1 when acme: is set",
      "each worker would order its own certificates; run one worker with ACME",
    );
  if (c.acme?.challengeTypes.includes("http-01") && c.httpListen.length === 0)
    r.problem(
      ["http_listen"],
      undefined,
      "a port-80 listener (e.g. 0.0.0.0:80) for ACME HTTP-01",
      "acme.challenges has http-01 but nothing answers on port 80",
    );
  const log = r.section(top.log, ["log"], ["level", "format", "access"]) ?? {};
  c.log = {
    level: r.choice(log, "level", ["log"], "info", ["debug", "info", "warn", "error"] as const),
    format: r.choice(log, "format", ["log"], "text", ["text", "json"] as const),
    access: r.bool(log, "access", ["log"], false),
  };
  return c;
}

const ACME_DIRECTORIES: Record<string, string> = {
  letsencrypt: "https://acme-v02.api.letsencrypt.org/directory",
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
};

function acmeSettings(r: ConfigReader, value: unknown, abs: (p: string) => string) {
  const P = ["acme"];
  const o = r.section(value, P, ["state_dir", "directory", "email", "challenges", "ca_file"]) ?? {};
  const stateDir = r.string(o, "state_dir", P, "a directory for the ACME account and certificates");
  if (stateDir === null)
    r.problem([...P, "state_dir"], undefined, "a directory", "state_dir is required");
  const directory =
    r.string(o, "directory", P, "letsencrypt, letsencrypt-staging or an https:// URL") ??
    "letsencrypt";
  const directoryUrl = ACME_DIRECTORIES[directory] ?? directory;
  if (!/^https:\/\//.test(directoryUrl))
    r.problem(
      [...P, "directory"],
      directory,
      "letsencrypt, letsencrypt-staging or an https:// URL",
    );
  const email = r.string(o, "email", P, "a contact address");
  if (email !== null && !/^[^\s@]+@[^\s@]+$/.test(email))
    r.problem([...P, "email"], email, "an e-mail address such as hostmaster@example.com");
  const kinds = r.strings(o, "challenges", P, "http-01 or tls-alpn-01");
  const challengeTypes: ("http-01" | "tls-alpn-01")[] = [];
  for (const k of kinds) {
    if (k.value === "http-01" || k.value === "tls-alpn-01") challengeTypes.push(k.value);
    else r.problem(k.at, k.value, "http-01 or tls-alpn-01");
  }
  const caFile = r.string(o, "ca_file", P, "a PEM file of trusted roots");
  return {
    stateDir: abs(stateDir ?? "."),
    directoryUrl,
    email,
    challengeTypes: challengeTypes.length > 0 ? challengeTypes : ["http-01", "tls-alpn-01"],
    caFile: caFile === null ? null : abs(caFile),
  } satisfies HostConfig["acme"];
}

function workers(r: ConfigReader, value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (value === "auto") return availableParallelism();
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 256)
    return value;
  r.problem(
    ["workers"],
    value,
    `an integer from 1 to 256, or auto (${availableParallelism()} here)`,
  );
  return 1;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (every IPv4 address); port 0 picks a free one. */
export function listenAddress(r: ConfigReader, text: string, at: Path): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : -1;
  const host = m ? (m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2])) : undefined;
  const okHost =
    host !== undefined &&
    (m?.[1] !== undefined
      ? ipFamily(host) === 6
      : ipFamily(host) === 4 || /^[a-z0-9.-]+$/i.test(host));
  if (!m || port > 65535 || !okHost || host === undefined) {
    r.problem(at, text, "HOST:PORT, [IPv6]:PORT or :PORT (e.g. 0.0.0.0:443)");
    return { host: "0.0.0.0", port: 443 };
  }
  return { host, port };
}
