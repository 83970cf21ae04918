// The parts of ACME automation that need no CA: renewal and retry timing,
// the order gate, the CSR and validation certificate as openssl reads them,
// and certificates found in the state directory (exact and wildcard names).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { createTestCa } from "../../lab/ca.ts";
import { alpnCertificate, certificateRequest } from "../../src/acme/csr.ts";
import { renewalTime, retryDelay, startAcme } from "../../src/acme/index.ts";
import { createGate } from "../../src/acme/schedule.ts";

const run = promisify(execFile);

const DAY = 86_400_000;
const quiet = { info() {}, warn() {}, error() {} };

test("renewal comes at 2/3 of the lifetime, at most 5 % of it earlier with jitter", () => {
  const notBefore = Date.UTC(2026, 0, 1);
  const notAfter = notBefore + 90 * DAY;
  assert.equal(renewalTime(notBefore, notAfter, 2 / 3, 0), notBefore + 60 * DAY);
  const earliest = renewalTime(notBefore, notAfter, 2 / 3, 0.999999);
  assert.ok(earliest < notBefore + 60 * DAY);
  assert.ok(earliest >= notBefore + 60 * DAY - 4.5 * DAY);
  // A tiny fraction never moves renewal before notBefore.
  assert.ok(renewalTime(notBefore, notAfter, 0.01, 0.999) >= notBefore);
});

test("retries back off from the base, doubling to the ceiling, jittered into [½, 1]", () => {
  const minute = 60_000;
  const hour = 60 * minute;
  assert.equal(retryDelay(1, minute, hour, 1 - Number.EPSILON), minute);
  assert.equal(retryDelay(1, minute, hour, 0), minute / 2);
  assert.equal(retryDelay(2, minute, hour, 1 - Number.EPSILON), 2 * minute);
  assert.equal(retryDelay(7, minute, hour, 1 - Number.EPSILON), hour); // 64 min capped at 60
  assert.equal(retryDelay(500, minute, hour, 1 - Number.EPSILON), hour);
  assert.equal(retryDelay(500, minute, hour, 0), hour / 2);
});

test("certificates in the state directory are served by exact and wildcard name", async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), "mtasts-acme-"));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const ca = await createTestCa();
  const exact = await ca.issue({ names: ["mta-sts.example.test"] });
  const wildcard = await ca.issue({ names: ["*.example.org"], validDays: 30 });
  place(stateDir, "mta-sts.example.test", exact.certPem, ca.intermediatePem, exact.keyPem);
  place(stateDir, "_.example.org", wildcard.certPem, ca.intermediatePem, wildcard.keyPem);

  const acme = await startAcme({ stateDir, directoryUrl: "https://127.0.0.1:9/dir", log: quiet });
  t.after(() => acme.stop());
  const got = acme.get("MTA-STS.example.test.");
  assert.equal(got?.cert, exact.certPem + ca.intermediatePem, "leaf then chain");
  assert.equal(got?.key, exact.keyPem);
  assert.equal(got?.notAfter.getTime(), exact.notAfter.getTime());
  assert.equal(acme.get("mta-sts.example.org")?.key, wildcard.keyPem, "covered by *.example.org");
  assert.equal(acme.get("a.b.example.org"), undefined, "a wildcard covers one label only");
  assert.equal(acme.get("mta-sts.example.net"), undefined);
  assert.equal(acme.status("mta-sts.example.test"), undefined, "not managed until ensured");
  // The state directory itself is private.
  assert.equal(statSync(join(stateDir, "account")).mode & 0o777, 0o700);
});

function place(dir: string, name: string, cert: string, chain: string, key: string): void {
  const at = join(dir, "certs", name);
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, "cert.pem"), cert);
  writeFileSync(join(at, "chain.pem"), chain);
  writeFileSync(join(at, "key.pem"), key, { mode: 0o600 });
}

test("the order gate lets `max` through and hands each freed place to the next in line", async () => {
  const enter = createGate(2);
  const entered: number[] = [];
  const leaves = await Promise.all([enter(), enter()]);
  const third = enter().then((leave) => {
    entered.push(3);
    return leave;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(entered, [], "the third waits while two hold the gate");
  leaves[0]?.();
  leaves[0]?.(); // leaving twice frees one place only
  (await third)();
  assert.deepEqual(entered, [3]);
  const fourth = await enter(); // a place is free again
  fourth();
  leaves[1]?.();
});

test("the CSR and the TLS-ALPN-01 certificate are what openssl expects (RFC 2986, RFC 8737 §3)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-acme-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
  const name = "mta-sts.example.test";
  writeFileSync(join(dir, "csr.pem"), certificateRequest(name, key));
  const csr = await run("openssl", [
    "req",
    "-in",
    join(dir, "csr.pem"),
    "-verify",
    "-noout",
    "-text",
  ]);
  assert.match(csr.stdout + csr.stderr, /verify OK/i);
  assert.match(csr.stdout, /DNS:mta-sts\.example\.test/);

  const keyAuthorization = "token.thumbprint";
  const pem = alpnCertificate(name, keyAuthorization, key, new Date());
  const x509 = new X509Certificate(pem);
  assert.equal(x509.checkHost(name), name);
  assert.ok(x509.verify(x509.publicKey), "self-signed");
  writeFileSync(join(dir, "alpn.pem"), pem);
  const text = (await run("openssl", ["x509", "-in", join(dir, "alpn.pem"), "-noout", "-text"]))
    .stdout;
  assert.match(text, /1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
  // id-pe-acmeIdentifier, critical TRUE, extnValue = OCTET STRING { OCTET STRING (32) sha256 }.
  const digest = createHash("sha256").update(keyAuthorization).digest("hex");
  const extension = `06082b0601050507011f0101ff04220420${digest}`;
  assert.ok(x509.raw.toString("hex").includes(extension), "the extension holds the SHA-256");
});
