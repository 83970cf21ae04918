// The `monitor:` section of the serve configuration, already parsed from YAML
// to a plain value. Every problem is collected (not just the first) and named
// by key path, value and what would be accepted, as the resolver's config does,
// so a typo never falls back to a default silently.

import { type DnsServerAddress, parseServerAddress } from "../adapters/dns.ts";
import { policyDomain } from "../core/names.ts";
import { type Path, type Reader, reader } from "./config-reader.ts";

export interface FailureRateRule {
  /** Failed / (successful + failed) above this fires (0 < threshold < 1). */
  threshold: number;
  windowMs: number;
  /** Fewer sessions than this in the window say too little to judge. */
  minSessions: number;
}

export interface WebhookTarget {
  url: string;
  /** Sent with every POST (e.g. an Authorization header); never logged. */
  headers: Record<string, string>;
  /** PEM roots trusted for this receiver besides the system's (a private CA); null: system only. */
  caFile: string | null;
}

export interface MailTarget {
  smtp: {
    host: string;
    port: number;
    /** TLS from the first byte (port 465). */
    secure: boolean;
    /** Require STARTTLS; when false, the message goes in the clear even if offered. */
    starttls: boolean;
    auth: { user: string; pass: string } | null;
    /** The name the server's certificate must carry, when `host` is an address or another name. */
    servername: string | null;
  };
  from: string;
  to: string[];
}

export interface MonitorConfig {
  /** Policy domains, A-labels, lowercase, in configuration order. */
  domains: string[];
  intervalMs: number;
  /** Bound of one domain's whole check. */
  timeoutMs: number;
  /** Check runs older than this are deleted. */
  historyMs: number;
  rules: {
    failureRate: FailureRateRule | null;
    /** Null: the rule is off. */
    certExpiryDays: number | null;
    newResultType: { windowMs: number } | null;
    policyHost: boolean;
    idOutOfStep: boolean;
  };
  delivery: { webhooks: WebhookTarget[]; mail: MailTarget | null; timeoutMs: number };
  /** Re-send a still-open alert this often; null: never. */
  renotifyMs: number | null;
  /** How the checks reach the world: the `check` command's --resolver, --ca-file and port flags. */
  check: MonitorCheckSettings;
}

export interface MonitorCheckSettings {
  /** DNS servers to ask; null: the system's. */
  servers: DnsServerAddress[] | null;
  /** Extra trusted roots (a PEM file path) for policy hosts and MX hosts. */
  caFile: string | null;
  /** Port overrides, for labs and testing (check's --https-port/--smtp-port). */
  httpsPort: number | null;
  smtpPort: number | null;
}

export const DAY_MS = 86_400_000;

const DEFAULTS = {
  intervalMs: 6 * 3_600_000,
  timeoutMs: 30_000,
  historyMs: 400 * DAY_MS,
  failureRate: { threshold: 0.05, windowMs: DAY_MS, minSessions: 100 },
  certExpiryDays: 21,
  deliveryTimeoutMs: 10_000,
};

const TOP_KEYS = [
  "domains",
  "interval",
  "timeout",
  "history",
  "rules",
  "delivery",
  "renotify",
  "check",
];
const RULE_KEYS = [
  "failure_rate",
  "cert_expiry_days",
  "new_result_type",
  "policy_host",
  "id_out_of_step",
];

export function parseMonitorConfig(
  value: unknown,
  path = "monitor",
): { ok: true; value: MonitorConfig } | { ok: false; errors: string[] } {
  const r = reader();
  const top = r.object(value ?? {}, [path], TOP_KEYS);
  const seen = new Set<string>();
  const domains = r.list(
    top?.domains ?? [],
    [path, "domains"],
    "a list of domain names",
    (v, p) => {
      const d = typeof v === "string" ? policyDomain(v) : null;
      if (d === null) r.problem(p, v, "a domain name such as example.com");
      else if (seen.has(d)) r.problem(p, v, "each domain once", "listed twice");
      else {
        seen.add(d);
        return d;
      }
      return null;
    },
  );
  const config: MonitorConfig = {
    domains: domains ?? [],
    intervalMs: r.duration(top?.interval, [path, "interval"], DEFAULTS.intervalMs, 60_000),
    timeoutMs: r.duration(top?.timeout, [path, "timeout"], DEFAULTS.timeoutMs, 1000),
    historyMs: r.duration(top?.history, [path, "history"], DEFAULTS.historyMs, DAY_MS, {
      maxMs: 3650 * DAY_MS,
    }),
    rules: rules(r, top?.rules, [path, "rules"]),
    delivery: delivery(r, top?.delivery, [path, "delivery"]),
    renotifyMs:
      top?.renotify === "never" || top?.renotify === undefined || top.renotify === false
        ? null
        : r.duration(top.renotify, [path, "renotify"], 0, 60_000, { prefix: '"never" or ' }),
    check: checkSettings(r, top?.check, [path, "check"]),
  };
  if (config.timeoutMs >= config.intervalMs) {
    r.problem([path, "timeout"], top?.timeout, "a duration shorter than the interval");
  }
  return r.problems.length > 0 ? { ok: false, errors: r.problems } : { ok: true, value: config };
}

function rules(r: Reader, value: unknown, path: string[]): MonitorConfig["rules"] {
  const o = r.object(value ?? {}, path, RULE_KEYS);
  const at = (k: string) => [...path, k];
  let failureRate: FailureRateRule | null = { ...DEFAULTS.failureRate };
  if (o?.failure_rate === false) failureRate = null;
  else if (o?.failure_rate !== undefined && o.failure_rate !== true) {
    const f = r.object(o.failure_rate, at("failure_rate"), ["threshold", "window", "min_sessions"]);
    failureRate = {
      threshold: r.number(f?.threshold, [...at("failure_rate"), "threshold"], {
        fallback: DEFAULTS.failureRate.threshold,
        min: 0,
        max: 1,
        exclusive: true,
        accepted: "a fraction between 0 and 1, e.g. 0.05 for 5%",
      }),
      windowMs: r.duration(f?.window, [...at("failure_rate"), "window"], DAY_MS, 3_600_000),
      minSessions: r.number(f?.min_sessions, [...at("failure_rate"), "min_sessions"], {
        fallback: DEFAULTS.failureRate.minSessions,
        min: 1,
        integer: true,
        accepted: "a whole number of sessions ≥ 1",
      }),
    };
  }
  let certExpiryDays: number | null = DEFAULTS.certExpiryDays;
  if (o?.cert_expiry_days === false) certExpiryDays = null;
  else if (o?.cert_expiry_days !== undefined) {
    certExpiryDays = r.number(o.cert_expiry_days, at("cert_expiry_days"), {
      fallback: DEFAULTS.certExpiryDays,
      min: 1,
      max: 365,
      integer: true,
      accepted: "false, or a whole number of days from 1 to 365",
    });
  }
  const windowMs = failureRate?.windowMs ?? DAY_MS;
  let newResultType: { windowMs: number } | null = { windowMs };
  if (o?.new_result_type === false) newResultType = null;
  else if (o?.new_result_type !== undefined && o.new_result_type !== true) {
    const n = r.object(o.new_result_type, at("new_result_type"), ["window"], "true, false or ");
    newResultType = {
      windowMs: r.duration(n?.window, [...at("new_result_type"), "window"], windowMs, 3_600_000),
    };
  }
  return {
    failureRate,
    certExpiryDays,
    newResultType,
    policyHost: r.flag(o?.policy_host, at("policy_host"), true),
    idOutOfStep: r.flag(o?.id_out_of_step, at("id_out_of_step"), true),
  };
}

function checkSettings(r: Reader, value: unknown, path: string[]): MonitorCheckSettings {
  const o = r.object(value ?? {}, path, ["resolvers", "ca_file", "https_port", "smtp_port"]);
  const servers = r.list(
    o?.resolvers ?? [],
    [...path, "resolvers"],
    'a list of "HOST:PORT"',
    (v, p) => {
      const a = typeof v === "string" ? parseServerAddress(v) : null;
      if (a === null) r.problem(p, v, "an IP address with an optional port, e.g. 127.0.0.1:53");
      return a;
    },
  );
  let caFile: string | null = null;
  if (o?.ca_file !== undefined) {
    if (typeof o.ca_file === "string" && o.ca_file !== "") caFile = o.ca_file;
    else r.problem([...path, "ca_file"], o.ca_file, "the path of a PEM file");
  }
  const port = (key: string) =>
    o?.[key] === undefined
      ? null
      : r.number(o[key], [...path, key], {
          fallback: 0,
          min: 1,
          max: 65535,
          integer: true,
          accepted: "a port number from 1 to 65535",
        });
  return {
    servers: servers === null || servers.length === 0 ? null : servers,
    caFile,
    httpsPort: port("https_port"),
    smtpPort: port("smtp_port"),
  };
}

function delivery(r: Reader, value: unknown, path: string[]): MonitorConfig["delivery"] {
  const o = r.object(value ?? {}, path, ["webhooks", "mail", "timeout"]);
  const webhooks =
    r.list(
      o?.webhooks ?? [],
      [...path, "webhooks"],
      "a list of {url, headers, ca_file}",
      (v, p) => {
        const w = r.object(v, p, ["url", "headers", "ca_file"]);
        if (w === null) return null;
        const url = r.url(w.url, [...p, "url"]);
        const headers: Record<string, string> = {};
        const h = r.object(w.headers ?? {}, [...p, "headers"], null);
        for (const [k, hv] of Object.entries(h ?? {})) {
          if (
            !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) ||
            typeof hv !== "string" ||
            /[\r\n]/.test(hv)
          )
            r.problem(
              [...p, "headers", k],
              "(hidden)",
              "a header name with a one-line string value",
            );
          else headers[k] = hv;
        }
        let caFile: string | null = null;
        if (w.ca_file !== undefined) {
          if (typeof w.ca_file === "string" && w.ca_file !== "") caFile = w.ca_file;
          else r.problem([...p, "ca_file"], w.ca_file, "the path of a PEM file");
        }
        return url === null ? null : { url, headers, caFile };
      },
    ) ?? [];
  return {
    webhooks,
    mail: o?.mail === undefined ? null : mail(r, o.mail, [...path, "mail"]),
    timeoutMs: r.duration(o?.timeout, [...path, "timeout"], DEFAULTS.deliveryTimeoutMs, 1000),
  };
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

function mail(r: Reader, value: unknown, path: string[]): MailTarget | null {
  const o = r.object(value, path, ["smtp", "from", "to"]);
  if (o === null) return null;
  const s = r.object(
    o.smtp,
    [...path, "smtp"],
    ["host", "port", "secure", "starttls", "auth", "servername"],
  );
  const secure = r.flag(s?.secure, [...path, "smtp", "secure"], false);
  const address = (v: unknown, p: Path) => {
    if (typeof v === "string" && ADDRESS.test(v)) return v;
    r.problem(p, v, "a mail address such as alerts@example.com");
    return null;
  };
  let auth: { user: string; pass: string } | null = null;
  if (s?.auth !== undefined) {
    const a = r.object(s.auth, [...path, "smtp", "auth"], ["user", "pass"]);
    if (a !== null && typeof a.user === "string" && typeof a.pass === "string") {
      auth = { user: a.user, pass: a.pass };
    } else if (a !== null) {
      r.problem([...path, "smtp", "auth"], "(hidden)", "{user: <string>, pass: <string>}");
    }
  }
  const host = typeof s?.host === "string" && s.host.length > 0 ? s.host : null;
  if (s !== null && host === null) r.problem([...path, "smtp", "host"], s.host, "a host name");
  const from = address(o.from, [...path, "from"]);
  const to = r.list(o.to, [...path, "to"], "a list of mail addresses", address);
  if (to !== null && to.length === 0) r.problem([...path, "to"], o.to, "at least one address");
  return {
    smtp: {
      host: host ?? "",
      port: r.number(s?.port, [...path, "smtp", "port"], {
        fallback: secure ? 465 : 25,
        min: 1,
        max: 65535,
        integer: true,
        accepted: "a port number from 1 to 65535",
      }),
      secure,
      starttls: r.flag(s?.starttls, [...path, "smtp", "starttls"], !secure),
      auth,
      servername: servername(r, s?.servername, [...path, "smtp", "servername"]),
    },
    from: from ?? "",
    to: to ?? [],
  };
}

function servername(r: Reader, value: unknown, path: Path): string | null {
  if (value === undefined) return null;
  if (typeof value === "string" && /^[a-z0-9.-]{1,253}$/i.test(value)) return value;
  r.problem(path, value, "a host name, e.g. smtp.example.com");
  return null;
}
