// Certificates by SNI: per-domain files over the default pair, a
// CertificateSource (ACME) for names no file covers, files reloaded when they
// change, the last good pair kept when a new one does not load.

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import type { CertificateSource, KeyPair } from "../../src/acme/types.ts";
import { type Fixture, policyText, startFixture } from "./fixture.ts";

class Issued implements CertificateSource {
  readonly pairs = new Map<string, KeyPair & { notAfter: Date }>();
  readonly listeners: ((name: string) => void)[] = [];
  get(name: string) {
    return this.pairs.get(name);
  }
  onChange(listener: (name: string) => void) {
    this.listeners.push(listener);
  }
  set(name: string, pair: KeyPair & { notAfter: Date }) {
    this.pairs.set(name, pair);
    for (const l of this.listeners) l(name);
  }
}

const source = new Issued();
let fx: Fixture;

before(async () => {
  fx = await startFixture({
    domains: {
      "a.test": policyText("mx1.a.test"),
      "b.test": policyText("mx1.b.test"),
      "acme.test": policyText("mx1.acme.test"),
    },
    certNames: ["mta-sts.a.test"],
    deps: { certificates: source },
    prepare: async (dir, ca, config) => {
      const own = await ca.issue({ names: ["mta-sts.b.test"] });
      const certificate = { cert: join(dir, "b-cert.pem"), key: join(dir, "b-key.pem") };
      writeFileSync(certificate.cert, own.chainPem);
      writeFileSync(certificate.key, own.keyPem);
      config.domains.set("b.test", { certificate });
    },
  });
});
after(() => fx?.close());

/** The leaf the host presents for a server name, or the handshake error. */
function leafFor(servername: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port: fx.port, servername, ca: fx.ca.rootPem });
    s.on("secureConnect", () => {
      resolve(s.getPeerX509Certificate()?.subjectAltName ?? "");
      s.destroy();
    });
    s.on("error", (e) => resolve(`error: ${e.message}`));
  });
}

test("STS-FETCH-02 each SNI name gets a certificate naming it: own file, ACME source, or the default", async () => {
  assert.equal(await leafFor("mta-sts.a.test"), "DNS:mta-sts.a.test");
  assert.equal(await leafFor("mta-sts.b.test"), "DNS:mta-sts.b.test");
  assert.match(await leafFor("mta-sts.acme.test"), /^error: /);
  const issued = await fx.ca.issue({ names: ["mta-sts.acme.test"] });
  source.set("mta-sts.acme.test", {
    cert: issued.chainPem,
    key: issued.keyPem,
    notAfter: issued.notAfter,
  });
  assert.equal(await leafFor("mta-sts.acme.test"), "DNS:mta-sts.acme.test");
});

test("a replaced certificate file is served after reload; a broken one keeps the last good pair", async () => {
  const before = await fx.ca.issue({ names: ["mta-sts.a.test"], validDays: 30 });
  writeFileSync(fx.certFile, before.chainPem);
  writeFileSync(fx.keyFile, before.keyPem);
  assert.deepEqual((await fx.host.reload()).certificates, []);
  const serial = await new Promise<string>((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port: fx.port,
      servername: "mta-sts.a.test",
      ca: fx.ca.rootPem,
    });
    s.on("secureConnect", () => {
      resolve(s.getPeerX509Certificate()?.serialNumber ?? "");
      s.destroy();
    });
    s.on("error", reject);
  });
  assert.equal(serial, new X509Certificate(before.certPem).serialNumber);
  writeFileSync(fx.keyFile, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
  const r = await fx.host.reload();
  assert.equal(r.certificates.length, 1);
  assert.match(r.certificates[0] as string, /key\.pem/);
  assert.equal(await leafFor("mta-sts.a.test"), "DNS:mta-sts.a.test");
});

test("a renewed certificate file is picked up by the watcher, without SIGHUP", async () => {
  const renewed = await fx.ca.issue({ names: ["mta-sts.a.test"], validDays: 60 });
  writeFileSync(`${fx.keyFile}.new`, renewed.keyPem);
  writeFileSync(`${fx.certFile}.new`, renewed.chainPem);
  renameSync(`${fx.keyFile}.new`, fx.keyFile);
  renameSync(`${fx.certFile}.new`, fx.certFile);
  const want = new X509Certificate(renewed.certPem).serialNumber;
  for (let i = 0; i < 100; i++) {
    const serial = await new Promise<string>((resolve) => {
      const s = connect({
        host: "127.0.0.1",
        port: fx.port,
        servername: "mta-sts.a.test",
        ca: fx.ca.rootPem,
      });
      s.on("secureConnect", () => {
        resolve(s.getPeerX509Certificate()?.serialNumber ?? "");
        s.destroy();
      });
      s.on("error", () => resolve(""));
    });
    if (serial === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail("the renewed certificate was not served within 10 s");
});
