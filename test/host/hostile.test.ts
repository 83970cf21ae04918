// Hostile clients: oversize headers, slowloris (before and after the TLS
// handshake), junk Host headers. The host answers or cuts each one and keeps
// serving everyone else. Timeouts are set short through the config.

import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { after, before, test } from "node:test";
import { connect, type TLSSocket } from "node:tls";
import { type Fixture, fetchFrom, policyText, startFixture } from "./fixture.ts";

let fx: Fixture;

before(async () => {
  fx = await startFixture({
    domains: { "a.test": policyText("mx1.a.test") },
    config: (c) => {
      c.limits.headersTimeoutMs = 300;
      c.limits.requestTimeoutMs = 300;
      c.limits.handshakeTimeoutMs = 300;
      c.limits.keepAliveTimeoutMs = 300;
      c.limits.maxHeaderBytes = 2048;
    },
  });
});
after(() => fx?.close());

const good = () =>
  fetchFrom(fx.port, fx.ca.rootPem, { servername: "mta-sts.a.test", host: "mta-sts.a.test" });

/** A TLS connection to mta-sts.a.test; resolves with everything read until the server closes. */
function rawSession(write: (s: TLSSocket) => void): Promise<{ data: string; closedBy: "server" }> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port: fx.port,
      servername: "mta-sts.a.test",
      ca: fx.ca.rootPem,
    });
    let data = "";
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error("the server did not close the connection within 10 s"));
    }, 10_000);
    s.on("secureConnect", () => write(s));
    s.on("data", (d: Buffer) => {
      data += d.toString("latin1");
    });
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(guard);
      resolve({ data, closedBy: "server" });
    });
  });
}

test("oversize request headers get 431 and the connection is closed; others are still served", async () => {
  const r = await rawSession((s) =>
    s.write(
      `GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\nX-Junk: ${"x".repeat(4096)}\r\n\r\n`,
    ),
  );
  assert.match(r.data, /^HTTP\/1\.1 431 /);
  assert.equal((await good()).status, 200);
});

test("slowloris: a request head that never ends is cut by the headers timeout", async () => {
  const r = await rawSession((s) => {
    s.write("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n");
    const drip = setInterval(() => {
      if (s.writable) s.write("X-A: b\r\n");
    }, 100);
    s.on("close", () => clearInterval(drip));
  });
  assert.equal(r.closedBy, "server");
  assert.match(r.data, /^HTTP\/1\.1 408 /);
  assert.doesNotMatch(r.data, /STSv1/);
  assert.equal((await good()).status, 200);
});

test("slowloris: a connection that completes TLS and sends nothing is closed", async () => {
  const r = await rawSession(() => undefined);
  assert.equal(r.closedBy, "server");
});

test("a TCP connection that never starts the TLS handshake is closed by the handshake timeout", async () => {
  await new Promise<void>((resolve, reject) => {
    const s = tcpConnect(fx.port, "127.0.0.1");
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error("not closed within 10 s"));
    }, 10_000);
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(guard);
      resolve();
    });
  });
});

test("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
  const r = await rawSession((s) =>
    s.write("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n\r\n"),
  );
  assert.match(r.data, /^HTTP\/1\.1 200 /);
  assert.match(r.data, /mx: mx1\.a\.test/);
});

test("junk Host headers get 404 or 400, never a policy", async () => {
  for (const host of ["", "[::1]", "mta-sts.a.test:99999", "mta-sts.a.test@evil", "evil\tx"]) {
    const r = await rawSession((s) =>
      s.write(
        `GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    assert.match(r.data, /^HTTP\/1\.1 (400|404|421) /, JSON.stringify(host));
    assert.doesNotMatch(r.data, /STSv1/, host);
  }
  const noHost = await rawSession((s) => s.write("GET /.well-known/mta-sts.txt HTTP/1.1\r\n\r\n"));
  assert.match(noHost.data, /^HTTP\/1\.1 400 /);
});

test("garbage instead of HTTP gets 400 and a close", async () => {
  const r = await rawSession((s) => s.write("\x00\x01\x02 hello\r\n\r\n"));
  assert.match(r.data, /^HTTP\/1\.1 400 /);
  assert.ok(fx.host.metrics.rejected > 0);
});

test("max_connections: connections past the limit are refused; the ones inside keep working", async () => {
  const small = await startFixture({
    domains: { "a.test": policyText("mx1.a.test") },
    ca: fx.ca,
    config: (c) => {
      c.limits.maxConnections = 2;
    },
  });
  const held: TLSSocket[] = [];
  try {
    const open = () =>
      new Promise<"open" | "refused">((resolve) => {
        const s = connect({
          host: "127.0.0.1",
          port: small.port,
          servername: "mta-sts.a.test",
          ca: fx.ca.rootPem,
        });
        s.on("secureConnect", () => {
          held.push(s);
          resolve("open");
        });
        s.on("error", () => resolve("refused"));
        s.on("close", () => resolve("refused"));
      });
    assert.equal(await open(), "open");
    assert.equal(await open(), "open");
    assert.equal(await open(), "refused");
    const inside = held[0] as TLSSocket;
    const answer = await new Promise<string>((resolve) => {
      let data = "";
      inside.on("data", (d: Buffer) => {
        data += d.toString();
        if (data.includes("max_age")) resolve(data);
      });
      inside.write("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n\r\n");
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
  } finally {
    for (const s of held) s.destroy();
    await small.close();
  }
});

test("close() drains: idle keep-alive connections are closed, then nothing is accepted", async () => {
  const h = await startFixture({ domains: { "a.test": policyText("mx1.a.test") }, ca: fx.ca });
  const s = connect({
    host: "127.0.0.1",
    port: h.port,
    servername: "mta-sts.a.test",
    ca: fx.ca.rootPem,
  });
  await new Promise<void>((resolve) => {
    s.on("data", (d: Buffer) => {
      if (d.toString().includes("max_age")) resolve();
    });
    s.on("secureConnect", () =>
      s.write("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n\r\n"),
    );
  });
  const closed = new Promise<void>((resolve) => s.on("close", () => resolve()));
  s.on("error", () => undefined);
  await h.close(); // resolves only once every connection is gone
  await closed;
  await assert.rejects(
    fetchFrom(h.port, fx.ca.rootPem, { servername: "mta-sts.a.test", host: "mta-sts.a.test" }),
  );
});

test("STS-FETCH-08 STS-OPS-04 a sender still gets the policy while slow clients hold connections", async () => {
  const slow: TLSSocket[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const s = connect({
        host: "127.0.0.1",
        port: fx.port,
        servername: "mta-sts.a.test",
        ca: fx.ca.rootPem,
      });
      s.on("error", () => undefined);
      s.on("secureConnect", () =>
        s.write("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n"),
      );
      slow.push(s);
    }
    const r = await good();
    assert.equal(r.status, 200);
    assert.match(r.body, /mx: mx1\.a\.test/);
  } finally {
    for (const s of slow) s.destroy();
  }
});
