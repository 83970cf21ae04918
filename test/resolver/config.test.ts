// mta-sts-daemon.yml loading: PMSR's files must mean the same to us as to
// PMSR, and every mistake must be named precisely enough to fix without
// reading the source.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConfigError } from "../../src/config/config-error.ts";
import {
  defaultResolverConfig,
  loadResolverConfig,
  parseResolverConfig,
} from "../../src/resolver/config.ts";
import type { ResolverConfig, ZoneConfig } from "../../src/resolver/types.ts";

const dir = mkdtempSync(join(tmpdir(), "mtasts-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const caFile = join(dir, "roots.pem");
writeFileSync(caFile, PEM);

const zone = (over: Partial<ZoneConfig> = {}): ZoneConfig => ({
  strictTesting: false,
  timeoutMs: 4000,
  requireSni: true,
  tlsrpt: false,
  ...over,
});

/** The defaults with some fields replaced, for whole-config comparisons. */
function expected(over: Partial<ResolverConfig>): ResolverConfig {
  return { ...defaultResolverConfig(), ...over };
}

function parse(text: string) {
  return parseResolverConfig(text, "mta-sts-daemon.yml");
}

function problemOf(text: string): ConfigError {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`accepted:\n${text}`);
}

// --- defaults ---

test("SM-PMSR-01 an empty file, a comment-only file and a null document are all defaults", () => {
  for (const text of [
    "",
    "\n\n",
    "# nothing set here\n  # still nothing\n",
    "~\n",
    "---\n",
    "null",
  ]) {
    const { config, warnings } = parse(text);
    assert.deepEqual(config, defaultResolverConfig(), JSON.stringify(text));
    assert.deepEqual(warnings, []);
  }
});

test("SM-PMSR-01 the defaults are PMSR's, plus ours", () => {
  assert.deepEqual(defaultResolverConfig(), {
    listen: { kind: "tcp", host: "127.0.0.1", port: 8461, reusePort: true },
    shutdownTimeoutMs: 20_000,
    cacheGraceMs: 60_000,
    proactive: { enabled: false, intervalMs: 86_400_000, concurrency: 100, graceRatio: 2 },
    cache: { type: "internal", size: 10_000 },
    defaultZone: zone(),
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
  });
});

test("defaultResolverConfig hands out independent objects", () => {
  const a = defaultResolverConfig();
  a.defaultZone.tlsrpt = true;
  a.zones.set("x", zone());
  a.log.level = "debug";
  const b = defaultResolverConfig();
  assert.equal(b.defaultZone.tlsrpt, false);
  assert.equal(b.zones.size, 0);
  assert.equal(b.log.level, "info");
});

test("SM-PMSR-01 missing sections and empty sections both take defaults", () => {
  const { config } = parse("cache:\ndefault_zone:\n  # tlsrpt: true\nzones:\nlog:\n");
  assert.deepEqual(config, defaultResolverConfig());
});

// --- PMSR example shapes (written afresh; same keys as PMSR's config_examples) ---

const pmsrZones = `
default_zone:
  strict_testing: false
  timeout: 4
  # tlsrpt: true
zones:
  relay:
    strict_testing: true
    timeout: 10
`;
const pmsrZonesExpected = {
  defaultZone: zone(),
  zones: new Map([["relay", zone({ strictTesting: true, timeoutMs: 10_000 })]]),
};

test("SM-PMSR-01 PMSR shape: internal cache over TCP", () => {
  const { config, warnings } = parse(`
host: 0.0.0.0
port: 9461
reuse_port: false
shutdown_timeout: 15
cache:
  type: internal
  options:
    cache_size: 5000
${pmsrZones}`);
  assert.deepEqual(
    config,
    expected({
      listen: { kind: "tcp", host: "0.0.0.0", port: 9461, reusePort: false },
      shutdownTimeoutMs: 15_000,
      cache: { type: "internal", size: 5000 },
      ...pmsrZonesExpected,
    }),
  );
  assert.deepEqual(warnings, []);
});

test("SM-PMSR-01 PMSR shape: sqlite cache (threads accepted and unused)", () => {
  const { config, warnings } = parse(`
host: 127.0.0.1
port: 8461
cache:
  type: sqlite
  options:
    filename: "/srv/mta-sts/policies.sqlite"
    threads: 8
    timeout: 2.5
${pmsrZones}`);
  assert.deepEqual(
    config,
    expected({
      cache: { type: "sqlite", filename: "/srv/mta-sts/policies.sqlite", timeoutMs: 2500 },
      ...pmsrZonesExpected,
    }),
  );
  assert.deepEqual(warnings, []);
});

test("SM-PMSR-02 PMSR shape: sqlite cache on a unix socket with mode 0666", () => {
  const { config, warnings } = parse(`
path: "/run/mta-sts/socketmap.sock"
mode: 0666
shutdown_timeout: 20
cache:
  type: sqlite
  options:
    filename: "/srv/mta-sts/policies.sqlite"
${pmsrZones}`);
  assert.deepEqual(
    config,
    expected({
      listen: { kind: "unix", path: "/run/mta-sts/socketmap.sock", mode: 0o666 },
      cache: { type: "sqlite", filename: "/srv/mta-sts/policies.sqlite", timeoutMs: 5000 },
      ...pmsrZonesExpected,
    }),
  );
  assert.equal(config.listen.kind === "unix" && config.listen.mode, 438);
  assert.deepEqual(warnings, []);
});

test("SM-PMSR-01 PMSR shape: redis cache keeps redis-py options as given", () => {
  const { config } = parse(`
cache:
  type: redis
  options:
    url: "redis://cache.internal:6380/2"
    max_connections: 40
    socket_timeout: 0.5
    socket_connect_timeout: 2.0
    health_check_interval: 30
${pmsrZones}`);
  assert.deepEqual(
    config,
    expected({
      cache: {
        type: "redis",
        url: "redis://cache.internal:6380/2",
        prefix: "mtasts:",
        options: {
          max_connections: 40,
          socket_timeout: 0.5,
          socket_connect_timeout: 2,
          health_check_interval: 30,
        },
      },
      ...pmsrZonesExpected,
    }),
  );
});

test("SM-PMSR-01 PMSR shape: redis_sentinel cache with [host, port] pairs", () => {
  const { config } = parse(`
cache:
  type: redis_sentinel
  options:
    sentinel_master_name: "policy-primary"
    sentinels:
      - ["s1.internal", 26379]
      - ["s2.internal", 26380]
    password: "hunter2"
    socket_timeout: 1.5
    prefix: "sts/"
${pmsrZones}`);
  assert.deepEqual(
    config,
    expected({
      cache: {
        type: "redis_sentinel",
        masterName: "policy-primary",
        sentinels: [
          { host: "s1.internal", port: 26379 },
          { host: "s2.internal", port: 26380 },
        ],
        prefix: "sts/",
        options: { password: "hunter2", socket_timeout: 1.5 },
      },
      ...pmsrZonesExpected,
    }),
  );
});

test("SM-PMSR-01 PMSR shape: postgres cache with asyncpg pool options", () => {
  const { config } = parse(`
cache:
  type: postgres
  options:
    dsn: postgres://mta@%2Fvar%2Frun%2Fpostgresql/mta
    min_size: 2
    max_size: 12
    timeout: 3
    table: sts_cache
${pmsrZones}`);
  assert.deepEqual(
    config,
    expected({
      cache: {
        type: "postgres",
        dsn: "postgres://mta@%2Fvar%2Frun%2Fpostgresql/mta",
        table: "sts_cache",
        timeoutMs: 3000,
        options: { min_size: 2, max_size: 12 },
      },
      ...pmsrZonesExpected,
    }),
  );
  const plain = parse("cache: {type: postgres, options: {dsn: 'postgresql://db/x'}}").config;
  assert.deepEqual(plain.cache, {
    type: "postgres",
    dsn: "postgresql://db/x",
    table: "mtasts_policy_cache",
    timeoutMs: 5000,
    options: {},
  });
});

test("SM-PMSR-01 proactive_policy_fetching, shutdown_timeout and cache_grace", () => {
  const { config } = parse(`
shutdown_timeout: 0.5
cache_grace: 0
proactive_policy_fetching:
  enabled: true
  interval: 3600
  concurrency_limit: 20
  grace_ratio: 4
`);
  assert.equal(config.shutdownTimeoutMs, 500);
  assert.equal(config.cacheGraceMs, 0);
  assert.deepEqual(config.proactive, {
    enabled: true,
    intervalMs: 3_600_000,
    concurrency: 20,
    graceRatio: 4,
  });
});

// --- SM-PMSR-02 mode ---

test("SM-PMSR-02 mode: a leading-zero integer is octal, as PyYAML reads it", () => {
  const cases: [string, number][] = [
    ["0666", 0o666],
    ["0600", 0o600],
    ["0777", 0o777],
    ['"0666"', 0o666],
    ["'666'", 0o666],
    ["0o660", 0o660],
    ['"0o640"', 0o640],
    ["438", 438],
    ["0", 0],
  ];
  for (const [text, mode] of cases) {
    const { config } = parse(`path: /run/s.sock\nmode: ${text}\n`);
    assert.deepEqual(config.listen, { kind: "unix", path: "/run/s.sock", mode }, text);
  }
  const none = parse("path: /run/s.sock\n").config;
  assert.deepEqual(none.listen, { kind: "unix", path: "/run/s.sock", mode: null });
});

test("SM-PMSR-02 mode: 666 without the leading zero is refused with the fix, not read as 0o1232", () => {
  const err = problemOf("path: /run/s.sock\nmode: 666\n");
  assert.equal(err.path, "mode");
  assert.equal(err.value, 666);
  assert.match(err.accepted, /0777/);
  assert.match(err.message, /mode = 666: .*decimal.*write 0666/);
  assert.match(err.message, /\(line 2\)/);
  for (const bad of ["01777", '"0888"', "-1", "rw-rw-rw-", "6.5"]) {
    assert.equal(problemOf(`path: /s\nmode: ${bad}\n`).path, "mode", bad);
  }
});

// --- SM-PMSR-03 zones ---

test("SM-PMSR-03 each zone starts from PMSR's built-in defaults, not from default_zone", () => {
  const { config } = parse(`
default_zone:
  strict_testing: true
  timeout: 9
  require_sni: false
  tlsrpt: true
zones:
  plain: {}
  empty:
  partial:
    tlsrpt: true
  "with.dot":
    timeout: 1.25
`);
  assert.deepEqual(config.defaultZone, {
    strictTesting: true,
    timeoutMs: 9000,
    requireSni: false,
    tlsrpt: true,
  });
  assert.deepEqual(
    config.zones,
    new Map([
      ["plain", zone()],
      ["empty", zone()],
      ["partial", zone({ tlsrpt: true })],
      ["with.dot", zone({ timeoutMs: 1250 })],
    ]),
  );
});

test("SM-WEAK-02 tlsrpt stays off unless the file turns it on", () => {
  assert.equal(parse("").config.defaultZone.tlsrpt, false);
  assert.equal(parse("zones: {z: {}}").config.zones.get("z")?.tlsrpt, false);
  assert.equal(parse("default_zone: {tlsrpt: true}").config.defaultZone.tlsrpt, true);
});

test("SM-PMSR-01 booleans: YAML 1.1 yes/no/on/off, as PyYAML reads a PMSR file", () => {
  const { config } = parse(`
reuse_port: no
proactive_policy_fetching: {enabled: yes}
default_zone: {strict_testing: on, require_sni: off, tlsrpt: True}
`);
  assert.equal(config.listen.kind === "tcp" && config.listen.reusePort, false);
  assert.equal(config.proactive.enabled, true);
  assert.deepEqual(
    config.defaultZone,
    zone({ strictTesting: true, requireSni: false, tlsrpt: true }),
  );
});

// --- our keys ---

test("our keys: a full set parses to the typed config", () => {
  const { config, warnings } = parse(`
dns:
  servers: ["192.0.2.53", "198.51.100.1:5353", "[2001:db8::53]:53", "::1"]
tls:
  ca_file: ${JSON.stringify(caFile)}
negative_cache_ttl: 120
fetch_backoff: 900
fetch_concurrency: 8
dane:
  mode: off
metrics:
  listen: "[::1]:9464"
limits:
  max_request_bytes: 2048
  idle_timeout: 30
  max_connections: 500
log:
  level: debug
  format: json
`);
  assert.deepEqual(
    config,
    expected({
      dnsServers: [
        { host: "192.0.2.53", port: 53 },
        { host: "198.51.100.1", port: 5353 },
        { host: "2001:db8::53", port: 53 },
        { host: "::1", port: 53 },
      ],
      caFile,
      negativeTtlMs: 120_000,
      fetchBackoffMs: 900_000,
      fetchConcurrency: 8,
      dane: "off",
      metricsListen: "[::1]:9464",
      limits: { maxRequestBytes: 2048, idleTimeoutMs: 30_000, maxConnections: 500 },
      log: { level: "debug", format: "json" },
    }),
  );
  assert.deepEqual(warnings, []);
});

test("SM-WEAK-03 negative_cache_ttl: 0 turns negative caching off; 86400 is the ceiling", () => {
  assert.equal(parse("negative_cache_ttl: 0").config.negativeTtlMs, 0);
  assert.equal(parse("negative_cache_ttl: 86400").config.negativeTtlMs, 86_400_000);
  assert.equal(problemOf("negative_cache_ttl: 86401").path, "negative_cache_ttl");
});

test("STS-FETCH-10 fetch_backoff: 300 seconds is the floor and the error cites RFC 8461 §3.3", () => {
  assert.equal(parse("fetch_backoff: 300").config.fetchBackoffMs, 300_000);
  const err = problemOf("fetch_backoff: 60");
  assert.equal(err.path, "fetch_backoff");
  assert.equal(err.value, 60);
  assert.match(err.accepted, /300/);
  assert.match(err.message, /RFC 8461 §3\.3/);
  assert.match(err.message, /STS-FETCH-10/);
});

test("metrics.listen accepts host names, IPv4 and bracketed IPv6 with a port", () => {
  for (const listen of ["localhost:9464", "0.0.0.0:1", "[::]:65535", "metrics.internal:9100"]) {
    assert.equal(parse(`metrics: {listen: "${listen}"}`).config.metricsListen, listen);
  }
  for (const bad of ["9464", ":9464", "::1:9464", "host:0", "host:70000", "bad_host:1", "[x]:1"]) {
    const err = problemOf(`metrics: {listen: "${bad}"}`);
    assert.equal(err.path, "metrics.listen", bad);
  }
});

test("tls.ca_file must be a readable PEM file", () => {
  const notPem = join(dir, "not.pem");
  writeFileSync(notPem, "just text\n");
  const missing = problemOf(`tls: {ca_file: "${join(dir, "absent.pem")}"}`);
  assert.equal(missing.path, "tls.ca_file");
  assert.match(missing.message, /no such file/);
  const wrong = problemOf(`tls: {ca_file: "${notPem}"}`);
  assert.match(wrong.message, /no PEM certificate/);
  assert.match(wrong.accepted, /BEGIN CERTIFICATE/);
  const folder = problemOf(`tls: {ca_file: "${dir}"}`);
  assert.match(folder.message, /directory/);
});

// --- validation errors name the path, the value and what is accepted ---

const BAD: { name: string; text: string; path: string; value: unknown; accepted: RegExp }[] = [
  {
    name: "unknown top-level key",
    text: "hots: 127.0.0.1",
    path: "hots",
    value: "127.0.0.1",
    accepted: /one of host, port, path/,
  },
  {
    name: "unknown zone key",
    text: "zones:\n  test:\n    timout: 4",
    path: "zones.test.timout",
    value: 4,
    accepted: /one of strict_testing, timeout, require_sni, tlsrpt/,
  },
  {
    name: "unknown default_zone key",
    text: "default_zone: {sni: true}",
    path: "default_zone.sni",
    value: true,
    accepted: /require_sni/,
  },
  {
    name: "port out of range",
    text: "port: 70000",
    path: "port",
    value: 70000,
    accepted: /integer from 1 to 65535/,
  },
  {
    name: "fractional port",
    text: "port: 84.61",
    path: "port",
    value: 84.61,
    accepted: /integer/,
  },
  {
    name: "zone timeout not a number",
    text: "zones:\n  test:\n    timeout: abc",
    path: "zones.test.timeout",
    value: "abc",
    accepted: /number of seconds > 0/,
  },
  {
    name: "zone timeout zero",
    text: "default_zone: {timeout: 0}",
    path: "default_zone.timeout",
    value: 0,
    accepted: /> 0/,
  },
  {
    name: "infinite timeout",
    text: "shutdown_timeout: .inf",
    path: "shutdown_timeout",
    value: Number.POSITIVE_INFINITY,
    accepted: /seconds/,
  },
  {
    name: "negative cache_grace",
    text: "cache_grace: -5",
    path: "cache_grace",
    value: -5,
    accepted: /seconds >= 0/,
  },
  {
    name: "fetch_backoff below RFC 8461 §3.3 (STS-FETCH-10)",
    text: "fetch_backoff: 60",
    path: "fetch_backoff",
    value: 60,
    accepted: /300/,
  },
  {
    name: "fetch_concurrency zero",
    text: "fetch_concurrency: 0",
    path: "fetch_concurrency",
    value: 0,
    accepted: /integer from 1 to 10000/,
  },
  {
    name: "bad dns server",
    text: "dns:\n  servers: ['192.0.2.1', 'dns.example:53']",
    path: "dns.servers[1]",
    value: "dns.example:53",
    accepted: /IPv4:PORT/,
  },
  {
    name: "unquoted IPv6 dns server (a YAML list)",
    text: "dns:\n  servers:\n    - [::1]",
    path: "dns.servers[0]",
    value: ["::1"],
    accepted: /\[IPv6\]:PORT/,
  },
  {
    name: "empty dns server list",
    text: "dns: {servers: []}",
    path: "dns.servers",
    value: [],
    accepted: /non-empty list/,
  },
  {
    name: "unknown dns key",
    text: "dns: {server: ['192.0.2.1']}",
    path: "dns.server",
    value: ["192.0.2.1"],
    accepted: /servers/,
  },
  {
    name: "missing ca_file",
    text: "tls:\n  ca_file: /nonexistent/roots.pem",
    path: "tls.ca_file",
    value: "/nonexistent/roots.pem",
    accepted: /PEM/,
  },
  {
    name: "bad log level",
    text: "log: {level: verbose}",
    path: "log.level",
    value: "verbose",
    accepted: /one of debug, info, warn, error/,
  },
  {
    name: "bad log format",
    text: "log: {format: xml}",
    path: "log.format",
    value: "xml",
    accepted: /text, json/,
  },
  {
    name: "dane.mode on",
    text: "dane: {mode: on}",
    path: "dane.mode",
    value: true,
    accepted: /prefer, off/,
  },
  {
    name: "unknown cache type",
    text: "cache:\n  type: memcached",
    path: "cache.type",
    value: "memcached",
    accepted: /internal, sqlite, redis, redis_sentinel, postgres/,
  },
  {
    name: "sqlite without filename",
    text: "cache:\n  type: sqlite\n  options: {timeout: 5}",
    path: "cache.options.filename",
    value: undefined,
    accepted: /file path/,
  },
  {
    name: "unknown internal cache option",
    text: "cache: {type: internal, options: {size: 5}}",
    path: "cache.options.size",
    value: 5,
    accepted: /cache_size/,
  },
  {
    name: "unknown sqlite cache option",
    text: "cache: {type: sqlite, options: {filename: /x.db, journal: wal}}",
    path: "cache.options.journal",
    value: "wal",
    accepted: /filename, threads, timeout/,
  },
  {
    name: "cache options given as a list (and no knock-on missing url)",
    text: "cache: {type: redis, options: [url]}",
    path: "cache.options",
    value: ["url"],
    accepted: /mapping/,
  },
  {
    name: "sqlite threads not an integer",
    text: "cache: {type: sqlite, options: {filename: /x.db, threads: 2.5}}",
    path: "cache.options.threads",
    value: 2.5,
    accepted: /integer >= 1/,
  },
  {
    name: "redis without url",
    text: "cache: {type: redis, options: {max_connections: 5}}",
    path: "cache.options.url",
    value: undefined,
    accepted: /redis:\/\//,
  },
  {
    name: "redis url with another scheme",
    text: "cache: {type: redis, options: {url: 'http://127.0.0.1:6379'}}",
    path: "cache.options.url",
    value: "http://127.0.0.1:6379",
    accepted: /rediss:\/\//,
  },
  {
    name: "sentinel given as a string",
    text: "cache:\n  type: redis_sentinel\n  options:\n    sentinel_master_name: m\n    sentinels: ['s1:26379']",
    path: "cache.options.sentinels[0]",
    value: "s1:26379",
    accepted: /\[host, port\]/,
  },
  {
    name: "postgres without dsn",
    text: "cache: {type: postgres}",
    path: "cache.options.dsn",
    value: undefined,
    accepted: /postgres:\/\//,
  },
  {
    name: "postgres table that is not a plain identifier",
    text: "cache: {type: postgres, options: {dsn: 'postgres://db/x', table: 'Policy; drop'}}",
    path: "cache.options.table",
    value: "Policy; drop",
    accepted: /\[a-z_\]/,
  },
  {
    name: "zone that is not a mapping",
    text: "zones:\n  relay: strict",
    path: "zones.relay",
    value: "strict",
    accepted: /mapping/,
  },
  {
    name: "zone settings written directly under zones",
    text: "zones:\n  timeout: 4",
    path: "zones.timeout",
    value: 4,
    accepted: /mapping/,
  },
  {
    name: "quoted boolean",
    text: "reuse_port: 'true'",
    path: "reuse_port",
    value: "true",
    accepted: /true or false/,
  },
  {
    name: "section given as a scalar",
    text: "proactive_policy_fetching: true",
    path: "proactive_policy_fetching",
    value: true,
    accepted: /enabled, interval/,
  },
  {
    name: "grace_ratio zero",
    text: "proactive_policy_fetching: {grace_ratio: 0}",
    path: "proactive_policy_fetching.grace_ratio",
    value: 0,
    accepted: /> 0/,
  },
  {
    name: "limits.max_request_bytes too small",
    text: "limits: {max_request_bytes: 16}",
    path: "limits.max_request_bytes",
    value: 16,
    accepted: /from 64 to 100000/,
  },
  {
    name: "empty host",
    text: "host: ''",
    path: "host",
    value: "",
    accepted: /host name or IP/,
  },
  {
    name: "top level is a list",
    text: "- host: 127.0.0.1",
    path: "(top level)",
    value: [{ host: "127.0.0.1" }],
    accepted: /mapping/,
  },
  {
    name: "top level is a scalar",
    text: "just some words",
    path: "(top level)",
    value: "just some words",
    accepted: /mapping/,
  },
];

for (const c of BAD) {
  test(`rejected with path, value and accepted values: ${c.name}`, () => {
    const err = problemOf(c.text);
    assert.equal(err.problems.length, 1, err.message);
    assert.equal(err.path, c.path);
    assert.deepEqual(err.value, c.value);
    assert.match(err.accepted, c.accepted);
    assert.match(err.message, /^mta-sts-daemon\.yml: /);
    assert.ok(err.message.includes(c.path), err.message);
    assert.ok(err.message.includes(`expected ${err.accepted}`), err.message);
    if (c.value !== undefined) {
      const shown =
        typeof c.value === "number" && !Number.isFinite(c.value) ? ".inf" : JSON.stringify(c.value);
      assert.ok(err.message.includes(`= ${shown}`), err.message);
    } else assert.ok(err.message.includes(`${c.path} is missing`), err.message);
  });
}

test("the message reads: file: path = value: expected …", () => {
  const err = problemOf("zones:\n  test:\n    timeout: abc\n");
  assert.equal(
    err.message,
    'mta-sts-daemon.yml: zones.test.timeout = "abc": expected a number of seconds > 0 and <= 2147483 (line 3)',
  );
  assert.equal(err.line, 3);
  assert.equal(err.file, "mta-sts-daemon.yml");
});

test("every problem is reported, one a line, in file order", () => {
  const err = problemOf(`
port: 70000
zones:
  test:
    timeout: abc
log:
  level: loud
bogus: 1
`);
  assert.deepEqual(
    err.problems.map((p) => [p.path, p.line]),
    [
      ["port", 2],
      ["zones.test.timeout", 5],
      ["log.level", 7],
      ["bogus", 8],
    ],
  );
  const lines = err.message.split("\n");
  assert.equal(lines[0], "mta-sts-daemon.yml: 4 problems:");
  assert.equal(lines.length, 5);
  assert.match(lines[1] as string, /^ {2}port = 70000: /);
  assert.equal(err.path, "port");
});

test("an unknown key gets a suggestion: a near name, or the section it belongs in", () => {
  assert.match(problemOf("zones: {z: {timout: 3}}").message, /did you mean timeout\?/);
  assert.match(problemOf("strict_testing: true").message, /belongs under default_zone/);
  assert.match(problemOf("servers: ['192.0.2.1']").message, /belongs under dns/);
});

test("a quoted number or boolean is named as such", () => {
  assert.match(problemOf("port: '8461'").message, /quoted number is a string/);
  assert.match(problemOf("reuse_port: 'yes'").message, /quoted word is a string/);
  assert.doesNotMatch(problemOf("port: eighty").message, /quoted/);
});

test("a YAML syntax error gives line and column", () => {
  const err = problemOf("host: 127.0.0.1\ncache:\n  type: [internal\nport: 1\n");
  assert.match(err.message, /^mta-sts-daemon\.yml: YAML syntax error at line \d+, column \d+: /);
  assert.equal(typeof err.line, "number");
  const tab = problemOf("host: 127.0.0.1\n\tport: 1\n");
  assert.match(tab.message, /YAML syntax error at line 2/);
});

test("a repeated key is an error rather than a silent last-wins", () => {
  assert.match(problemOf("port: 1\nport: 2\n").message, /line 2.*Map keys must be unique/);
});

test("a second YAML document is an error", () => {
  assert.match(problemOf("port: 1\n---\nport: 2\n").message, /multiple documents/);
});

test("aliases and merge keys work (PyYAML reads them too)", () => {
  const { config } = parse(`
default_zone: &base
  timeout: 6
  tlsrpt: true
zones:
  a: *base
  b:
    <<: *base
    strict_testing: true
`);
  assert.deepEqual(config.zones.get("a"), zone({ timeoutMs: 6000, tlsrpt: true }));
  assert.deepEqual(
    config.zones.get("b"),
    zone({ timeoutMs: 6000, tlsrpt: true, strictTesting: true }),
  );
});

test("an alias bomb is refused, not expanded", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
  ].join("\n");
  assert.match(problemOf(bomb).message, /YAML/);
});

// --- passthrough ---

test("redis, redis_sentinel and postgres options pass through untouched; a __proto__ key stays data", () => {
  const { config } = parse(`
cache:
  type: redis
  options:
    url: rediss://:secret@cache.internal:6380/0
    ssl_cert_reqs: required
    retry_on_timeout: true
    client_name: null
    nested: {a: [1, 2]}
    __proto__: {polluted: true}
`);
  assert.equal(config.cache.type, "redis");
  if (config.cache.type !== "redis") return;
  assert.equal(config.cache.url, "rediss://:secret@cache.internal:6380/0");
  assert.deepEqual(Object.keys(config.cache.options), [
    "ssl_cert_reqs",
    "retry_on_timeout",
    "client_name",
    "nested",
    "__proto__",
  ]);
  assert.equal(config.cache.options.client_name, null);
  assert.deepEqual(config.cache.options.nested, { a: [1, 2] });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(config.cache.options), Object.prototype);
});

test("redis prefix may be empty (PMSR's own key layout)", () => {
  const { config } = parse("cache: {type: redis, options: {url: 'redis://r', prefix: ''}}");
  assert.equal(config.cache.type === "redis" && config.cache.prefix, "");
});

// --- warnings ---

test("SM-PMSR-13 path with host, port or reuse_port: warned, the unix socket wins", () => {
  const { config, warnings } = parse(
    "host: 0.0.0.0\nport: 8461\nreuse_port: true\npath: /run/m.sock\n",
  );
  assert.deepEqual(config.listen, { kind: "unix", path: "/run/m.sock", mode: null });
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] as string, /^mta-sts-daemon\.yml: path .*host and port are ignored/);
  assert.match(warnings[1] as string, /reuse_port .*unix socket/);
});

test("mode without path is warned as having no effect", () => {
  const { config, warnings } = parse("mode: 0660\n");
  assert.equal(config.listen.kind, "tcp");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /mode applies to a unix socket/);
});

test("an empty value takes the default, with a warning naming it", () => {
  const { config, warnings } = parse("port:\nzones:\n  z:\n    timeout:\n");
  assert.equal(config.listen.kind === "tcp" && config.listen.port, 8461);
  assert.equal(config.zones.get("z")?.timeoutMs, 4000);
  assert.deepEqual(warnings, [
    "mta-sts-daemon.yml: port is empty; using the default 8461 (line 1)",
    "mta-sts-daemon.yml: zones.z.timeout is empty; using the default 4 (line 4)",
  ]);
});

// --- loading files ---

test("loadResolverConfig reads a file and names it in warnings and errors", () => {
  const good = join(dir, "good.yml");
  writeFileSync(good, "port: 9000\npath: /run/x.sock\n");
  const { config, warnings } = loadResolverConfig(good);
  assert.equal(config.listen.kind, "unix");
  assert.ok(warnings[0]?.startsWith(`${good}: `));
  const bad = join(dir, "bad.yml");
  writeFileSync(bad, "port: nope\n");
  assert.throws(
    () => loadResolverConfig(bad),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.startsWith(`${bad}: port = "nope"`), err.message);
      return true;
    },
  );
});

test("a missing or unreadable file gives an error naming the path and the reason", () => {
  const absent = join(dir, "nope", "mta-sts-daemon.yml");
  assert.throws(
    () => loadResolverConfig(absent),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        `${absent}: cannot read the configuration file: no such file (ENOENT)`,
      );
      return true;
    },
  );
  const folder = join(dir, "a-directory.yml");
  mkdirSync(folder);
  assert.throws(() => loadResolverConfig(folder), /a-directory\.yml: .*directory/);
});

// --- the documentation's examples are valid ---

test("every YAML example in docs/resolver-config.md parses", () => {
  const doc = readFileSync(new URL("../../docs/resolver-config.md", import.meta.url), "utf8");
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.ok(blocks.length >= 2, "the minimal and the full example");
  for (const block of blocks) {
    // The full example names the system CA bundle, which a test host may lack.
    const text = block.replace(/ca_file: .*/, `ca_file: ${JSON.stringify(caFile)}`);
    assert.doesNotThrow(() => parse(text), block);
  }
});
