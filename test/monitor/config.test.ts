// The `monitor:` section: defaults, every key read, and each mistake named by
// key path, value and what would be accepted (all of them in one pass).

import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { parseMonitorConfig } from "../../src/monitor/index.ts";

test("an empty section means the defaults: 6h checks, every rule on, no delivery", () => {
  const parsed = parseMonitorConfig(undefined);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, {
    domains: [],
    intervalMs: 6 * 3_600_000,
    timeoutMs: 30_000,
    historyMs: 400 * 86_400_000,
    rules: {
      failureRate: { threshold: 0.05, windowMs: 86_400_000, minSessions: 100 },
      certExpiryDays: 21,
      newResultType: { windowMs: 86_400_000 },
      policyHost: true,
      idOutOfStep: true,
    },
    delivery: { webhooks: [], mail: null, timeoutMs: 10_000 },
    renotifyMs: null,
    check: { servers: null, caFile: null, httpsPort: null, smtpPort: null },
  });
});

test("check: points the checks at resolvers, extra roots and ports; mistakes are named", () => {
  const good = parseMonitorConfig(
    parse(
      'check: {resolvers: ["127.0.0.1:5353", "::1"], ca_file: /etc/roots.pem, https_port: 8443, smtp_port: 2525}',
    ),
  );
  assert.ok(good.ok, JSON.stringify(good));
  assert.deepEqual(good.value.check, {
    servers: [
      { host: "127.0.0.1", port: 5353 },
      { host: "::1", port: 53 },
    ],
    caFile: "/etc/roots.pem",
    httpsPort: 8443,
    smtpPort: 2525,
  });
  const bad = parseMonitorConfig(
    parse('check: {resolvers: ["dns.example"], ca_file: "", https_port: 0, smtp: 25}'),
  );
  assert.equal(bad.ok, false);
  const errors = bad.ok ? "" : bad.errors.join("\n");
  assert.match(errors, /monitor\.check\.resolvers\[0\].*dns\.example.*IP address/);
  assert.match(errors, /monitor\.check\.ca_file/);
  assert.match(errors, /monitor\.check\.https_port.*port number/);
  assert.match(errors, /monitor\.check\.smtp\b/);
});

test("a full section from YAML", () => {
  const yaml = `
domains: [Example.COM, "bücher.example."]
interval: 1h
timeout: 45s
history: 90d
rules:
  failure_rate: {threshold: 0.02, window: 7d, min_sessions: 500}
  cert_expiry_days: 14
  new_result_type: {window: 2d}
  policy_host: true
  id_out_of_step: false
delivery:
  timeout: 20s
  webhooks:
    - url: https://hooks.example.net/mtasts
      headers: {Authorization: "Bearer abc"}
      ca_file: /etc/mtasts/hooks-ca.pem
  mail:
    smtp: {host: smtp.example.net, port: 587, starttls: true, auth: {user: u, pass: p}}
    from: mtasts@example.com
    to: [ops@example.com]
renotify: 1d
`;
  const parsed = parseMonitorConfig(parse(yaml));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const c = parsed.value;
  assert.deepEqual(c.domains, ["example.com", "xn--bcher-kva.example"]);
  assert.equal(c.intervalMs, 3_600_000);
  assert.equal(c.timeoutMs, 45_000);
  assert.deepEqual(c.rules.failureRate, {
    threshold: 0.02,
    windowMs: 7 * 86_400_000,
    minSessions: 500,
  });
  assert.equal(c.rules.certExpiryDays, 14);
  assert.deepEqual(c.rules.newResultType, { windowMs: 2 * 86_400_000 });
  assert.equal(c.rules.idOutOfStep, false);
  assert.deepEqual(c.delivery.webhooks, [
    {
      url: "https://hooks.example.net/mtasts",
      headers: { Authorization: "Bearer abc" },
      caFile: "/etc/mtasts/hooks-ca.pem",
    },
  ]);
  assert.deepEqual(c.delivery.mail, {
    smtp: {
      host: "smtp.example.net",
      port: 587,
      secure: false,
      starttls: true,
      auth: { user: "u", pass: "p" },
      servername: null,
    },
    from: "mtasts@example.com",
    to: ["ops@example.com"],
  });
  assert.equal(c.renotifyMs, 86_400_000);
});

test("rules can be switched off", () => {
  const parsed = parseMonitorConfig({
    rules: { failure_rate: false, cert_expiry_days: false, new_result_type: false },
    renotify: "never",
  });
  assert.ok(parsed.ok);
  assert.equal(parsed.value.rules.failureRate, null);
  assert.equal(parsed.value.rules.certExpiryDays, null);
  assert.equal(parsed.value.rules.newResultType, null);
  assert.equal(parsed.value.renotifyMs, null);
});

test("every mistake is named by path, value and what is accepted, secrets hidden", () => {
  const parsed = parseMonitorConfig(
    {
      domains: ["ok.example", "192.0.2.1", "ok.example"],
      interval: "6 hours",
      rules: { failure_rate: { threshold: 5, min_sessions: 0.5 }, cert_expiry_days: 0, typo: 1 },
      delivery: {
        webhooks: [
          { url: "ftp://x.example" },
          { url: "https://h.example", headers: { "X-Key": "a\r\nb: c" }, ca_file: 7 },
        ],
        mail: { smtp: { port: 70000, auth: { user: "u" } }, from: "nobody", to: [] },
      },
      renotify: "sometimes",
    },
    "serve.monitor",
  );
  assert.ok(!parsed.ok);
  assert.deepEqual(parsed.errors, [
    'serve.monitor.domains[1] = "192.0.2.1": expected a domain name such as example.com',
    'serve.monitor.domains[2] = "ok.example": listed twice; expected each domain once',
    'serve.monitor.interval = "6 hours": expected a duration such as 30s, 15m, 6h or 1d (at least 60 s, under 24 days)',
    "serve.monitor.rules.typo = 1: unknown key; expected one of the keys failure_rate, cert_expiry_days, new_result_type, policy_host, id_out_of_step",
    "serve.monitor.rules.failure_rate.threshold = 5: expected a fraction between 0 and 1, e.g. 0.05 for 5%",
    "serve.monitor.rules.failure_rate.min_sessions = 0.5: expected a whole number of sessions ≥ 1",
    "serve.monitor.rules.cert_expiry_days = 0: expected false, or a whole number of days from 1 to 365",
    'serve.monitor.delivery.webhooks[0].url = "ftp://x.example": expected an http:// or https:// URL',
    'serve.monitor.delivery.webhooks[1].headers.X-Key = "(hidden)": expected a header name with a one-line string value',
    "serve.monitor.delivery.webhooks[1].ca_file = 7: expected the path of a PEM file",
    'serve.monitor.delivery.mail.smtp.auth = "(hidden)": expected {user: <string>, pass: <string>}',
    "serve.monitor.delivery.mail.smtp.host is missing: expected a host name",
    'serve.monitor.delivery.mail.from = "nobody": expected a mail address such as alerts@example.com',
    "serve.monitor.delivery.mail.to = []: expected at least one address",
    "serve.monitor.delivery.mail.smtp.port = 70000: expected a port number from 1 to 65535",
    'serve.monitor.renotify = "sometimes": expected "never" or a duration such as 30s, 15m, 6h or 1d (at least 60 s, under 24 days)',
  ]);
});

test("a section that is not a mapping, and a timeout not shorter than the interval", () => {
  const notMap = parseMonitorConfig(["a"]);
  assert.ok(!notMap.ok);
  assert.match(
    notMap.errors[0] ?? "",
    /^monitor = a list: expected a mapping with keys domains, interval/,
  );
  const slow = parseMonitorConfig({ interval: "1m", timeout: "2m" });
  assert.ok(!slow.ok);
  assert.deepEqual(slow.errors, [
    'monitor.timeout = "2m": expected a duration shorter than the interval',
  ]);
});
