// The `mtasts serve` configuration file (YAML). Every key is checked; an
// unknown key or a bad value is an error naming the key path, the value and
// what is accepted, with its line, so a typo never falls back to a default.
// `monitor:` is not ours: it is handed on untouched to the monitoring hook.

import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument } from "yaml";
import {
  PASSWORD_HASH_FORMAT,
  passwordHashProblem,
  TOKEN_HASH_FORMAT,
  tokenHashProblem,
} from "./password.ts";

export type Role = "admin" | "read-only";
export type MetricsExposure = "off" | "token" | "listen";

export interface HostPort {
  host: string;
  port: number;
}

export interface ServeConfig {
  listen: HostPort;
  db: string;
  /** PEM files; with them the server speaks HTTPS and cookies are Secure. */
  tls: { cert: string; key: string } | null;
  intake: { path: string; perMinute: number; trustProxy: boolean };
  session: { lifetimeMs: number; secureCookie: boolean | "auto"; loginsPerMinute: number };
  /** off; token: /metrics on the main port for a logged-in user or API token; listen: own port, no auth. */
  metrics: { expose: MetricsExposure; listen: HostPort | null };
  users: { name: string; role: Role; passwordHash: string }[];
  apiTokens: { name: string; role: Role; tokenHash: string }[];
  /** The `monitor:` section as written; undefined when absent. */
  monitor: unknown;
}

export const DEFAULT_LISTEN: HostPort = { host: "127.0.0.1", port: 8080 };

export function defaultConfig(db: string): ServeConfig {
  return {
    listen: DEFAULT_LISTEN,
    db,
    tls: null,
    intake: { path: "/tlsrpt", perMinute: 300, trustProxy: false },
    session: { lifetimeMs: 12 * 3_600_000, secureCookie: "auto", loginsPerMinute: 10 },
    metrics: { expose: "token", listen: null },
    users: [],
    apiTokens: [],
    monitor: undefined,
  };
}

export interface ConfigProblem {
  path: string;
  value: unknown;
  accepted: string;
  line?: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(file: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map(
      (p) =>
        `${p.line === undefined ? "" : `line ${p.line}: `}${p.path || "(top level)"}: ${p.value === undefined ? "missing" : `got ${JSON.stringify(p.value)}`}; expected ${p.accepted}`,
    );
    super(
      lines.length === 1
        ? `${file}: ${lines[0]}`
        : `${file}: ${lines.length} problems:\n  ${lines.join("\n  ")}`,
    );
    this.problems = problems;
  }
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (loopback); null when it is not one. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[3]);
  if (port > 65_535) return null;
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ROLES = ["admin", "read-only"];
const TOP_KEYS = [
  "listen",
  "db",
  "tls",
  "intake",
  "session",
  "metrics",
  "users",
  "api_tokens",
  "monitor",
];

export function loadServeConfig(file: string, defaultDb: string): ServeConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, [
      { path: "", value: undefined, accepted: `a readable file (${(error as Error).message})` },
    ]);
  }
  return parseServeConfig(text, file, defaultDb);
}

export function parseServeConfig(text: string, file: string, defaultDb: string): ServeConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(file, [
      {
        path: "",
        value: undefined,
        accepted: `valid YAML (${e?.message.split("\n")[0]})`,
        line: e === undefined ? undefined : lineCounter.linePos(e.pos[0]).line,
      },
    ]);
  }
  const raw = doc.toJS() ?? {};
  const problems: ConfigProblem[] = [];
  const lineOf = (path: (string | number)[]) => {
    const node = doc.getIn(path, true);
    return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  const bad = (path: (string | number)[], value: unknown, accepted: string) => {
    problems.push({ path: dotted(path), value, accepted, line: lineOf(path) });
  };
  const config = defaultConfig(defaultDb);
  if (!isObject(raw)) {
    throw new ConfigError(file, [{ path: "", value: raw, accepted: "a mapping of settings" }]);
  }
  const known = (obj: Record<string, unknown>, keys: string[], at: (string | number)[]) => {
    for (const k of Object.keys(obj)) {
      if (!keys.includes(k)) bad([...at, k], obj[k], `one of the keys ${keys.join(", ")}`);
    }
  };
  known(raw, TOP_KEYS, []);

  if (raw.listen !== undefined) {
    const hp = typeof raw.listen === "string" ? parseHostPort(raw.listen) : null;
    if (hp === null) bad(["listen"], raw.listen, "HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
    else config.listen = hp;
  }
  if (raw.db !== undefined) {
    if (typeof raw.db !== "string" || raw.db.trim() === "") {
      bad(["db"], raw.db, "a SQLite file path or a postgres:// URL");
    } else config.db = raw.db;
  }
  if (raw.tls !== undefined && raw.tls !== null) {
    const t = raw.tls;
    if (!isObject(t)) bad(["tls"], t, "a mapping with cert and key (PEM file paths)");
    else {
      known(t, ["cert", "key"], ["tls"]);
      if (typeof t.cert !== "string")
        bad(["tls", "cert"], t.cert, "a PEM certificate chain file path");
      if (typeof t.key !== "string") bad(["tls", "key"], t.key, "a PEM private key file path");
      if (typeof t.cert === "string" && typeof t.key === "string")
        config.tls = { cert: t.cert, key: t.key };
    }
  }
  section(raw, "intake", ["path", "rate_limit", "trust_proxy"], bad, known, (s) => {
    if (s.path !== undefined) {
      if (
        typeof s.path !== "string" ||
        !/^\/[A-Za-z0-9._~/-]{0,200}$/.test(s.path) ||
        reserved(s.path)
      ) {
        bad(
          ["intake", "path"],
          s.path,
          "a URL path starting with / that is not /, /api, /static, /login, /logout, /metrics or /healthz",
        );
      } else config.intake.path = s.path;
    }
    if (s.rate_limit !== undefined) {
      if (!isCount(s.rate_limit, 1_000_000))
        bad(
          ["intake", "rate_limit"],
          s.rate_limit,
          "reports per minute per client, an integer from 0 (off) to 1000000",
        );
      else config.intake.perMinute = s.rate_limit as number;
    }
    if (s.trust_proxy !== undefined) {
      if (typeof s.trust_proxy !== "boolean")
        bad(["intake", "trust_proxy"], s.trust_proxy, "true or false");
      else config.intake.trustProxy = s.trust_proxy;
    }
  });
  section(raw, "session", ["lifetime", "secure_cookie", "logins_per_minute"], bad, known, (s) => {
    if (s.lifetime !== undefined) {
      const m = typeof s.lifetime === "string" ? DURATION.exec(s.lifetime) : null;
      const ms = m === null ? null : Number(m[1]) * (UNIT[m[2] as string] as number);
      if (ms === null || ms < 60_000 || ms > 30 * 86_400_000)
        bad(["session", "lifetime"], s.lifetime, "a duration from 1m to 30d, e.g. 12h");
      else config.session.lifetimeMs = ms;
    }
    if (s.secure_cookie !== undefined) {
      if (s.secure_cookie !== "auto" && typeof s.secure_cookie !== "boolean")
        bad(
          ["session", "secure_cookie"],
          s.secure_cookie,
          "auto (Secure when tls is set), true (behind a TLS proxy) or false",
        );
      else config.session.secureCookie = s.secure_cookie as boolean | "auto";
    }
    if (s.logins_per_minute !== undefined) {
      if (!isCount(s.logins_per_minute, 10_000) || s.logins_per_minute === 0)
        bad(
          ["session", "logins_per_minute"],
          s.logins_per_minute,
          "login attempts per minute per client, an integer from 1 to 10000",
        );
      else config.session.loginsPerMinute = s.logins_per_minute as number;
    }
  });
  section(raw, "metrics", ["expose", "listen"], bad, known, (s) => {
    if (s.expose !== undefined) {
      if (!["off", "token", "listen"].includes(s.expose as string))
        bad(
          ["metrics", "expose"],
          s.expose,
          "off, token (on the main port, for a login or API token) or listen (own address, no auth)",
        );
      else config.metrics.expose = s.expose as MetricsExposure;
    }
    if (s.listen !== undefined) {
      const hp = typeof s.listen === "string" ? parseHostPort(s.listen) : null;
      if (hp === null) bad(["metrics", "listen"], s.listen, "HOST:PORT for the metrics listener");
      else config.metrics.listen = hp;
    }
    if (config.metrics.expose === "listen" && config.metrics.listen === null) {
      bad(["metrics", "listen"], s.listen, "HOST:PORT: expose: listen needs an address");
    }
  });
  config.users = entries(raw, "users", ["name", "role", "password_hash"], bad, known, (e, at) => {
    const hash = e.password_hash;
    const why = typeof hash === "string" ? passwordHashProblem(hash) : "missing";
    if (why !== null)
      bad(
        [...at, "password_hash"],
        typeof hash === "string" ? `${hash.slice(0, 12)}…` : hash,
        `${PASSWORD_HASH_FORMAT}: ${why}`,
      );
    return why === null ? { passwordHash: hash as string } : null;
  }).map(({ name, role, passwordHash }) => ({ name, role, passwordHash }));
  config.apiTokens = entries(
    raw,
    "api_tokens",
    ["name", "role", "token_hash"],
    bad,
    known,
    (e, at) => {
      const hash = e.token_hash;
      const why = typeof hash === "string" ? tokenHashProblem(hash) : "missing";
      if (why !== null)
        bad(
          [...at, "token_hash"],
          typeof hash === "string" ? `${hash.slice(0, 12)}…` : hash,
          `${TOKEN_HASH_FORMAT}: ${why}`,
        );
      return why === null ? { tokenHash: hash as string } : null;
    },
  ).map(({ name, role, tokenHash }) => ({ name, role, tokenHash }));
  config.monitor = raw.monitor;
  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}

type Bad = (path: (string | number)[], value: unknown, accepted: string) => void;
type Known = (obj: Record<string, unknown>, keys: string[], at: (string | number)[]) => void;

function section(
  raw: Record<string, unknown>,
  name: string,
  keys: string[],
  bad: Bad,
  known: Known,
  read: (s: Record<string, unknown>) => void,
): void {
  const s = raw[name];
  if (s === undefined || s === null) return;
  if (!isObject(s)) {
    bad([name], s, `a mapping with ${keys.join(", ")}`);
    return;
  }
  known(s, keys, [name]);
  read(s);
}

/** A list of named entries with a role; names must be unique. */
function entries<T>(
  raw: Record<string, unknown>,
  name: string,
  keys: string[],
  bad: Bad,
  known: Known,
  read: (e: Record<string, unknown>, at: (string | number)[]) => T | null,
): (T & { name: string; role: Role })[] {
  const list = raw[name];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    bad([name], list, `a list of entries with ${keys.join(", ")}`);
    return [];
  }
  const out: (T & { name: string; role: Role })[] = [];
  const seen = new Set<string>();
  for (const [i, e] of list.entries()) {
    const at = [name, i];
    if (!isObject(e)) {
      bad(at, e, `an entry with ${keys.join(", ")}`);
      continue;
    }
    known(e, keys, at);
    let ok = true;
    if (typeof e.name !== "string" || !NAME.test(e.name)) {
      bad([...at, "name"], e.name, "1-64 letters, digits, . _ @ or -");
      ok = false;
    } else if (seen.has(e.name)) {
      bad([...at, "name"], e.name, "a name not used by an earlier entry");
      ok = false;
    } else seen.add(e.name);
    if (!ROLES.includes(e.role as string)) {
      bad([...at, "role"], e.role, "admin or read-only");
      ok = false;
    }
    const value = read(e, at);
    if (ok && value !== null) out.push({ ...value, name: e.name as string, role: e.role as Role });
  }
  return out;
}

function reserved(path: string): boolean {
  return /^\/(?:api|static|login|logout|metrics|healthz|domains|reports|alerts)?(?:\/|$)/.test(
    path,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
}

function dotted(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
