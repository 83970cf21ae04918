// Renewal against a real pebble: on schedule (a short renewal fraction of a
// one-hour certificate) and after downtime (a clock past the due point when
// a restarted automation is asked to ensure the name).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pebbleSkip } from "../support/pebble.ts";
import { APEX, startWorld, until, type World } from "./world.ts";

const skip = pebbleSkip();
const HOUR_S = 3600;

describe("ACME renewal against pebble", { skip, timeout: 60_000 }, () => {
  let world: World;
  before(async () => {
    world = await startWorld(HOUR_S);
  });
  after(async () => {
    await world?.close();
  });

  test("a certificate is renewed by its timer once the renewal fraction of its lifetime has passed", async (t) => {
    const name = `mta-sts.timer.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    // 0.1 % of an hour: due 3.6 s after notBefore; no jitter.
    const { acme, log } = await world.automation(t, { renewFraction: 0.001, random: () => 0 });
    const changes: string[] = [];
    acme.onChange((n) => changes.push(n));
    await acme.ensure([name]);
    const first = acme.get(name);
    assert.ok(first, acme.status(name)?.lastError?.message);
    const renewAt = acme.status(name)?.renewAt;
    assert.ok(renewAt, "a renewal is planned");

    await until("the timer's renewal", () => changes.length >= 2, 30_000);
    await acme.stop();
    const second = acme.get(name);
    assert.ok(second);
    assert.notEqual(second.cert, first.cert, "a new certificate");
    assert.notEqual(second.key, first.key, "with a new key");
    assert.ok(second.notAfter >= first.notAfter);
    assert.deepEqual(changes.slice(0, 2), [name, name]);
    assert.ok(log.some((l) => l.msg === "acme.renewed" && l.fields.name === name));
  });

  test("a certificate that came due while mtasts was down is renewed by the next ensure", async (t) => {
    const name = `mta-sts.downtime.${APEX}`;
    world.setAddress(name, "127.0.0.1");
    const first = await world.automation(t);
    await first.acme.ensure([name]);
    const issued = first.acme.get(name);
    assert.ok(issued, first.acme.status(name)?.lastError?.message);
    await first.acme.stop();

    // Restarted 50 minutes later: past 2/3 of the one-hour lifetime.
    const later = () => Date.now() + 50 * 60_000;
    const second = await world.automation(t, { stateDir: first.stateDir, now: later });
    const changes: string[] = [];
    second.acme.onChange((n) => changes.push(n));
    assert.equal(second.acme.get(name)?.cert, issued.cert, "the old one is served meanwhile");
    await second.acme.ensure([name]);
    assert.deepEqual(changes, [name]);
    assert.notEqual(second.acme.get(name)?.cert, issued.cert);
    assert.ok(second.log.some((l) => l.msg === "acme.renew.start"));
  });
});
