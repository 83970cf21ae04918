// The serve config: good files load, every bad value is named by key path,
// value, what is accepted and line; the hashes admins write are checked.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConfigError,
  hashPassword,
  newApiToken,
  parseServeConfig,
  tokenHash,
  verifyPassword,
} from "../../src/dashboard/index.ts";

const cost = { N: 1024, r: 8, p: 1 };

test("a full config loads; monitor: passes through untouched", async () => {
  const hash = await hashPassword("pw", cost);
  const token = newApiToken();
  const c = parseServeConfig(
    `listen: "[::1]:9000"
db: postgres://u@127.0.0.1/db
intake: { path: /reports/tlsrpt-in, rate_limit: 0, trust_proxy: true, managed_domains: [Example.COM, bücher.example] }
session: { lifetime: 2h, secure_cookie: true, logins_per_minute: 5, trust_proxy: true }
metrics: { expose: listen, listen: "127.0.0.1:9464" }
users:
  - { name: alice, role: admin, password_hash: "${hash}" }
api_tokens:
  - { name: grafana, role: read-only, token_hash: "${token.hash}" }
monitor:
  domains: [example.com]
  every: 1h
`.replace("/reports/tlsrpt-in", "/tlsrpt-in"),
    "serve.yml",
    "./default.db",
  );
  assert.deepEqual(c.listen, { host: "::1", port: 9000 });
  assert.equal(c.intake.path, "/tlsrpt-in");
  assert.equal(c.intake.perMinute, 0);
  assert.deepEqual(c.intake.managedDomains, ["example.com", "xn--bcher-kva.example"]);
  assert.equal(parseServeConfig("", "empty.yml", "./d.db").intake.managedDomains, null);
  assert.equal(c.session.lifetimeMs, 2 * 3_600_000);
  assert.equal(c.session.trustProxy, true);
  assert.equal(parseServeConfig("", "empty.yml", "./d.db").session.trustProxy, false);
  assert.deepEqual(c.metrics, { expose: "listen", listen: { host: "127.0.0.1", port: 9464 } });
  assert.equal(c.users[0]?.role, "admin");
  assert.deepEqual(c.monitor, { domains: ["example.com"], every: "1h" });
  assert.equal(parseServeConfig("", "empty.yml", "./d.db").db, "./d.db");
});

test("bad values name the key path, the value, what is accepted and the line", () => {
  const text = `listen: nowhere
session:
  lifetime: forever
  trust_proxy: sometimes
users:
  - name: bob
    role: superuser
    password_hash: plain-text-password
metrics: { expose: sometimes }
intake: { path: /api, managed_domains: [ok.example, "not a domain"] }
colour: blue
`;
  let error: unknown;
  try {
    parseServeConfig(text, "serve.yml", "./d.db");
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  const byPath = new Map(error.problems.map((p) => [p.path, p]));
  assert.match(byPath.get("listen")?.accepted ?? "", /HOST:PORT/);
  assert.equal(byPath.get("listen")?.line, 1);
  assert.match(byPath.get("session.lifetime")?.accepted ?? "", /duration from 1m to 30d/);
  assert.match(byPath.get("session.trust_proxy")?.accepted ?? "", /reverse proxy/);
  assert.equal(byPath.get("session.lifetime")?.line, 3);
  assert.match(byPath.get("users[0].role")?.accepted ?? "", /admin or read-only/);
  assert.match(byPath.get("users[0].password_hash")?.accepted ?? "", /hash-password/);
  assert.ok(
    !error.message.includes("plain-text-password"),
    "the message does not echo a whole secret",
  );
  assert.match(byPath.get("metrics.expose")?.accepted ?? "", /off, token/);
  assert.match(byPath.get("intake.path")?.accepted ?? "", /not \/, \/api/);
  assert.match(byPath.get("intake.managed_domains[1]")?.accepted ?? "", /domain name/);
  assert.match(byPath.get("colour")?.accepted ?? "", /one of the keys/);
  assert.match(error.message, /^serve.yml: \d+ problems/);
});

test("YAML syntax errors and duplicate user names are reported", () => {
  assert.throws(() => parseServeConfig("listen: [", "s.yml", "d"), /valid YAML/);
  assert.throws(
    () =>
      parseServeConfig(
        'api_tokens:\n  - { name: a, role: admin, token_hash: "sha256$' +
          "0".repeat(64) +
          '" }\n  - { name: a, role: admin, token_hash: "sha256$' +
          "1".repeat(64) +
          '" }\n',
        "s.yml",
        "d",
      ),
    /api_tokens\[1\]\.name.*not used by an earlier entry/,
  );
});

test("password hashes verify the right password only; token hashes are SHA-256", async () => {
  const hash = await hashPassword("s3cret", cost);
  assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyPassword("s3cret", hash), true);
  assert.equal(await verifyPassword("s3cret ", hash), false);
  // A character inside the hash: the last one of 43 carries 2 unused bits, so
  // changing "A" to "B" there decodes to the same key (that flaked 1 run in 16).
  const at = hash.length - 10;
  const flipped = `${hash.slice(0, at)}${hash[at] === "A" ? "B" : "A"}${hash.slice(at + 1)}`;
  assert.equal(await verifyPassword("s3cret", flipped), false);
  assert.equal(
    await verifyPassword("s3cret", `scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA$${"A".repeat(43)}`),
    false,
  );
  const t = newApiToken();
  assert.equal(tokenHash(t.token), t.hash);
  assert.notEqual(newApiToken().token, t.token);
});
