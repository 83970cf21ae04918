// Reads mta-sts-daemon.yml: every key postfix-mta-sts-resolver (PMSR)
// understands, with its defaults (SM-PMSR-01), plus our own keys. Unlike PMSR,
// which ignores what it does not know, an unknown key or a bad value is an
// error naming the key path, the value and what would be accepted, so a typo
// cannot silently fall back to a default.
//
// The file is parsed as YAML 1.1, as PyYAML does for PMSR: `mode: 0666` is
// octal 438 (SM-PMSR-02) and yes/no/on/off are booleans, so a PMSR file means
// the same thing to both daemons.

import { readFileSync } from "node:fs";
import { type Document, LineCounter, parseDocument, type YAMLError } from "yaml";
import { parseServerAddress } from "../adapters/dns.ts";
import { ipFamily } from "../adapters/ip.ts";
import { ConfigError, type ConfigProblem, show } from "../config/config-error.ts";
import { isPlainObject, lineOf, type Path } from "../config/yaml-lines.ts";
import type { CacheConfig, ListenConfig, ResolverConfig, ZoneConfig } from "./types.ts";

export interface LoadedResolverConfig {
  config: ResolverConfig;
  /** Things that work but are probably not what was meant, each prefixed with the file name. */
  warnings: string[];
}

const DEFAULT_ZONE: ZoneConfig = {
  strictTesting: false,
  timeoutMs: 4000,
  requireSni: true,
  tlsrpt: false,
};

export function defaultResolverConfig(): ResolverConfig {
  return {
    listen: { kind: "tcp", host: "127.0.0.1", port: 8461, reusePort: true },
    shutdownTimeoutMs: 20_000,
    cacheGraceMs: 60_000,
    proactive: { enabled: false, intervalMs: 86_400_000, concurrency: 100, graceRatio: 2 },
    cache: { type: "internal", size: 10_000 },
    defaultZone: { ...DEFAULT_ZONE },
    zones: new Map(),
    dnsServers: null,
    caFile: null,
    policyPort: 443,
    negativeTtlMs: 300_000,
    fetchBackoffMs: 300_000,
    fetchConcurrency: 64,
    dane: "prefer",
    metricsListen: null,
    limits: { maxRequestBytes: 1024, idleTimeoutMs: 300_000, maxConnections: 10_000 },
    log: { level: "info", format: "text" },
  };
}

/** Reads and parses the file at `path`; throws {@link ConfigError} when it is unreadable or invalid. */
export function loadResolverConfig(path: string): LoadedResolverConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, [
      {
        path: "",
        value: path,
        accepted: "a readable file",
        text: `cannot read the configuration file: ${fileReason(err)}`,
      },
    ]);
  }
  return parseResolverConfig(text, path);
}

/**
 * Parses the text of an mta-sts-daemon.yml. An empty document means all
 * defaults. Throws one {@link ConfigError} listing every problem found.
 */
export function parseResolverConfig(text: string, file = "<config>"): LoadedResolverConfig {
  const lineCounter = new LineCounter();
  // uniqueKeys: PyYAML lets a repeated key win silently; here it is an error,
  // because one of the two values is a mistake nobody would notice otherwise.
  // logLevel: the library would print its own warnings (e.g. a list used as a
  // key) to stderr; such keys are reported below as unknown keys instead.
  const doc = parseDocument(text, {
    version: "1.1",
    lineCounter,
    uniqueKeys: true,
    logLevel: "error",
  });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map(syntaxProblem));
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // Alias bombs ("billion laughs") end here, as do other unrepresentable documents.
    throw new ConfigError(file, [
      { path: "", value: undefined, accepted: "valid YAML", text: `YAML error: ${errorText(err)}` },
    ]);
  }
  const reader = new Reader(doc, lineCounter);
  for (const w of doc.warnings) reader.warnings.push(`YAML: ${firstLine(w.message)}`);
  const config = reader.top(data);
  if (reader.problems.length > 0) {
    // File order reads better than the order the checks happen to run in.
    const byLine = reader.problems.toSorted(
      (a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER),
    );
    throw new ConfigError(file, byLine);
  }
  return { config, warnings: reader.warnings.map((w) => `${file}: ${w}`) };
}

type Obj = Record<string, unknown>;

interface NumberRule {
  min: number;
  max?: number;
  /** `min` itself is refused. */
  above?: boolean;
  integer?: boolean;
  seconds?: boolean;
  /** Appended to the accepted text, e.g. the rule that sets the bound. */
  why?: string;
}

// Node's timers overflow past 2^31-1 ms and then fire at once; a duration that
// arms a timer must stay under it.
const TIMER_MAX_S = 2_147_483;

const ZONE_KEYS = ["strict_testing", "timeout", "require_sni", "tlsrpt"] as const;
const PROACTIVE_KEYS = ["enabled", "interval", "concurrency_limit", "grace_ratio"] as const;
const LIMIT_KEYS = ["max_request_bytes", "idle_timeout", "max_connections"] as const;
const TOP_KEYS = [
  "host",
  "port",
  "path",
  "mode",
  "reuse_port",
  "shutdown_timeout",
  "cache_grace",
  "proactive_policy_fetching",
  "cache",
  "default_zone",
  "zones",
  "dns",
  "tls",
  "negative_cache_ttl",
  "fetch_backoff",
  "fetch_concurrency",
  "dane",
  "metrics",
  "limits",
  "log",
] as const;
const CACHE_TYPES = ["internal", "sqlite", "redis", "redis_sentinel", "postgres"] as const;
const CACHE_OPTION_KEYS: Record<(typeof CACHE_TYPES)[number], readonly string[] | null> = {
  internal: ["cache_size"],
  sqlite: ["filename", "threads", "timeout"],
  redis: null,
  redis_sentinel: null,
  postgres: null,
};
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
const LOG_FORMATS = ["text", "json"] as const;
// 58 characters, not PostgreSQL's 63: the cache also creates `<table>_meta`,
// which must fit the identifier limit too (see cache/postgres.ts).
const PG_TABLE = /^[a-z_][a-z0-9_]{0,57}$/;

// Where a key that turned up at the top level really belongs, for the hint.
const HOME: Record<string, string> = {
  ...Object.fromEntries(ZONE_KEYS.map((k) => [k, "default_zone (or zones.<name>)"])),
  ...Object.fromEntries(PROACTIVE_KEYS.map((k) => [k, "proactive_policy_fetching"])),
  ...Object.fromEntries(LIMIT_KEYS.map((k) => [k, "limits"])),
  type: "cache",
  options: "cache",
  cache_size: "cache.options",
  servers: "dns",
  ca_file: "tls",
  listen: "metrics",
  level: "log",
  format: "log",
};

class Reader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  top(data: unknown): ResolverConfig {
    const def = defaultResolverConfig();
    const top = this.section(data, [], TOP_KEYS, "a mapping of settings (key: value lines)");
    if (!top) return def;

    const host = this.string(top, "host", [], "127.0.0.1", "a host name or IP address to bind");
    const port = this.number(top, "port", [], 8461, { min: 1, max: 65535, integer: true });
    const reusePort = this.bool(top, "reuse_port", [], true);
    const socketPath = this.string(top, "path", [], null, "a unix socket path");
    const mode = this.mode(top);
    let listen: ListenConfig;
    if (socketPath !== null) {
      if (given(top, "host") || given(top, "port")) {
        this.warn(["path"], "is set, so host and port are ignored (the unix socket replaces TCP)");
      }
      if (given(top, "reuse_port")) {
        this.warn(["reuse_port"], "applies to TCP only; ignored with a unix socket (path)");
      }
      listen = { kind: "unix", path: socketPath, mode };
    } else {
      if (mode !== null)
        this.warn(["mode"], "applies to a unix socket (path) only; ignored for TCP");
      listen = { kind: "tcp", host, port, reusePort };
    }

    return {
      listen,
      shutdownTimeoutMs: this.seconds(top, "shutdown_timeout", [], 20, {
        min: 0,
        max: TIMER_MAX_S,
      }),
      cacheGraceMs: this.seconds(top, "cache_grace", [], 60, { min: 0 }),
      proactive: this.proactive(top.proactive_policy_fetching, ["proactive_policy_fetching"]),
      cache: this.cache(top.cache, ["cache"]),
      defaultZone: this.zone(top.default_zone, ["default_zone"]),
      zones: this.zones(top.zones, ["zones"]),
      dnsServers: this.dns(top.dns, ["dns"]),
      caFile: this.tls(top.tls, ["tls"]),
      policyPort: this.policyPort(top.tls, ["tls"]),
      negativeTtlMs: this.seconds(top, "negative_cache_ttl", [], 300, {
        min: 0,
        max: 86_400,
        why: "(0 turns negative caching off)",
      }),
      fetchBackoffMs: this.seconds(top, "fetch_backoff", [], 300, {
        min: 300,
        max: 86_400,
        why: "(RFC 8461 §3.3, STS-FETCH-10: a failed policy fetch is not retried for at least 5 minutes)",
      }),
      fetchConcurrency: this.number(top, "fetch_concurrency", [], 64, {
        min: 1,
        max: 10_000,
        integer: true,
      }),
      dane: this.dane(top.dane, ["dane"]),
      metricsListen: this.metrics(top.metrics, ["metrics"]),
      limits: this.limits(top.limits, ["limits"]),
      log: this.log(top.log, ["log"]),
    };
  }

  proactive(value: unknown, path: Path): ResolverConfig["proactive"] {
    const o = this.section(value, path, PROACTIVE_KEYS) ?? {};
    return {
      enabled: this.bool(o, "enabled", path, false),
      // SM-PMSR-20: PMSR never sleeps less than a second between sweeps.
      intervalMs: this.seconds(o, "interval", path, 86_400, { min: 1, max: TIMER_MAX_S }),
      concurrency: this.number(o, "concurrency_limit", path, 100, { min: 1, integer: true }),
      graceRatio: this.number(o, "grace_ratio", path, 2, { min: 0, above: true }),
    };
  }

  cache(value: unknown, path: Path): CacheConfig {
    const fallback: CacheConfig = { type: "internal", size: 10_000 };
    const o = this.section(value, path, ["type", "options"]);
    if (!o) return fallback;
    const type = this.choice(o, "type", path, "internal", CACHE_TYPES);
    if (type === undefined) return fallback;
    const at = [...path, "options"];
    const need = `required for cache type ${type}`;
    const known = CACHE_OPTION_KEYS[type];
    // The driver-backed types take any option the driver might know.
    const opts = known
      ? this.section(o.options, at, known)
      : this.section(o.options, at, [], "a mapping of driver options", true);
    if (!opts) return fallback;
    switch (type) {
      case "internal": {
        return {
          type,
          size: this.number(opts, "cache_size", at, 10_000, { min: 1, integer: true }),
        };
      }
      case "sqlite": {
        const filename = this.required(opts, "filename", at, "a database file path", need);
        // PMSR sizes a thread pool with `threads`; node:sqlite is synchronous,
        // so the value is checked for PMSR's type and otherwise unused.
        if (opts.threads !== null) this.number(opts, "threads", at, 1, { min: 1, integer: true });
        return {
          type,
          filename: filename ?? "",
          timeoutMs: this.seconds(opts, "timeout", at, 5, {
            min: 0,
            above: true,
            max: TIMER_MAX_S,
          }),
        };
      }
      case "redis": {
        const url = this.required(
          opts,
          "url",
          at,
          "a redis://, rediss:// or unix:// URL",
          need,
          (u) => /^(?:rediss?|unix):\/\//i.test(u),
        );
        return {
          type,
          url: url ?? "",
          prefix: this.prefix(opts, at),
          options: passthrough(opts, ["url", "prefix"]),
        };
      }
      case "redis_sentinel": {
        const masterName = this.required(
          opts,
          "sentinel_master_name",
          at,
          "the name of the monitored master",
          need,
        );
        return {
          type,
          masterName: masterName ?? "",
          sentinels: this.sentinels(opts, at, need),
          prefix: this.prefix(opts, at),
          options: passthrough(opts, ["sentinel_master_name", "sentinels", "prefix"]),
        };
      }
      case "postgres": {
        const dsn = this.required(
          opts,
          "dsn",
          at,
          "a postgres:// or postgresql:// connection URI",
          need,
          (d) => /^postgres(?:ql)?:\/\//i.test(d),
        );
        const table = this.string(opts, "table", at, "mtasts_policy_cache", "a table name");
        if (!PG_TABLE.test(table)) {
          this.problem([...at, "table"], table, "a table name matching [a-z_][a-z0-9_]{0,57}");
        }
        return {
          type,
          dsn: dsn ?? "",
          table,
          timeoutMs: this.seconds(opts, "timeout", at, 5, {
            min: 0,
            above: true,
            max: TIMER_MAX_S,
          }),
          options: passthrough(opts, ["dsn", "table", "timeout"]),
        };
      }
    }
  }

  prefix(opts: Obj, path: Path): string {
    // Empty is allowed: it is how PMSR itself names its keys (the bare domain).
    return this.string(opts, "prefix", path, "mtasts:", 'a key prefix such as "mtasts:"', true);
  }

  sentinels(opts: Obj, path: Path, need: string): { host: string; port: number }[] {
    const at = [...path, "sentinels"];
    const accepted = 'a non-empty list of [host, port] pairs, e.g. [["sentinel1", 26379]]';
    const list = opts.sentinels;
    if (list === undefined || list === null) {
      this.problem(at, undefined, accepted, need);
      return [];
    }
    if (!Array.isArray(list) || list.length === 0) {
      this.problem(at, list, accepted);
      return [];
    }
    const out: { host: string; port: number }[] = [];
    list.forEach((item: unknown, i) => {
      const [host, port] = Array.isArray(item) ? item : [];
      const ok =
        Array.isArray(item) &&
        item.length === 2 &&
        typeof host === "string" &&
        host !== "" &&
        Number.isInteger(port) &&
        (port as number) >= 1 &&
        (port as number) <= 65535;
      if (ok) out.push({ host, port: port as number });
      else this.problem([...at, i], item, "a [host, port] pair with a port from 1 to 65535");
    });
    return out;
  }

  zone(value: unknown, path: Path): ZoneConfig {
    const o = this.section(value, path, ZONE_KEYS) ?? {};
    // Every zone starts from PMSR's built-in defaults, not from default_zone:
    // PMSR's populate_cfg_defaults fills each zone from the same constants.
    return {
      strictTesting: this.bool(o, "strict_testing", path, DEFAULT_ZONE.strictTesting),
      timeoutMs: this.seconds(o, "timeout", path, DEFAULT_ZONE.timeoutMs / 1000, {
        min: 0,
        above: true,
        max: TIMER_MAX_S,
      }),
      requireSni: this.bool(o, "require_sni", path, DEFAULT_ZONE.requireSni),
      tlsrpt: this.bool(o, "tlsrpt", path, DEFAULT_ZONE.tlsrpt),
    };
  }

  zones(value: unknown, path: Path): Map<string, ZoneConfig> {
    const out = new Map<string, ZoneConfig>();
    const o = this.section(value, path, [], "a mapping of zone names to zone settings", true);
    if (!o) return out;
    for (const [name, zone] of Object.entries(o)) {
      if (zone !== null && !isPlainObject(zone)) {
        const detail = (ZONE_KEYS as readonly string[]).includes(name)
          ? `zones holds named zones; put ${name} under zones.<name> or default_zone`
          : undefined;
        this.problem([...path, name], zone, `a mapping of ${ZONE_KEYS.join(", ")}`, detail);
        continue;
      }
      out.set(name, this.zone(zone, [...path, name]));
    }
    return out;
  }

  dns(value: unknown, path: Path): ResolverConfig["dnsServers"] {
    const o = this.section(value, path, ["servers"]);
    const list = o?.servers;
    if (list === undefined || list === null) return null;
    const at = [...path, "servers"];
    const accepted = 'an IP address, "IPv4:PORT" or "[IPv6]:PORT"';
    if (!Array.isArray(list) || list.length === 0) {
      this.problem(at, list, `a non-empty list, each entry ${accepted}`);
      return null;
    }
    const out: { host: string; port: number }[] = [];
    list.forEach((entry: unknown, i) => {
      const server = typeof entry === "string" ? parseServerAddress(entry) : null;
      if (server) out.push(server);
      else {
        // An unquoted [::1] is a YAML list, not a string.
        const detail = Array.isArray(entry) ? 'quote IPv6 entries: "[::1]:53"' : undefined;
        this.problem([...at, i], entry, accepted, detail);
      }
    });
    return out;
  }

  /** Read after `tls()`, which already reported unknown keys in the section. */
  policyPort(value: unknown, path: Path): number {
    const o = value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
    return this.number(o as Record<string, unknown>, "policy_port", path, 443, {
      min: 1,
      max: 65_535,
      integer: true,
    });
  }

  tls(value: unknown, path: Path): string | null {
    const o = this.section(value, path, ["ca_file", "policy_port"]) ?? {};
    const file = this.string(o, "ca_file", path, null, "a PEM file of CA certificates");
    if (file === null) return null;
    const at = [...path, "ca_file"];
    const accepted = "a readable PEM file of CA certificates (-----BEGIN CERTIFICATE-----)";
    let pem: string;
    try {
      pem = readFileSync(file, "utf8");
    } catch (err) {
      this.problem(at, file, accepted, fileReason(err));
      return file;
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      this.problem(at, file, accepted, "the file holds no PEM certificate");
    }
    return file;
  }

  dane(value: unknown, path: Path): ResolverConfig["dane"] {
    const o = this.section(value, path, ["mode"]) ?? {};
    // YAML 1.1 reads a bare `off` as false; that is what the writer meant.
    if (o.mode === false) return "off";
    return this.choice(o, "mode", path, "prefer", ["prefer", "off"]) ?? "prefer";
  }

  metrics(value: unknown, path: Path): string | null {
    const o = this.section(value, path, ["listen"]) ?? {};
    const accepted = '"HOST:PORT", e.g. "127.0.0.1:9464" or "[::1]:9464"';
    const listen = this.string(o, "listen", path, null, accepted);
    if (listen !== null && !isListenAddress(listen))
      this.problem([...path, "listen"], listen, accepted);
    return listen;
  }

  limits(value: unknown, path: Path): ResolverConfig["limits"] {
    const o = this.section(value, path, LIMIT_KEYS) ?? {};
    return {
      maxRequestBytes: this.number(o, "max_request_bytes", path, 1024, {
        min: 64,
        max: 100_000,
        integer: true,
      }),
      idleTimeoutMs: this.seconds(o, "idle_timeout", path, 300, {
        min: 0,
        above: true,
        max: TIMER_MAX_S,
      }),
      maxConnections: this.number(o, "max_connections", path, 10_000, { min: 1, integer: true }),
    };
  }

  log(value: unknown, path: Path): ResolverConfig["log"] {
    const o = this.section(value, path, ["level", "format"]) ?? {};
    return {
      level: this.choice(o, "level", path, "info", LOG_LEVELS) ?? "info",
      format: this.choice(o, "format", path, "text", LOG_FORMATS) ?? "text",
    };
  }

  /** SM-PMSR-02: a YAML 1.1 `0666` arrives here as 438; quoted forms are read as octal too. */
  mode(top: Obj): number | null {
    const value = this.get(top, "mode", [], null);
    if (value === undefined) return null;
    const accepted = "an octal permission from 0000 to 0777, e.g. 0666";
    let mode: number | undefined;
    let detail: string | undefined;
    if (typeof value === "number" && Number.isInteger(value)) {
      mode = value;
      if (value > 0o777) {
        detail = /^[0-7]+$/.test(String(value))
          ? `${value} without a leading 0 is decimal (0o${value.toString(8)}); write 0${value}`
          : `that is 0o${value.toString(8)}`;
      }
    } else if (typeof value === "string") {
      const m = /^(?:0o?)?([0-7]+)$/i.exec(value.trim());
      if (m) mode = Number.parseInt(m[1] as string, 8);
    }
    if (mode === undefined || mode < 0 || mode > 0o777) {
      this.problem(["mode"], value, accepted, detail);
      return null;
    }
    return mode;
  }

  // --- primitives ---

  /**
   * A mapping, or undefined after reporting a problem. Absent and empty
   * (`key:` with everything below commented out) both mean "all defaults".
   */
  section(
    value: unknown,
    path: Path,
    keys: readonly string[],
    accepted = `a mapping of ${keys.join(", ")}`,
    open = false,
  ): Obj | undefined {
    if (value === undefined || value === null) return {};
    if (!isPlainObject(value)) {
      this.problem(path, value, accepted);
      return undefined;
    }
    if (!open) {
      for (const key of Object.keys(value)) {
        if (keys.includes(key)) continue;
        const home = path.length === 0 ? HOME[key] : undefined;
        const near = keys.find((k) => editDistance(k, key) <= 2);
        const detail = home
          ? `unknown key; it belongs under ${home}`
          : near
            ? `unknown key (did you mean ${near}?)`
            : "unknown key";
        this.problem([...path, key], value[key], `one of ${keys.join(", ")}`, detail);
      }
    }
    return value;
  }

  /** The key's value; undefined when absent or empty, warning when empty hides a default. */
  get(o: Obj, key: string, path: Path, def: unknown): unknown {
    if (!Object.hasOwn(o, key)) return undefined;
    const value = o[key];
    if (value === null) {
      if (def !== null) this.warn([...path, key], `is empty; using the default ${show(def)}`);
      return undefined;
    }
    return value;
  }

  bool(o: Obj, key: string, path: Path, def: boolean): boolean {
    const value = this.get(o, key, path, def);
    if (value === undefined) return def;
    if (typeof value === "boolean") return value;
    const detail =
      typeof value === "string" && /^(?:true|false|yes|no|on|off)$/i.test(value)
        ? "a quoted word is a string; remove the quotes"
        : undefined;
    this.problem([...path, key], value, "true or false (yes/no and on/off also work)", detail);
    return def;
  }

  number(o: Obj, key: string, path: Path, def: number, rule: NumberRule): number {
    const value = this.get(o, key, path, def);
    if (value === undefined) return def;
    const ok =
      typeof value === "number" &&
      Number.isFinite(value) &&
      (!rule.integer || Number.isInteger(value)) &&
      (rule.above ? value > rule.min : value >= rule.min) &&
      (rule.max === undefined || value <= rule.max);
    if (ok) return value;
    const detail =
      typeof value === "string" && /^\s*[-+]?\.?\d/.test(value)
        ? "a quoted number is a string; remove the quotes"
        : undefined;
    this.problem([...path, key], value, describeRule(rule), detail);
    return def;
  }

  /** A duration given in seconds (fractions allowed), returned in milliseconds. */
  seconds(o: Obj, key: string, path: Path, def: number, rule: NumberRule): number {
    const s = this.number(o, key, path, def, { ...rule, seconds: true });
    const ms = Math.round(s * 1000);
    // A positive duration must not round down to "no time at all".
    return rule.above && ms === 0 ? 1 : ms;
  }

  string<D extends string | null>(
    o: Obj,
    key: string,
    path: Path,
    def: D,
    accepted: string,
    allowEmpty = false,
  ): string | D {
    const value = this.get(o, key, path, def);
    if (value === undefined) return def;
    if (typeof value === "string" && (allowEmpty || value !== "")) return value;
    this.problem([...path, key], value, accepted);
    return def;
  }

  required(
    o: Obj,
    key: string,
    path: Path,
    accepted: string,
    need: string,
    check?: (s: string) => boolean,
  ): string | undefined {
    const value = o[key];
    if (value === undefined || value === null) {
      this.problem([...path, key], undefined, accepted, need);
      return undefined;
    }
    if (typeof value !== "string" || value === "" || (check && !check(value))) {
      this.problem([...path, key], value, accepted);
      return undefined;
    }
    return value;
  }

  choice<T extends string>(
    o: Obj,
    key: string,
    path: Path,
    def: T,
    allowed: readonly T[],
  ): T | undefined {
    const value = this.get(o, key, path, def);
    if (value === undefined) return def;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
      return value as T;
    }
    this.problem([...path, key], value, `one of ${allowed.join(", ")}`);
    return undefined;
  }

  problem(path: Path, value: unknown, accepted: string, detail?: string): void {
    const line = lineOf(this.#doc, this.#lines, path);
    this.problems.push({
      path: formatPath(path),
      value,
      accepted,
      ...(detail === undefined ? {} : { detail }),
      ...(line === undefined ? {} : { line }),
    });
  }

  warn(path: Path, text: string): void {
    const line = lineOf(this.#doc, this.#lines, path);
    this.warnings.push(`${formatPath(path)} ${text}${line === undefined ? "" : ` (line ${line})`}`);
  }
}

function given(o: Obj, key: string): boolean {
  return o[key] !== undefined && o[key] !== null;
}

function passthrough(o: Obj, ours: readonly string[]): Record<string, unknown> {
  // fromEntries defines own properties, so even a `__proto__` key stays data.
  return Object.fromEntries(Object.entries(o).filter(([k]) => !ours.includes(k)));
}

function isListenAddress(text: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return false;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return false;
  if (m[1] !== undefined) return ipFamily(m[1]) === 6;
  const host = m[2] as string;
  return (
    ipFamily(host) === 4 ||
    /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(
      host,
    )
  );
}

function describeRule(rule: NumberRule): string {
  const what = rule.integer ? "an integer" : rule.seconds ? "a number of seconds" : "a number";
  const low = `${rule.above ? ">" : ">="} ${rule.min}`;
  const range =
    rule.max === undefined
      ? low
      : rule.above
        ? `${low} and <= ${rule.max}`
        : `from ${rule.min} to ${rule.max}`;
  return `${what} ${range}${rule.why ? ` ${rule.why}` : ""}`;
}

function formatPath(path: Path): string {
  if (path.length === 0) return "(top level)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    // Zone names may hold dots or spaces; brackets keep the path unambiguous.
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function syntaxProblem(err: YAMLError): ConfigProblem {
  const pos = err.linePos?.[0];
  const message = firstLine(err.message).replace(/ at line \d+, column \d+:?$/, "");
  return {
    path: "",
    value: undefined,
    accepted: "valid YAML",
    ...(pos ? { line: pos.line } : {}),
    text: pos
      ? `YAML syntax error at line ${pos.line}, column ${pos.col}: ${message}`
      : `YAML syntax error: ${message}`,
  };
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function fileReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file (ENOENT)";
    case "EACCES":
    case "EPERM":
      return `permission denied (${code})`;
    case "EISDIR":
      return "it is a directory (EISDIR)";
    default:
      return errorText(err);
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}
