// ACME issuance against a real pebble: HTTP-01 and TLS-ALPN-01, the chain up
// to pebble's root, the state directory, and a restart that orders nothing.

import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pebbleSkip } from "../support/pebble.ts";
import { APEX, startWorld, type World } from "./world.ts";

const skip = pebbleSkip();

describe("ACME issuance against pebble", { skip, timeout: 60_000 }, () => {
  let world: World;
  before(async () => {
    world = await startWorld(3600);
  });
  after(async () => {
    await world?.close();
  });

  test("issues over HTTP-01 a certificate that names the host and chains to pebble's root", async (t) => {
    const name = `mta-sts.http.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    const { acme, stateDir } = await world.automation(t, { challengeTypes: ["http-01"] });
    const changed: string[] = [];
    acme.onChange((n) => changed.push(n));
    assert.equal(acme.get(name), undefined);

    await acme.ensure([name]);

    const current = acme.get(name);
    assert.ok(current, `a certificate for ${name}: ${acme.status(name)?.lastError?.message}`);
    assert.deepEqual(changed, [name]);
    const [leaf, ...issuers] = splitPem(current.cert);
    const x509 = new X509Certificate(leaf ?? "");
    assert.equal(x509.checkHost(name), name);
    assert.equal(x509.subjectAltName, `DNS:${name}`);
    assert.ok(x509.checkPrivateKey(createPrivateKey(current.key)), "key matches the certificate");
    assert.equal(current.notAfter.getTime(), new Date(x509.validTo).getTime());
    assertChains(x509, issuers, await world.pebble.issuingRoot());
    assert.ok(
      world.servers.httpLog.some((l) => l.startsWith(`${name} /.well-known/acme-challenge/`)),
      "pebble fetched the challenge over HTTP",
    );
    // After the validation, nothing is answered any more.
    const token = world.servers.httpLog.at(-1)?.split("/").at(-1) ?? "";
    assert.equal(acme.http01(token), undefined);

    // Persisted: PEM files, keys readable by the owner only.
    const dir = join(stateDir, "certs", name);
    assert.equal(statSync(join(dir, "key.pem")).mode & 0o777, 0o600);
    assert.equal(statSync(join(stateDir, "account", "key.pem")).mode & 0o777, 0o600);
    const leftovers = readdirSync(stateDir, { recursive: true }).filter((f) =>
      String(f).includes(".tmp-"),
    );
    assert.deepEqual(leftovers, [], "no temporary files left behind");
    assert.equal(acme.status(name)?.state, "valid");
  });

  test("issues over TLS-ALPN-01 (RFC 8737) without touching port 80", async (t) => {
    const name = `mta-sts.alpn.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    const { acme } = await world.automation(t, { challengeTypes: ["tls-alpn-01"] });
    await acme.ensure([name]);
    const current = acme.get(name);
    assert.ok(current, `a certificate for ${name}: ${acme.status(name)?.lastError?.message}`);
    const [leaf, ...issuers] = splitPem(current.cert);
    const x509 = new X509Certificate(leaf ?? "");
    assert.equal(x509.checkHost(name), name);
    assertChains(x509, issuers, await world.pebble.issuingRoot());
    assert.ok(!world.servers.httpLog.some((l) => l.startsWith(`${name} `)), "no HTTP-01 request");
    assert.equal(acme.tlsAlpn01(name), undefined, "the ALPN certificate is gone after validation");
  });

  test("concurrent ensure calls for one name share one order", async (t) => {
    const name = `mta-sts.twice.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    const { acme, log } = await world.automation(t);
    const changes: string[] = [];
    acme.onChange((n) => changes.push(n));
    await Promise.all([acme.ensure([name]), acme.ensure([name, name.toUpperCase()])]);
    assert.ok(acme.get(name), acme.status(name)?.lastError?.message);
    assert.equal(log.filter((l) => l.msg === "acme.order.start").length, 1);
    assert.deepEqual(changes, [name]);
  });

  test("a restarted automation loads the certificate from its state directory and orders nothing", async (t) => {
    const name = `mta-sts.reload.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    const first = await world.automation(t);
    await first.acme.ensure([name]);
    const issued = first.acme.get(name);
    assert.ok(issued);
    await first.acme.stop();

    const second = await world.automation(t, { stateDir: first.stateDir });
    assert.equal(second.acme.get(name)?.cert, issued.cert, "loaded before any ensure");
    await second.acme.ensure([name]);
    assert.equal(second.acme.get(name)?.cert, issued.cert);
    assert.deepEqual(
      second.log.filter((l) => l.msg.endsWith(".start")),
      [],
      "no order was started",
    );
    assert.equal(second.acme.status(name)?.state, "valid");
  });
});

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** leaf ← issuers… ← root, each signature checked. */
function assertChains(leaf: X509Certificate, issuers: string[], rootPem: string): void {
  let child = leaf;
  for (const pem of [...issuers, rootPem]) {
    const parent = new X509Certificate(pem);
    assert.ok(child.checkIssued(parent), `${child.subject} issued by ${parent.subject}`);
    assert.ok(child.verify(parent.publicKey), `${child.subject} signed by ${parent.subject}`);
    child = parent;
  }
  assert.ok(child.verify(child.publicKey), "the chain ends at pebble's self-signed root");
}
