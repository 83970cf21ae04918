// The `mtasts serve` configuration as the server uses it, its defaults, and
// the error that names what is wrong with a file (config-file.ts reads one).

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
  intake: {
    path: string;
    perMinute: number;
    trustProxy: boolean;
    /** Policy domains we manage (A-labels); reports for others are quarantined. Null: accept all. */
    managedDomains: string[] | null;
  };
  session: {
    lifetimeMs: number;
    secureCookie: boolean | "auto";
    loginsPerMinute: number;
    /** Count login attempts per X-Forwarded-For client, for a server behind a reverse proxy. */
    trustProxy: boolean;
  };
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
    intake: { path: "/tlsrpt", perMinute: 300, trustProxy: false, managedDomains: null },
    session: {
      lifetimeMs: 12 * 3_600_000,
      secureCookie: "auto",
      loginsPerMinute: 10,
      trustProxy: false,
    },
    metrics: { expose: "token", listen: null },
    users: [],
    apiTokens: [],
    monitor: undefined,
  };
}

export { ConfigError, type ConfigProblem } from "../config/config-error.ts";

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (loopback); null when it is not one. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[3]);
  if (port > 65_535) return null;
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}
