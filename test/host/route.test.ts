// The reply chosen for each request, without a socket; and the ClientHello
// peek that TLS-ALPN-01 relies on, against a real ClientHello from node:tls.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { connect } from "node:tls";
import { peekClientHello } from "../../src/host/client-hello.ts";
import { policyReply } from "../../src/host/replies.ts";
import { hostName, route } from "../../src/host/route.ts";

const policy = policyReply(Buffer.from("version: STSv1\nmode: none\nmax_age: 86400\n"), 60);
const table = new Map([["mta-sts.a.test", policy]]);
const PATH = "/.well-known/mta-sts.txt";

test("STS-FETCH-01 only GET/HEAD of exactly the policy path on mta-sts.<served domain> yields the policy", () => {
  assert.equal(route(table, "GET", PATH, "mta-sts.a.test", "mta-sts.a.test"), policy);
  assert.equal(route(table, "HEAD", PATH, "mta-sts.a.test", "mta-sts.a.test"), policy);
  assert.equal(route(table, "GET", `${PATH}?x=1`, "mta-sts.a.test", "mta-sts.a.test"), policy);
  assert.equal(route(table, "GET", `${PATH}#x`, "mta-sts.a.test", "mta-sts.a.test").status, 404);
  assert.equal(route(table, "GET", `${PATH}x`, "mta-sts.a.test", "mta-sts.a.test").status, 404);
  assert.equal(
    route(table, "GET", `https://mta-sts.a.test${PATH}`, "mta-sts.a.test", "mta-sts.a.test").status,
    404,
  );
  assert.equal(route(table, "GET", "*", "mta-sts.a.test", "mta-sts.a.test").status, 404);
  assert.equal(route(table, "POST", PATH, "mta-sts.a.test", "mta-sts.a.test").status, 405);
  assert.equal(route(table, "GET", PATH, "a.test", "a.test").status, 404);
  assert.equal(route(table, "GET", PATH, "mta-sts.b.test", "mta-sts.b.test").status, 404);
  assert.equal(route(table, "GET", PATH, undefined, "mta-sts.a.test").status, 400);
});

test("Host must agree with SNI (421), whatever the case, port or trailing dot", () => {
  assert.equal(route(table, "GET", PATH, "mta-sts.b.test", "mta-sts.a.test").status, 421);
  assert.equal(route(table, "GET", PATH, "Mta-Sts.A.Test:443", "mta-sts.a.test"), policy);
  assert.equal(route(table, "GET", PATH, "mta-sts.a.test.", "MTA-STS.a.test"), policy);
  // No SNI (only possible through a certificate source answering without it): Host alone decides.
  assert.equal(route(table, "GET", PATH, "mta-sts.a.test", false), policy);
});

test("hostName refuses address literals, bad ports and junk", () => {
  assert.equal(hostName("MTA-STS.A.TEST:8443"), "mta-sts.a.test");
  assert.equal(hostName("[::1]:443"), null);
  assert.equal(hostName("a.test:70000"), null);
  assert.equal(hostName("a.test:"), null);
  assert.equal(hostName("a b"), null);
  assert.equal(hostName("a.test/../b"), null);
});

test("the ClientHello peek reads SNI and ALPN from a real ClientHello, and asks for more when cut", async () => {
  const hello = await new Promise<Buffer>((resolve) => {
    const server = createServer((s) => {
      s.once("data", (d: Buffer) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      const c = connect({
        host: "127.0.0.1",
        port,
        servername: "mta-sts.a.test",
        ALPNProtocols: ["acme-tls/1", "http/1.1"],
      });
      c.on("error", () => undefined);
    });
  });
  assert.deepEqual(peekClientHello(hello), {
    kind: "hello",
    servername: "mta-sts.a.test",
    alpn: ["acme-tls/1", "http/1.1"],
  });
  assert.deepEqual(peekClientHello(hello.subarray(0, 20)), { kind: "need-more" });
  assert.deepEqual(peekClientHello(Buffer.from("GET / HTTP/1.1\r\n")), { kind: "not-tls" });
  // Truncated lengths inside a complete record: no crash, no invented names.
  const mangled = Buffer.from(hello);
  mangled.writeUInt16BE(0xffff, 9 + 34 + 1 + (mangled[43] ?? 0));
  const r = peekClientHello(mangled);
  assert.equal(r.kind, "hello");
});
