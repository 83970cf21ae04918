// The parts of ACME automation that need no CA: renewal and retry timing,
// and certificates found in the state directory (exact and wildcard names),
// all through startAcme's public face.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createTestCa } from "../../lab/ca.ts";
import { renewalTime, retryDelay, startAcme } from "../../src/acme/index.ts";

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
