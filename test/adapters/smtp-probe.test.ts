// The SMTP probe against the lab MX (and, for byte-level misbehaviour, tiny
// raw servers) on loopback: every stage, every named fault, every certificate
// fault, and the bounds that keep a hostile server from hanging the probe.

import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { createTestCa } from "../../lab/ca.ts";
import { type SmtpFault, type SmtpHost, startSmtpHost } from "../../lab/smtp-host.ts";
import {
  probeSmtp,
  type SmtpProbeOptions,
  type SmtpProbeResult,
  tlsFailureResultType,
} from "../../src/adapters/smtp-probe.ts";

const MX = "mx1.lab.test";
const ca = await createTestCa();
const good = await ca.issue({ names: [MX] });

type After = { after(fn: () => Promise<void> | void): void };

async function lab(
  t: After,
  options: {
    fault?: SmtpFault;
    cert?: { keyPem: string; chainPem: string } | null;
    greeting?: string[];
    heloOnly?: boolean;
    maxTlsVersion?: "TLSv1.2" | "TLSv1.3";
  } = {},
): Promise<SmtpHost> {
  const { cert, ...rest } = options;
  const host = await startSmtpHost({
    hostname: MX,
    ...rest,
    ...(cert === null ? {} : { cert: cert ?? { keyPem: good.keyPem, chainPem: good.chainPem } }),
  });
  t.after(() => host.close());
  return host;
}

function probe(host: { address: string; port: number }, options: Partial<SmtpProbeOptions> = {}) {
  return probeSmtp({
    host: MX,
    address: host.address,
    port: host.port,
    ca: [ca.rootPem],
    heloName: "probe.lab.test",
    timeoutMs: 5000,
    ...options,
  });
}

/** A raw TCP server that runs `onConnection`; closes every socket with the test. */
async function rawServer(t: After, onConnection: (socket: Socket) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  );
  return server;
}

function portOf(server: Server): { address: string; port: number } {
  const a = server.address();
  assert.ok(a && typeof a === "object");
  return { address: a.address, port: a.port };
}

/** Answers greeting and EHLO (with STARTTLS), then runs `onStarttls` on STARTTLS. */
function fakeMx(onStarttls: (socket: Socket) => void) {
  return (socket: Socket) => {
    socket.write("220 fake.lab.test ESMTP\r\n");
    socket.on("data", (d) => {
      const line = d.toString("latin1");
      if (/^EHLO/i.test(line)) socket.write("250-fake.lab.test\r\n250 STARTTLS\r\n");
      else if (/^STARTTLS/i.test(line)) onStarttls(socket);
      else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
    });
  };
}

function assertFailure(r: SmtpProbeResult, kind: string, reached: SmtpProbeResult["reached"]) {
  assert.equal(r.failure?.kind, kind, JSON.stringify(r.failure));
  assert.equal(r.reached, reached);
  assert.equal(r.tls, undefined);
}

test("STS-CERT-01 a healthy MX: greeting, EHLO, STARTTLS, TLS 1.3, chain trusted", async (t) => {
  const host = await lab(t);
  const r = await probe(host);
  assert.equal(r.failure, undefined, JSON.stringify(r.failure));
  assert.equal(r.reached, "tls");
  assert.equal(r.host, MX);
  assert.equal(r.address, "127.0.0.1");
  assert.equal(r.port, host.port);
  assert.equal(r.greeting, `${MX} ESMTP mtasts-lab`);
  assert.equal(r.ehloName, MX);
  assert.equal(r.starttls, true);
  assert.deepEqual(r.extensions, [
    "PIPELINING",
    "SIZE",
    "8BITMIME",
    "STARTTLS",
    "ENHANCEDSTATUSCODES",
    "SMTPUTF8",
  ]);
  assert.equal(r.tls?.version, "TLSv1.3");
  assert.match(r.tls?.cipher ?? "", /^TLS_/);
  assert.equal(r.tls?.authorized, true);
  assert.equal(r.tls?.authorizationError, undefined);
  assert.deepEqual(r.tls?.chain[0]?.dnsNames, [MX]);
  assert.ok((r.tls?.chain.length ?? 0) >= 2, "leaf and intermediate");
  assert.deepEqual(r.tls?.chain[0]?.der, new Uint8Array(good.leafDer));
  assert.equal(r.legacyTlsOnly, undefined);
  assert.ok(r.elapsedMs >= 0 && r.elapsedMs < 5000);
  assert.equal(tlsFailureResultType(r), null);
  assert.equal(host.sessions, 1);
  assert.deepEqual(
    host.commands,
    ["EHLO probe.lab.test", "STARTTLS", "EHLO probe.lab.test", "QUIT"],
    "EHLO again over TLS, then a polite QUIT",
  );
});

test("STS-CERT-01 TLS 1.2 is accepted", async (t) => {
  const host = await lab(t, { maxTlsVersion: "TLSv1.2" });
  const r = await probe(host);
  assert.equal(r.reached, "tls");
  assert.equal(r.tls?.version, "TLSv1.2");
  assert.equal(r.tls?.authorized, true);
});

test("STS-CERT-01 an MX that speaks only TLS 1.0/1.1 fails with tls-version and names it", async (t) => {
  const host = await lab(t, { fault: "tls-1.0" });
  const r = await probe(host);
  assertFailure(r, "tls-version", "starttls");
  assert.match(r.legacyTlsOnly ?? "", /^TLSv1(\.1)?$/);
  assert.match(r.failure?.detail ?? "", /TLS 1\.2 or later/);
  assert.equal(host.sessions, 2, "one try at TLS ≥ 1.2, one legacy retry");
  assert.deepEqual(tlsFailureResultType(r), {
    resultType: "validation-failure",
    reason: "unsupported-tls-version",
  });
});

test("STS-CERT-01 no STARTTLS in EHLO: no-starttls → starttls-not-supported", async (t) => {
  const host = await lab(t, { fault: "no-starttls" });
  const r = await probe(host);
  assertFailure(r, "no-starttls", "ehlo");
  assert.equal(r.starttls, false);
  assert.ok(!r.extensions.includes("STARTTLS"));
  assert.deepEqual(host.commands, ["EHLO probe.lab.test", "QUIT"]);
  assert.deepEqual(tlsFailureResultType(r), { resultType: "starttls-not-supported" });
});

test("STS-CERT-01 STARTTLS answered 454: starttls-refused", async (t) => {
  const host = await lab(t, { fault: "starttls-refused" });
  const r = await probe(host);
  assertFailure(r, "starttls-refused", "ehlo");
  assert.equal(r.starttls, true);
  assert.equal(r.failure?.code, "454");
  assert.equal(tlsFailureResultType(r)?.resultType, "starttls-not-supported");
});

test("STS-CERT-02 SNI is the MX host name (without a root dot)", async (t) => {
  const host = await lab(t);
  await probe(host);
  await probe(host, { host: `${MX}.` });
  assert.deepEqual(
    host.tlsSessions.map((s) => s.servername),
    [MX, MX],
  );
});

test("STS-DANE-04 servername overrides the SNI (the TLSA base domain)", async (t) => {
  const host = await lab(t);
  const r = await probe(host, { servername: "tlsa-base.lab.test" });
  assert.equal(r.reached, "tls");
  assert.equal(r.host, MX);
  assert.equal(host.tlsSessions[0]?.servername, "tlsa-base.lab.test");
});

test("STS-CERT-02 an IP literal as host sends no SNI at all", async (t) => {
  const host = await lab(t);
  const r = await probe(host, { host: "127.0.0.1" });
  assert.equal(r.reached, "tls");
  assert.equal(host.tlsSessions[0]?.servername, null);
});

test("STS-CERT-03 an expired certificate: CERT_HAS_EXPIRED → certificate-expired", async (t) => {
  const cert = await ca.issue({ names: [MX], fault: "expired" });
  const host = await lab(t, { cert });
  const r = await probe(host);
  assert.equal(r.reached, "tls", "a bad certificate is still examined");
  assert.equal(r.failure, undefined);
  assert.equal(r.tls?.authorized, false);
  assert.equal(r.tls?.authorizationError, "CERT_HAS_EXPIRED");
  assert.ok(Date.parse(r.tls?.chain[0]?.notAfter ?? "") < Date.now());
  assert.deepEqual(tlsFailureResultType(r), { resultType: "certificate-expired" });
});

test("STS-CERT-03 a certificate not yet valid: CERT_NOT_YET_VALID → validation-failure", async (t) => {
  const cert = await ca.issue({ names: [MX], fault: "not-yet-valid" });
  const host = await lab(t, { cert });
  const r = await probe(host);
  assert.equal(r.tls?.authorizationError, "CERT_NOT_YET_VALID");
  assert.deepEqual(tlsFailureResultType(r), {
    resultType: "validation-failure",
    reason: "CERT_NOT_YET_VALID",
  });
});

for (const [fault, code] of [
  ["self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT"],
  ["missing-intermediate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  ["untrusted-root", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"],
] as const) {
  test(`STS-CERT-03 ${fault}: ${code} → certificate-not-trusted`, async (t) => {
    const cert = await ca.issue({ names: [MX], fault });
    const host = await lab(t, { cert });
    const r = await probe(host);
    assert.equal(r.reached, "tls");
    assert.equal(r.tls?.authorized, false);
    assert.equal(r.tls?.authorizationError, code);
    assert.deepEqual(r.tls?.chain[0]?.dnsNames, [MX]);
    assert.deepEqual(tlsFailureResultType(r), {
      resultType: "certificate-not-trusted",
      reason: code,
    });
  });
}

test("STS-CERT-03 the lab root is trusted only when passed in `ca`", async (t) => {
  const host = await lab(t);
  const r = await probe(host, { ca: [] });
  assert.equal(r.tls?.authorized, false);
  assert.equal(tlsFailureResultType(r)?.resultType, "certificate-not-trusted");
});

test("STS-CERT-04 the probe leaves names to the caller: wrong-name and CN-only chains are returned", async (t) => {
  const wrong = await ca.issue({ names: [MX], fault: "wrong-name" });
  const cnOnly = await ca.issue({ names: [MX], fault: "cn-only" });
  const h1 = await lab(t, { cert: wrong });
  const h2 = await lab(t, { cert: cnOnly });
  const r1 = await probe(h1);
  const r2 = await probe(h2);
  assert.equal(r1.tls?.authorized, true, "Node's own name check is off");
  assert.equal(r1.tls?.authorizationError, undefined);
  assert.notDeepEqual(r1.tls?.chain[0]?.dnsNames, [MX]);
  assert.equal(r2.tls?.authorized, true);
  assert.deepEqual(r2.tls?.chain[0]?.dnsNames, []);
  assert.match(r2.tls?.chain[0]?.subject ?? "", new RegExp(`CN=${MX}`));
  assert.equal(tlsFailureResultType(r1), null, "certificate-host-mismatch is the caller's call");
});

test("a multi-line greeting is read whole", async (t) => {
  const host = await lab(t, { greeting: [`${MX} ESMTP`, "no UCE", "last line"] });
  const r = await probe(host);
  assert.equal(r.greeting, `${MX} ESMTP\nno UCE\nlast line`);
  assert.equal(r.reached, "tls");
});

test("EHLO refused with 5xx falls back to HELO (no extensions, so no STARTTLS)", async (t) => {
  const host = await lab(t, { heloOnly: true });
  const r = await probe(host);
  assertFailure(r, "no-starttls", "ehlo");
  assert.deepEqual(host.commands, ["EHLO probe.lab.test", "HELO probe.lab.test", "QUIT"]);
  assert.equal(r.ehloName, MX);
  assert.deepEqual(r.extensions, []);
});

test("fault greeting-421: greeting failure with the code", async (t) => {
  const host = await lab(t, { fault: "greeting-421" });
  const r = await probe(host);
  assertFailure(r, "greeting", "connect");
  assert.equal(r.failure?.code, "421");
  assert.match(r.failure?.detail ?? "", /421 4\.3\.2/);
  assert.equal(tlsFailureResultType(r), null);
});

test("fault garbage: a greeting that is not SMTP", async (t) => {
  const host = await lab(t, { fault: "garbage" });
  const r = await probe(host);
  assertFailure(r, "greeting", "connect");
  assert.match(r.failure?.detail ?? "", /not an SMTP reply/);
});

test("fault slow-greeting: the whole-probe timeout ends it", async (t) => {
  const host = await lab(t, { fault: "slow-greeting" });
  const r = await probe(host, { timeoutMs: 200 });
  assertFailure(r, "timeout", "connect");
  assert.match(r.failure?.detail ?? "", /greeting/);
  assert.ok(r.elapsedMs >= 150 && r.elapsedMs < 2000, `${r.elapsedMs} ms`);
  assert.equal(tlsFailureResultType(r), null);
});

test("fault close-after-ehlo: closed after EHLO", async (t) => {
  const host = await lab(t, { fault: "close-after-ehlo" });
  const r = await probe(host);
  assertFailure(r, "closed", "ehlo");
  assert.equal(r.starttls, true);
});

test("an endless greeting line is cut at 4 KiB, not buffered forever", async (t) => {
  let stop = false;
  const server = await rawServer(t, (socket) => {
    socket.write("220 ");
    const pump = () => {
      while (!stop && !socket.destroyed && socket.write("x".repeat(16_384)));
      if (!stop && !socket.destroyed) socket.once("drain", pump);
    };
    pump();
  });
  t.after(() => {
    stop = true;
  });
  const r = await probe(portOf(server), { timeoutMs: 3000 });
  assertFailure(r, "greeting", "connect");
  assert.match(r.failure?.detail ?? "", /longer than 4096 bytes/);
});

test("an endless multi-line reply is cut at 64 KiB", async (t) => {
  let stop = false;
  const server = await rawServer(t, (socket) => {
    const pump = () => {
      while (!stop && !socket.destroyed && socket.write("220-more\r\n".repeat(1000)));
      if (!stop && !socket.destroyed) socket.once("drain", pump);
    };
    pump();
  });
  t.after(() => {
    stop = true;
  });
  const r = await probe(portOf(server), { timeoutMs: 3000 });
  assertFailure(r, "greeting", "connect");
  assert.match(r.failure?.detail ?? "", /65536 bytes/);
});

test("a server silent after its STARTTLS 220 times out in the handshake", async (t) => {
  const server = await rawServer(
    t,
    fakeMx((socket) => socket.write("220 go ahead\r\n")),
  );
  const r = await probe(portOf(server), { timeoutMs: 300 });
  assertFailure(r, "timeout", "starttls");
  assert.match(r.failure?.detail ?? "", /TLS handshake/);
  assert.deepEqual(tlsFailureResultType(r), {
    resultType: "validation-failure",
    reason: "tls-timeout",
  });
});

test("a server that answers STARTTLS with plain text fails the handshake", async (t) => {
  const server = await rawServer(
    t,
    fakeMx((socket) => {
      socket.write("220 go ahead\r\n");
      socket.once("data", () => socket.write("this is not TLS at all\r\n"));
    }),
  );
  const r = await probe(portOf(server));
  assertFailure(r, "tls-handshake", "starttls");
  assert.match(r.failure?.code ?? "", /^ERR_SSL_/);
  assert.deepEqual(tlsFailureResultType(r), {
    resultType: "validation-failure",
    reason: r.failure?.code,
  });
});

test("a server that closes after its STARTTLS 220 fails the handshake", async (t) => {
  const server = await rawServer(
    t,
    fakeMx((socket) => socket.end("220 go ahead\r\n")),
  );
  const r = await probe(portOf(server));
  assertFailure(r, "tls-handshake", "starttls");
});

test("a refused connection and a name instead of an IP are connect failures", async (t) => {
  const server = await rawServer(t, () => {});
  const { address, port } = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const refused = await probe({ address, port });
  assertFailure(refused, "connect", "connect");
  assert.equal(refused.failure?.code, "ECONNREFUSED");
  const named = await probe({ address: "localhost", port });
  assertFailure(named, "connect", "connect");
  assert.match(named.failure?.detail ?? "", /not an IP address/);
});

test("RPT-GEN-06 TLS outcomes map to RFC 8460 result types", () => {
  const base: SmtpProbeResult = {
    host: MX,
    address: "127.0.0.1",
    port: 25,
    reached: "tls",
    extensions: ["STARTTLS"],
    starttls: true,
    elapsedMs: 1,
  };
  const withTls = (authorizationError?: string): SmtpProbeResult => ({
    ...base,
    tls: {
      version: "TLSv1.3",
      cipher: "TLS_AES_128_GCM_SHA256",
      chain: [],
      authorized: authorizationError === undefined,
      ...(authorizationError ? { authorizationError } : {}),
    },
  });
  const failed = (
    kind: NonNullable<SmtpProbeResult["failure"]>["kind"],
    reached: SmtpProbeResult["reached"],
    code?: string,
  ): SmtpProbeResult => ({
    ...base,
    reached,
    failure: { kind, detail: "x", ...(code ? { code } : {}) },
  });
  assert.equal(tlsFailureResultType(withTls()), null);
  assert.deepEqual(tlsFailureResultType(withTls("CERT_HAS_EXPIRED")), {
    resultType: "certificate-expired",
  });
  for (const code of [
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
  ]) {
    assert.deepEqual(tlsFailureResultType(withTls(code)), {
      resultType: "certificate-not-trusted",
      reason: code,
    });
  }
  assert.deepEqual(tlsFailureResultType(withTls("CERT_SIGNATURE_FAILURE")), {
    resultType: "certificate-not-trusted",
    reason: "CERT_SIGNATURE_FAILURE",
  });
  assert.deepEqual(tlsFailureResultType(failed("no-starttls", "ehlo")), {
    resultType: "starttls-not-supported",
  });
  assert.deepEqual(tlsFailureResultType(failed("tls-handshake", "starttls", "ECONNRESET")), {
    resultType: "validation-failure",
    reason: "ECONNRESET",
  });
  assert.deepEqual(tlsFailureResultType(failed("closed", "starttls")), {
    resultType: "validation-failure",
    reason: "tls-closed",
  });
  for (const kind of ["connect", "timeout", "greeting", "closed", "ehlo"] as const) {
    assert.equal(tlsFailureResultType(failed(kind, "ehlo")), null, kind);
  }
});
