// Reads the `mtasts serve` configuration file (YAML). Every key is checked; an
// unknown key or a bad value is an error naming the key path, the value and
// what is accepted, with its line, so a typo never falls back to a default.
// `monitor:` is not ours: it is handed on untouched to the monitoring hook.

import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument } from "yaml";
import { policyDomain } from "../core/names.ts";
import {
  ConfigError,
  type ConfigProblem,
  defaultConfig,
  type MetricsExposure,
  parseHostPort,
  type ServeConfig,
} from "./config.ts";
import { dotted, entries, isCount, isObject, reserved, section } from "./config-shapes.ts";
import {
  PASSWORD_HASH_FORMAT,
  passwordHashProblem,
  TOKEN_HASH_FORMAT,
  tokenHashProblem,
} from "./password.ts";

const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
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
  const intakeKeys = ["path", "rate_limit", "trust_proxy", "managed_domains"];
  section(raw, "intake", intakeKeys, bad, known, (s) => {
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
    if (s.managed_domains !== undefined) {
      const list = Array.isArray(s.managed_domains) ? s.managed_domains : null;
      const accepted = "a list of policy domains (e.g. [example.com, example.net])";
      if (list === null || list.length === 0)
        bad(["intake", "managed_domains"], s.managed_domains, accepted);
      else {
        const domains: string[] = [];
        list.forEach((d, i) => {
          const name = typeof d === "string" ? policyDomain(d) : null;
          if (name === null)
            bad(["intake", "managed_domains", i], d, "a domain name such as example.com");
          else domains.push(name);
        });
        config.intake.managedDomains = domains;
      }
    }
  });
  const sessionKeys = ["lifetime", "secure_cookie", "logins_per_minute", "trust_proxy"];
  section(raw, "session", sessionKeys, bad, known, (s) => {
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
    if (s.trust_proxy !== undefined) {
      if (typeof s.trust_proxy !== "boolean")
        bad(
          ["session", "trust_proxy"],
          s.trust_proxy,
          "true (behind a reverse proxy that appends X-Forwarded-For) or false",
        );
      else config.session.trustProxy = s.trust_proxy;
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
