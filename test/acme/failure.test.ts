// What an operator sees when issuance cannot work: validation failures from
// a real pebble explained in words they can act on and retried with backoff
// (and succeeding once the cause is fixed), names that cannot be ordered,
// an unusable state directory, and damaged state on disk.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AcmeError, startAcme } from "../../src/acme/index.ts";
import { pebbleSkip } from "../support/pebble.ts";
import { APEX, NOWHERE, startWorld, until, type World } from "./world.ts";

const skip = pebbleSkip();

describe("ACME failures against pebble", { skip, timeout: 60_000 }, () => {
  let world: World;
  before(async () => {
    world = await startWorld(3600);
  });
  after(async () => {
    await world?.close();
  });

  test("an unreachable HTTP-01 port is explained, retried with backoff, and issued once DNS is fixed", async (t) => {
    const name = `mta-sts.unreachable.${APEX}`;
    world.setAddress(name, NOWHERE);
    const { acme, log } = await world.automation(t, { challengeTypes: ["http-01"] });
    const changes: string[] = [];
    acme.onChange((n) => changes.push(n));

    await acme.ensure([name]); // settles, does not throw
    assert.equal(acme.get(name), undefined);
    const status = acme.status(name);
    assert.equal(status?.state, "failed");
    const error = status?.lastError;
    assert.ok(error instanceof AcmeError);
    assert.equal(error.problemType, "urn:ietf:params:acme:error:connection");
    assert.equal(error.kind, "temporary");
    assert.match(
      error.message,
      /^localhost could not reach http:\/\/mta-sts\.unreachable\.example\.test\/\.well-known\/acme-challenge\/\S+: .+ — is port 80 of mta-sts\.unreachable\.example\.test forwarded to the mtasts host/,
    );
    assert.match(error.message, /refused/i, "pebble's own detail is kept");
    assert.ok(status?.nextAttemptAt, "a retry is planned");

    // Backoff: further attempts come by themselves, each logged with the CA's words.
    await until("a second failed attempt", () => (acme.status(name)?.failures ?? 0) >= 2);
    const failures = log.filter((l) => l.msg === "acme.order.failed");
    assert.ok(failures.length >= 2);
    assert.equal(failures[0]?.fields.problemType, "urn:ietf:params:acme:error:connection");
    assert.ok(Number(failures[1]?.fields.retryInMs) > 0);

    // The operator fixes the A record; the next retry issues.
    world.setAddress(name, "127.0.0.1");
    await until("issuance after the fix", () => changes.length === 1);
    assert.ok(acme.get(name));
    assert.equal(acme.status(name)?.state, "valid");
    assert.equal(acme.status(name)?.failures, 0);
  });

  test("stop() ends the retries of a failing name, and a stopped automation refuses new work", async (t) => {
    const name = `mta-sts.stopped.${APEX}`;
    world.setAddress(name, NOWHERE);
    const { acme, log } = await world.automation(t, { retryBaseMs: 100, retryMaxMs: 100 });
    await acme.ensure([name]);
    assert.equal(acme.status(name)?.failures, 1);
    await acme.stop();
    const attempts = () => log.filter((l) => l.msg === "acme.order.start").length;
    const before = attempts();
    // Several retry periods pass; a slow machine only makes a stray retry less likely.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(attempts(), before, "no attempt after stop()");
    await assert.rejects(acme.ensure([name]), /stopped/);
  });

  test("a wrong key authorization on port 80 is explained as another server answering", async (t) => {
    const name = `mta-sts.wrong.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    world.servers.wrongAnswer.add(name);
    t.after(() => world.servers.wrongAnswer.delete(name));
    const { acme } = await world.automation(t, {
      challengeTypes: ["http-01"],
      retryBaseMs: 60_000,
    });
    await acme.ensure([name]);
    const error = acme.status(name)?.lastError;
    assert.ok(error, "the attempt failed");
    assert.equal(error.problemType, "urn:ietf:params:acme:error:unauthorized");
    assert.match(
      error.message,
      /reached http:\/\/mta-sts\.wrong\.example\.test\/.+ but got the wrong answer/,
    );
    assert.match(
      error.message,
      /is another server .* answering port 80 of mta-sts\.wrong\.example\.test/,
    );
    // In backoff, another ensure does not hammer the CA.
    await acme.ensure([name]);
    assert.equal(acme.status(name)?.failures, 1);
  });

  test("an unreachable TLS-ALPN-01 port names port 443", async (t) => {
    const name = `mta-sts.alpn-down.${APEX}`;
    world.setAddress(name, NOWHERE);
    const { acme } = await world.automation(t, {
      challengeTypes: ["tls-alpn-01"],
      retryBaseMs: 60_000,
    });
    await acme.ensure([name]);
    const error = acme.status(name)?.lastError;
    assert.ok(error);
    // pebble says `unauthorized` here; its detail ("Failed to connect") decides the advice.
    assert.ok(error.problemType?.startsWith("urn:ietf:params:acme:error:"), error.message);
    assert.match(
      error.message,
      /could not reach mta-sts\.alpn-down\.example\.test:443 .*is port 443 of/,
    );
  });

  test("a name with no DNS record is explained as a DNS problem", async (t) => {
    const name = `mta-sts.missing.${APEX}`;
    const { acme } = await world.automation(t, { retryBaseMs: 60_000 });
    await acme.ensure([name]);
    const error = acme.status(name)?.lastError;
    assert.ok(error);
    // pebble files this under `connection` ("could not resolve URL"); the advice is about DNS.
    assert.ok(error.problemType?.startsWith("urn:ietf:params:acme:error:"), error.message);
    assert.match(error.message, /^localhost could not resolve mta-sts\.missing\.example\.test: /);
    assert.match(error.message, /publish an A or AAAA record for mta-sts\.missing\.example\.test/);
  });

  test("a certificate that cannot be saved is still served, and the failure is logged", async (t) => {
    const name = `mta-sts.nosave.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    const { acme, log, stateDir } = await world.automation(t);
    // A plain file where the certificate's directory should go.
    writeFileSync(join(stateDir, "certs", name), "in the way");
    const changes: string[] = [];
    acme.onChange((n) => changes.push(n));
    await acme.ensure([name]);
    assert.ok(acme.get(name), "served from memory");
    assert.deepEqual(changes, [name]);
    const failed = log.find((l) => l.msg === "acme.state.write-failed");
    assert.ok(failed, "the write failure is logged");
    assert.match(
      String(failed.fields.error),
      /could not save the certificate in .*permissions or free space/,
    );
  });

  test("an ACME server we do not trust is named as such", async (t) => {
    const name = `mta-sts.untrusted.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    // Another origin for the same pebble, with no trust roots given: the system store decides.
    const directoryUrl = world.pebble.directoryUrl.replace("localhost", "127.0.0.1");
    const { acme } = await world.automation(t, { directoryUrl, ca: [], retryBaseMs: 60_000 });
    await acme.ensure([name]);
    const error = acme.status(name)?.lastError;
    assert.ok(error);
    assert.match(error.message, /presented a certificate this host does not trust/);
  });
});

test("wildcards and malformed names are refused before anything is ordered", async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), "mtasts-acme-"));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const acme = await startAcme({
    stateDir,
    directoryUrl: "https://127.0.0.1:9/dir",
    log: quiet(),
  });
  t.after(() => acme.stop());
  await assert.rejects(acme.ensure(["*.example.test"]), /wildcard needs DNS-01/);
  await assert.rejects(acme.ensure(["bad name.example.test"]), /not a host name/);
  await assert.rejects(acme.ensure(["127.0.0.1"]), /an IP address/);
});

test("an unusable state directory is a clear error at start", async (t) => {
  const base = mkdtempSync(join(tmpdir(), "mtasts-acme-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const file = join(base, "a-file");
  writeFileSync(file, "not a directory");
  // Root may write anywhere, so "unwritable" is made with a path through a plain file.
  await assert.rejects(
    startAcme({ stateDir: join(file, "state"), log: quiet() }),
    (error: Error) => {
      assert.ok(error instanceof AcmeError);
      assert.match(error.message, /ACME state directory .*a-file\/state is not usable \(ENOTDIR/);
      assert.match(error.message, /fix its ownership or permissions, or choose another/);
      return true;
    },
  );
  await assert.rejects(startAcme({ stateDir: file, log: quiet() }), /is not usable/);
});

test("bad options name the option and the value", async () => {
  await assert.rejects(
    startAcme({ stateDir: "/tmp/x", renewFraction: 1.5, directoryUrl: "http://ca.example/dir" }),
    /renewFraction 1\.5 must be between 0 and 1.*|directoryUrl "http:\/\/ca\.example\/dir" is not an https:\/\/ URL/,
  );
});

test("a damaged certificate in the state directory is skipped with a warning, not fatal", async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), "mtasts-acme-"));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  mkdirSync(join(stateDir, "certs", "mta-sts.example.test"), { recursive: true });
  writeFileSync(join(stateDir, "certs", "mta-sts.example.test", "cert.pem"), "garbage");
  writeFileSync(join(stateDir, "certs", "mta-sts.example.test", "key.pem"), "garbage");
  const warnings: string[] = [];
  const acme = await startAcme({
    stateDir,
    directoryUrl: "https://127.0.0.1:9/dir",
    log: { ...quiet(), warn: (msg, fields) => warnings.push(`${msg} ${fields?.problem}`) },
  });
  t.after(() => acme.stop());
  assert.equal(acme.get("mta-sts.example.test"), undefined);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? "",
    /acme\.state\.skipped .*mta-sts\.example\.test.* it will be ordered again/,
  );
});

function quiet() {
  return { info() {}, warn() {}, error() {} };
}
