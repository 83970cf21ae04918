// The rollout mistake the host warns about: a served policy changed but the
// `_mta-sts` id did not (STS-OPS-01). Real DNS over UDP from the lab's server.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type DnsServer, startDnsServer, type ZoneData } from "../../lab/dns-server.ts";
import { createResolver } from "../../src/adapters/dns.ts";
import { type Fixture, policyText, startFixture } from "./fixture.ts";

const zone = (id: string): ZoneData[] => [
  {
    apex: "a.test",
    records: [{ type: "TXT", name: "_mta-sts.a.test", strings: [`v=STSv1; id=${id};`] }],
  },
  { apex: "b.test", records: [] },
];

let dns: DnsServer;
let fx: Fixture;

before(async () => {
  dns = await startDnsServer({ zones: zone("20260101") });
  fx = await startFixture({
    domains: { "a.test": policyText("mx1.a.test"), "b.test": policyText("mx1.b.test") },
    config: (c) => {
      c.idCheck = { enabled: true, delayMs: 50, intervalMs: 3_600_000 };
    },
    deps: {
      resolver: createResolver({
        servers: [{ host: dns.address, port: dns.port }],
        timeoutMs: 1000,
        attempts: 2,
      }),
    },
  });
});
after(async () => {
  await fx?.close();
  await dns?.close();
});

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(100);
  }
  assert.fail("condition not reached within 10 s");
}

const warnings = () => fx.logs.filter((l) => / warn /.test(l) && l.includes("still publishes id="));

test("STS-OPS-01 a changed policy with an unchanged _mta-sts id is warned about, naming domain, ids and the fix", async () => {
  await eventually(() => fx.host.idWatch?.ids().get("a.test") === "20260101");
  fx.writePolicy("a.test", policyText("mx2.a.test"));
  await eventually(() => warnings().length === 1);
  const line = warnings()[0] as string;
  assert.match(line, /policy of a\.test changed/);
  assert.match(line, /oldId=20260101 newId=20260101/);
  assert.match(line, /mtasts rollout a\.test/);
});

test("STS-OPS-01 once the id is bumped the warning stops and the change is logged as published", async () => {
  dns.setZones(zone("20260102"));
  await fx.host.idWatch?.checkNow();
  assert.ok(fx.logs.some((l) => /the _mta-sts id changed/.test(l) && l.includes("newId=20260102")));
  const before = warnings().length;
  await fx.host.idWatch?.checkNow();
  assert.equal(warnings().length, before);
});

test("a domain without an _mta-sts record gets no id warning (nothing to compare)", async () => {
  fx.writePolicy("b.test", policyText("mx2.b.test"));
  await sleep(400);
  assert.ok(!warnings().some((l) => l.includes("b.test")));
});
