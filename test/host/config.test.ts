// host.yml: every key read, and every mistake an error naming the key path,
// the value, what is accepted and the line.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseHostConfig, quickHostConfig } from "../../src/host/index.ts";

function problems(text: string): string {
  try {
    parseHostConfig(text, "/etc/mtasts/host.yml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail("expected a ConfigError");
}

test("a full host.yml is read into the config, relative paths from the file's directory", () => {
  const c = parseHostConfig(
    `listen: ["0.0.0.0:443", "[::]:443"]
http_listen: ":80"
policies: policies
certificate: { cert: /etc/ssl/mta-sts.pem, key: /etc/ssl/mta-sts.key }
domains:
  example.com:
    cert: certs/example.pem
    key: certs/example.key
  Example.ORG:
    policy: /srv/example.org.txt
cache_max_age: 300
reload: { debounce: 0.5, rescan: 30 }
id_check: { delay: 120, interval: 600 }
dns: { servers: ["127.0.0.1:5353", "::1"] }
limits: { max_header_bytes: 4096, headers_timeout: 5, request_timeout: 10, max_connections: 500 }
workers: 2
log: { level: debug, format: json, access: true }
`,
    "/etc/mtasts/host.yml",
  );
  assert.deepEqual(c.listen, [
    { host: "0.0.0.0", port: 443 },
    { host: "::", port: 443 },
  ]);
  assert.deepEqual(c.httpListen, [{ host: "0.0.0.0", port: 80 }]);
  assert.equal(c.policies, "/etc/mtasts/policies");
  assert.deepEqual(c.domains.get("example.com"), {
    certificate: { cert: "/etc/mtasts/certs/example.pem", key: "/etc/mtasts/certs/example.key" },
  });
  assert.deepEqual(c.domains.get("example.org"), { policy: "/srv/example.org.txt" });
  assert.equal(c.cacheMaxAge, 300);
  assert.deepEqual(c.reload, { debounceMs: 500, rescanMs: 30_000 });
  assert.deepEqual(c.idCheck, { enabled: true, delayMs: 120_000, intervalMs: 600_000 });
  assert.deepEqual(c.dnsServers, [
    { host: "127.0.0.1", port: 5353 },
    { host: "::1", port: 53 },
  ]);
  assert.equal(c.limits.maxHeaderBytes, 4096);
  assert.equal(c.limits.headersTimeoutMs, 5000);
  assert.equal(c.limits.maxConnections, 500);
  assert.equal(c.workers, 2);
  assert.deepEqual(c.log, { level: "debug", format: "json", access: true });
});

test("an unknown key names its path, line and the keys accepted", () => {
  const m = problems("policies: /srv\nlimits:\n  header_timeout: 5\n");
  assert.match(
    m,
    /^\/etc\/mtasts\/host\.yml: limits\.header_timeout = 5: unknown key; expected one of max_header_bytes, headers_timeout/,
  );
  assert.match(m, /\(line 3\)/);
});

test("bad values say what is accepted", () => {
  assert.match(
    problems("policies: /srv\nlisten: 443\n"),
    /listen = 443: expected HOST:PORT, or a list of them/,
  );
  assert.match(
    problems("policies: /srv\nlisten: example:99999\n"),
    /listen = "example:99999": expected HOST:PORT/,
  );
  assert.match(
    problems("policies: /srv\nworkers: many\n"),
    /workers = "many": expected an integer from 1 to 256, or auto/,
  );
  assert.match(
    problems("policies: /srv\ncache_max_age: -1\n"),
    /cache_max_age = -1: expected an integer from 0 to 86400/,
  );
  assert.match(
    problems("policies: /srv\nlog: { level: loud }\n"),
    /log\.level = "loud": expected one of debug, info, warn, error/,
  );
  assert.match(
    problems("policies: /srv\ndns: { servers: [resolver.example] }\n"),
    /dns\.servers\[0\] = "resolver\.example"/,
  );
  assert.match(
    problems("policies: /srv\nlimits: { headers_timeout: 20, request_timeout: 10 }\n"),
    /limits\.request_timeout = 10: expected a number of seconds >= limits\.headers_timeout \(20\)/,
  );
});

test("domains: names are Policy Domains, cert and key go together", () => {
  assert.match(
    problems('domains:\n  "not a domain": {}\n'),
    /domains\["not a domain"\] = "not a domain": expected a domain name/,
  );
  assert.match(problems("domains:\n  mta-sts.example.com: {}\n"), /drop mta-sts\./);
  assert.match(
    problems("domains:\n  example.com: { cert: a.pem }\n"),
    /domains\["example\.com"\]\.key is missing: cert and key go together/,
  );
});

test("no policies at all is an error; so is YAML that does not parse", () => {
  assert.match(problems("listen: :443\n"), /no policies: set policies or domains/);
  assert.match(problems("policies: [unclosed\n"), /YAML syntax error/);
  assert.match(problems("policies: a\npolicies: b\n"), /YAML syntax error/);
});

test("several problems are all listed, in one error", () => {
  const m = problems("policies: /srv\nworkers: 0\ncache_max_age: x\n");
  assert.match(m, /2 problems/);
});

test("quick mode: --listen is checked and named", () => {
  const c = quickHostConfig({ policies: "p", listen: "127.0.0.1:8443", cert: "c", key: "k" });
  assert.deepEqual(c.listen, [{ host: "127.0.0.1", port: 8443 }]);
  assert.throws(
    () => quickHostConfig({ policies: "p", listen: "8443", cert: "c", key: "k" }),
    /--listen = "8443": expected HOST:PORT/,
  );
});

test("mirror: a domain mirrors another domain, not itself, and not beside a policy file", () => {
  const c = parseHostConfig(
    "policies: p\nmirror: { refresh: 600, timeout: 10, ca_file: roots.pem }\ndomains:\n  customer.example: { mirror: provider.example }\n",
    "/etc/mtasts/host.yml",
  );
  assert.deepEqual(c.domains.get("customer.example"), { mirror: "provider.example" });
  assert.deepEqual(c.mirror, {
    refreshMs: 600_000,
    timeoutMs: 10_000,
    caFile: "/etc/mtasts/roots.pem",
  });
  assert.match(
    problems("domains:\n  a.example: { mirror: a.example }\n"),
    /mirror = "a\.example": expected another domain's name/,
  );
  assert.match(
    problems("domains:\n  a.example: { mirror: b.example, policy: a.txt }\n"),
    /not both/,
  );
  assert.match(
    problems("policies: p\nmirror: { refresh: 10 }\n"),
    /mirror\.refresh = 10: expected a number of seconds from 300/,
  );
});

test("acme: is read with names for Let's Encrypt's directories; one worker and a port 80 for HTTP-01 are required", () => {
  const c = parseHostConfig(
    `policies: policies
http_listen: ["0.0.0.0:80"]
acme: { state_dir: acme, email: hostmaster@example.com, directory: letsencrypt-staging }
`,
    "/etc/mtasts/host.yml",
  );
  assert.deepEqual(c.acme, {
    stateDir: "/etc/mtasts/acme",
    directoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
    email: "hostmaster@example.com",
    challengeTypes: ["http-01", "tls-alpn-01"],
    caFile: null,
  });
  assert.equal(parseHostConfig("policies: p\n", "/h.yml").acme, null);
  const bad = problems(
    `policies: p
workers: 2
acme: { directory: "http://insecure.example/dir", email: nobody, challenges: [dns-01] }
`,
  );
  assert.match(bad, /acme\.state_dir/);
  assert.match(bad, /acme\.directory.*https:\/\//);
  assert.match(bad, /acme\.email.*e-mail address/);
  assert.match(bad, /acme\.challenges.*dns-01.*http-01 or tls-alpn-01/);
  assert.match(bad, /workers.*1 when acme: is set/);
  assert.match(bad, /http_listen.*port-80 listener/);
});
