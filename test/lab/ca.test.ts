import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, createServer } from "node:tls";
import {
  type CertFault,
  createTestCa,
  type IssuedCert,
  type TestCa,
  WRONG_NAME,
} from "../../lab/ca.ts";
import { certificateNameMatches } from "../../src/core/cert-name.ts";

const HOST = "mta-sts.example.test";
let ca: TestCa;

before(async () => {
  ca = await createTestCa();
});

interface Seen {
  authorized: boolean;
  error: string | null;
  protocol: string | null;
}

/** One TLS handshake against a loopback server presenting `cert`, as a client trusting the lab root. */
async function handshake(cert: IssuedCert, serverOptions: object = {}): Promise<Seen> {
  const server = createServer({ key: cert.keyPem, cert: cert.chainPem, ...serverOptions });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    return await new Promise<Seen>((resolve) => {
      const socket = connect({
        host: "127.0.0.1",
        port,
        servername: HOST,
        ca: [ca.rootPem],
        rejectUnauthorized: false,
      });
      socket.on("secureConnect", () => {
        resolve({
          authorized: socket.authorized,
          error: socket.authorizationError ? String(socket.authorizationError) : null,
          protocol: socket.getProtocol(),
        });
        socket.destroy();
      });
      socket.on("error", (e: NodeJS.ErrnoException) => {
        resolve({ authorized: false, error: e.code ?? e.message, protocol: null });
      });
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test("a certificate without a fault is trusted through the lab root, for its SAN names", async () => {
  const cert = await ca.issue({ names: [HOST, "www.example.test"] });
  assert.deepEqual(await handshake(cert), { authorized: true, error: null, protocol: "TLSv1.3" });
  const x = new X509Certificate(cert.certPem);
  assert.equal(x.subjectAltName, `DNS:${HOST}, DNS:www.example.test`);
  assert.equal(x.checkHost(HOST, { subject: "never" }), HOST);
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  // The chain the server sends: leaf, then the intermediate.
  assert.equal(cert.chainPem, cert.certPem + ca.intermediatePem);
});

const rejected: [CertFault, string][] = [
  ["expired", "CERT_HAS_EXPIRED"],
  ["not-yet-valid", "CERT_NOT_YET_VALID"],
  ["self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT"],
  ["untrusted-root", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"],
  ["missing-intermediate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  ["wrong-name", "ERR_TLS_CERT_ALTNAME_INVALID"],
];

for (const [fault, code] of rejected) {
  test(`fault ${fault}: Node's TLS client rejects it with ${code}`, async () => {
    const cert = await ca.issue({ names: [HOST], fault });
    assert.deepEqual(await handshake(cert), {
      authorized: false,
      error: code,
      protocol: "TLSv1.3",
    });
  });
}

test("fault wrong-name: the SAN names another host", async () => {
  const cert = await ca.issue({ names: [HOST], fault: "wrong-name" });
  assert.equal(new X509Certificate(cert.certPem).subjectAltName, `DNS:${WRONG_NAME}`);
});

test("fault cn-only: the chain verifies, but there is no SAN, so no DNS-ID matches (STS-FETCH-02)", async () => {
  const cert = await ca.issue({ names: [HOST], fault: "cn-only" });
  const x = new X509Certificate(cert.certPem);
  assert.equal(x.subjectAltName, undefined);
  assert.match(x.subject, new RegExp(`CN=${HOST}`));
  // Node's own identity check still falls back to the CN, which is why mtasts uses its own.
  assert.deepEqual(await handshake(cert), { authorized: true, error: null, protocol: "TLSv1.3" });
  assert.equal(certificateNameMatches(HOST, []), null);
});

test("fault weak-key: a 1024-bit RSA key that a default server will not even load, and a client refuses", async () => {
  const cert = await ca.issue({ names: [HOST], fault: "weak-key" });
  const x = new X509Certificate(cert.certPem);
  assert.equal(x.publicKey.asymmetricKeyType, "rsa");
  assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  assert.throws(() => createServer({ key: cert.keyPem, cert: cert.chainPem }), /key too small/);
  const seen = await handshake(cert, { ciphers: "DEFAULT@SECLEVEL=0" });
  assert.equal(seen.authorized, false);
});

test("expiry faults are relative to the injected now", async () => {
  const now = new Date("2030-06-01T00:00:00Z");
  const later = await createTestCa({ now });
  const expired = await later.issue({ names: [HOST], fault: "expired" });
  const fresh = await later.issue({ names: [HOST] });
  const early = await later.issue({ names: [HOST], fault: "not-yet-valid" });
  assert.ok(expired.notAfter < now);
  assert.ok(fresh.notAfter > now);
  assert.ok(new Date(new X509Certificate(early.certPem).validFrom) > now);
  assert.equal(
    new Date(new X509Certificate(expired.certPem).validTo).getTime(),
    expired.notAfter.getTime(),
  );
  const soon = await later.issue({ names: [HOST], validDays: 10 });
  assert.equal(soon.notAfter.getTime(), now.getTime() + 10 * 86_400_000);
});

test("issued certificates are cached per spec; DER and SPKI match the PEM", async () => {
  const a = await ca.issue({ names: ["mta-sts.cache.test"] });
  assert.equal(await ca.issue({ names: ["mta-sts.cache.test"] }), a);
  assert.notEqual(await ca.issue({ names: ["mta-sts.cache.test"], fault: "expired" }), a);
  const x = new X509Certificate(a.certPem);
  assert.deepEqual(new Uint8Array(x.raw), a.leafDer);
  assert.deepEqual(new Uint8Array(x.publicKey.export({ type: "spki", format: "der" })), a.spkiDer);
  assert.equal(new Date(x.validTo).getTime(), a.notAfter.getTime());
});

let dir: string;
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("writeCaFile writes the trusted root as PEM", () => {
  dir = mkdtempSync(join(tmpdir(), "mtasts-ca-"));
  const path = ca.writeCaFile(dir);
  assert.equal(readFileSync(path, "utf8"), ca.rootPem);
  const root = new X509Certificate(ca.rootPem);
  assert.ok(root.ca);
  assert.ok(root.checkIssued(root));
  assert.ok(new X509Certificate(ca.intermediatePem).checkIssued(root));
});
