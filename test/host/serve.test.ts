// The host as senders see it, over real TLS on loopback: our own HTTPS client
// (SNI and Host set as a sender sets them) and Debian's curl.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import { promisify } from "node:util";
import { curlSkip, type Fixture, fetchFrom, policyText, startFixture } from "./fixture.ts";

const run = promisify(execFile);
let fx: Fixture;
let ca: string;

before(async () => {
  fx = await startFixture({
    domains: { "a.test": policyText("mx1.a.test"), "b.test": policyText("*.b.test", "testing") },
  });
  ca = fx.ca.rootPem;
});
after(() => fx?.close());

const sender = (domain: string, extra: Parameters<typeof fetchFrom>[2] = {}) =>
  fetchFrom(fx.port, ca, { servername: `mta-sts.${domain}`, host: `mta-sts.${domain}`, ...extra });

test("STS-FETCH-01 STS-OPS-04 a sender's GET gets 200, text/plain; charset=utf-8, exact length, the file's bytes", async () => {
  const r = await sender("a.test");
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(r.headers["content-length"], String(Buffer.byteLength(policyText("mx1.a.test"))));
  assert.equal(r.body, policyText("mx1.a.test"));
  assert.equal(r.headers.location, undefined);
  assert.match(String(r.headers["cache-control"]), /^max-age=\d+$/);
  const b = await sender("b.test");
  assert.equal(b.body, policyText("*.b.test", "testing"));
});

test("HEAD answers the headers with Content-Length and no body", async () => {
  const r = await sender("a.test", { method: "HEAD" });
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-length"], String(Buffer.byteLength(policyText("mx1.a.test"))));
  assert.equal(r.body, "");
});

test("other methods get 405 with Allow: GET, HEAD", async () => {
  for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "TRACE"]) {
    const r = await sender("a.test", { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.allow, "GET, HEAD");
  }
});

test("STS-FETCH-04 no path ever redirects; other paths and traversal attempts get 404", async () => {
  const paths = [
    "/",
    "/.well-known/",
    "/.well-known/mta-sts.txt/",
    "/.well-known/../.well-known/mta-sts.txt",
    "/.well-known/%2e%2e/.well-known/mta-sts.txt",
    "/.well-known/mta-sts%2etxt",
    "//.well-known/mta-sts.txt",
    "/.well-known//mta-sts.txt",
    "/.WELL-KNOWN/MTA-STS.TXT",
    "/.well-known/../../../../etc/passwd",
    "/a.test.txt",
  ];
  for (const path of paths) {
    const r = await sender("a.test", { path });
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.location, undefined, path);
  }
});

test("a query string on the policy path is ignored (same resource)", async () => {
  const r = await sender("a.test", { path: "/.well-known/mta-sts.txt?t=123" });
  assert.equal(r.status, 200);
});

test("a Host naming another served domain than the SNI gets 421 Misdirected Request", async () => {
  const r = await sender("a.test", { host: "mta-sts.b.test" });
  assert.equal(r.status, 421);
  assert.doesNotMatch(r.body, /mx1|STSv1/);
});

test("Host with a port, a trailing dot or capitals is the same host", async () => {
  for (const host of [`mta-sts.a.test:${fx.port}`, "mta-sts.a.test.", "MTA-STS.A.TEST"]) {
    const r = await sender("a.test", { host });
    assert.equal(r.status, 200, host);
  }
});

test("STS-FETCH-03 a name no certificate covers fails the handshake; no certificate is shown", async () => {
  await assert.rejects(sender("unknown.test"), (err: Error) =>
    /handshake|alert|EPROTO|socket/i.test(err.message),
  );
  // And without SNI at all: no default certificate.
  const peer = await new Promise<string>((resolve) => {
    const s = connect({ host: "127.0.0.1", port: fx.port, rejectUnauthorized: false });
    s.on("secureConnect", () => {
      resolve(JSON.stringify(s.getPeerCertificate()));
      s.destroy();
    });
    s.on("error", (e) => resolve(`error: ${e.message}`));
  });
  assert.match(peer, /^error: /);
});

test("STS-FETCH-03 TLS 1.1 and older are refused; 1.2 and 1.3 work", async () => {
  await assert.rejects(sender("a.test", { maxVersion: "TLSv1.1", minVersion: "TLSv1" }));
  assert.equal((await sender("a.test", { maxVersion: "TLSv1.2" })).tlsVersion, "TLSv1.2");
  assert.equal((await sender("a.test")).tlsVersion, "TLSv1.3");
});

test("a domain covered by the certificate but without a policy file gets 404", async () => {
  const other = await startFixture({
    domains: { "a.test": policyText("mx1.a.test") },
    certNames: ["*.wild.test", "mta-sts.a.test"],
    ca: fx.ca,
  });
  try {
    const r = await fetchFrom(other.port, ca, {
      servername: "mta-sts.wild.test",
      host: "mta-sts.wild.test",
    });
    assert.equal(r.status, 404);
  } finally {
    await other.close();
  }
});

test("a request with a body is refused with 413 and the connection closed", async () => {
  const r = await sender("a.test", { method: "GET", headers: { "content-length": "5" } });
  assert.equal(r.status, 413);
  assert.equal(r.headers.connection, "close");
});

test("curl (Debian) fetches the policy with --resolve and --cacert, and HEAD with -I", {
  skip: curlSkip(),
}, async () => {
  const url = `https://mta-sts.a.test:${fx.port}/.well-known/mta-sts.txt`;
  const args = [
    "--silent",
    "--show-error",
    "--resolve",
    `mta-sts.a.test:${fx.port}:127.0.0.1`,
    "--cacert",
    fx.caFile,
  ];
  const get = await run("curl", [
    ...args,
    "--write-out",
    "\\n%{http_code} %{content_type} %{redirect_url}",
    url,
  ]);
  assert.equal(get.stdout, `${policyText("mx1.a.test")}\n200 text/plain; charset=utf-8 `);
  const head = await run("curl", [...args, "-I", url]);
  assert.match(head.stdout, /^HTTP\/1\.1 200 /);
  assert.match(head.stdout, /content-length: 59\r\n/i);
  const tls11 = await run("curl", [
    ...args,
    "--tls-max",
    "1.1",
    "--write-out",
    "%{http_code}",
    url,
  ]).catch((e: { code: number }) => e);
  assert.notEqual((tls11 as { code: number }).code, 0, "TLS 1.1 must fail");
});

/** Two connections, the second offering the first one's session; whether it resumed. */
async function resumes(
  port: number,
  caPem: string,
  maxVersion: "TLSv1.2" | "TLSv1.3",
): Promise<boolean> {
  const open = (session?: Buffer) =>
    new Promise<{ session: Buffer | undefined; reused: boolean }>((resolve, reject) => {
      let got: Buffer | undefined;
      const s = connect({
        host: "127.0.0.1",
        port,
        servername: "mta-sts.a.test",
        ca: caPem,
        maxVersion,
        ...(session ? { session } : {}),
      });
      s.on("session", (x: Buffer) => {
        got = x;
      });
      s.on("secureConnect", () => {
        s.write(
          "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\nConnection: close\r\n\r\n",
        );
      });
      s.on("data", () => undefined);
      s.on("end", () => resolve({ session: got, reused: s.isSessionReused() }));
      s.on("error", reject);
    });
  const first = await open();
  assert.ok(first.session, "the server issued a session ticket");
  return (await open(first.session)).reused;
}

test("TLS sessions resume (tickets), and tls.session_resumption: false turns that off", async () => {
  assert.equal(await resumes(fx.port, ca, "TLSv1.3"), true);
  assert.equal(await resumes(fx.port, ca, "TLSv1.2"), true);
  const full = await startFixture({
    domains: { "a.test": policyText("mx1.a.test") },
    ca: fx.ca,
    config: (c) => {
      c.tls.sessionResumption = false;
    },
  });
  try {
    assert.equal(await resumes(full.port, ca, "TLSv1.2").catch(() => false), false);
    assert.equal(await resumes(full.port, ca, "TLSv1.3").catch(() => false), false);
  } finally {
    await full.close();
  }
});

test("metrics_listen serves Prometheus counters and /healthz over plain HTTP", async () => {
  const m = await startFixture({
    domains: { "a.test": policyText("mx1.a.test"), "bad.test": "version: STSv1\n" },
    ca: fx.ca,
    certNames: ["mta-sts.a.test"],
    config: (c) => {
      c.metricsListen = { host: "127.0.0.1", port: 0 };
    },
  });
  try {
    await fetchFrom(m.port, ca, { servername: "mta-sts.a.test", host: "mta-sts.a.test" });
    await fetchFrom(m.port, ca, {
      servername: "mta-sts.a.test",
      host: "mta-sts.a.test",
      path: "/x",
    });
    const at = m.host.addresses().metrics;
    assert.ok(at);
    const text = await (await fetch(`http://127.0.0.1:${at.port}/metrics`)).text();
    assert.match(text, /^mtasts_host_requests_total 2$/m);
    assert.match(text, /^mtasts_host_policy_replies_total 1$/m);
    assert.match(text, /^mtasts_host_not_found_total 1$/m);
    assert.match(text, /^mtasts_host_policies_served 1$/m);
    assert.match(text, /^mtasts_host_policy_files_invalid 1$/m);
    const health = await fetch(`http://127.0.0.1:${at.port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok 1 domains\n");
    assert.equal((await fetch(`http://127.0.0.1:${at.port}/other`)).status, 404);
  } finally {
    await m.close();
  }
});

test("STS-FETCH-05 conditional and cache headers never get a 304: always the whole policy, max-age bounded", async () => {
  const r = await sender("a.test", {
    headers: {
      "if-none-match": "*",
      "if-modified-since": "Wed, 01 Jan 2025 00:00:00 GMT",
      "cache-control": "max-age=0",
    },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body, policyText("mx1.a.test"));
  assert.equal(r.headers.etag, undefined);
  assert.equal(r.headers["last-modified"], undefined);
  const maxAge = Number(/max-age=(\d+)/.exec(String(r.headers["cache-control"]))?.[1]);
  assert.ok(maxAge > 0 && maxAge <= 300, `max-age ${maxAge}`);
});
