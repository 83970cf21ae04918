// Policy discovery through the real daemon against the lab, with an injected
// clock: caching by id, refetch on id change, keeping a valid cached policy
// through every kind of failure, expiry, back-off after a failed fetch,
// negative caching, request coalescing and proactive refresh.

import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { type DomainSpec, type Lab, scenario, startLab } from "../../lab/index.ts";
import { entryOf } from "../../src/resolver/known.ts";
import { type LabResolver, startLabResolver } from "./lab-resolver.ts";

const DAY = 86_400_000;
const base: DomainSpec[] = [
  { domain: "stable.test", mx: ["mx1"] },
  { domain: "change.test", mx: ["mx1", "mx2"], stsId: "one", policyMx: ["mx1.change.test"] },
  { domain: "fails.test", faults: ["policy:404"] },
  { domain: "none-here.test", faults: ["dns:sts-missing"] },
  { domain: "cold.test", mx: ["mx1"] },
  { domain: "expiring.test", mx: ["mx1"], maxAge: 86_400 },
  { domain: "keep.test", mx: ["mx1"], stsId: "k1" },
  { domain: "one-record.test", mx: ["mx1"] },
  {
    domain: "example.com",
    stsId: "rfc",
    mx: ["mail"],
    policyText:
      "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
  },
];

let lab: Lab;
let r: LabResolver;
let clock = Date.parse("2026-12-01T00:00:00Z");

before(async () => {
  lab = await startLab(scenario(...base));
  r = await startLabResolver(lab, undefined, { now: () => clock, random: () => 0 });
});
after(async () => {
  await r?.close();
  await lab?.close();
});
afterEach(async () => {
  await lab.update(scenario(...base));
});

const fetches = (domain: string) =>
  lab.policyHost.requests.filter((q) => q.host.startsWith(`mta-sts.${domain}`)).length;
const txtQueries = (domain: string) =>
  lab.dns.log.filter((q) => q.name === `_mta-sts.${domain}` && q.type === "TXT").length;
const settle = (domain: string) => r.daemon.discovery.resolve(domain, 2000);
const discoverySize = () => r.daemon.discovery.size();

function withDomain(domain: string, change: Partial<DomainSpec>) {
  return scenario(...base.map((d) => (d.domain === domain ? { ...d, ...change } : d)));
}

test("STS-SND-03 a cached policy is answered from memory within cache_grace: no DNS, no fetch", async () => {
  assert.equal(
    await r.ask("postfix", "stable.test"),
    "OK secure match=mx1.stable.test servername=hostname",
  );
  const [q, f] = [txtQueries("stable.test"), fetches("stable.test")];
  assert.equal(f, 1);
  clock += 30_000;
  assert.equal(
    await r.ask("postfix", "stable.test"),
    "OK secure match=mx1.stable.test servername=hostname",
  );
  assert.equal(txtQueries("stable.test"), q);
  assert.equal(fetches("stable.test"), f);
});

test("SM-PMSR-04 a cached domain asked in another form is answered from memory; IP literals are still skipped", async () => {
  const reply = "OK secure match=mx1.stable.test servername=hostname";
  assert.equal(await r.ask("postfix", "stable.test"), reply);
  const [q, f] = [txtQueries("stable.test"), fetches("stable.test")];
  for (const form of [
    "STABLE.Test",
    "stable.test.",
    "stable.test:25",
    "[stable.test]:25",
    " stable.test ",
  ]) {
    assert.equal(await r.ask("postfix", form), reply, form);
  }
  assert.equal(txtQueries("stable.test"), q);
  assert.equal(fetches("stable.test"), f);
  // Never stored, so never found as they stand: normalized, then skipped (SM-PMSR-05).
  for (const literal of ["192.0.2.1", "[192.0.2.1]:25", "[ipv6:2001:db8::1]"]) {
    assert.equal(await r.ask("postfix", literal), "NOTFOUND ", literal);
  }
});

test("the internal cache is discovery's hot set: one record per policy", async () => {
  const known = await settle("one-record.test");
  assert.notEqual(known, "none");
  const cache = r.daemon.cache;
  assert.equal(cache.kind, "memory");
  assert.equal(cache.hot?.get("one-record.test"), known);
  // What the cache hands out is the entry of the record the lookup path answers from.
  assert.deepEqual(
    await cache.get("one-record.test"),
    known === "none" ? undefined : entryOf(known),
  );
  assert.equal(discoverySize().hot, await cache.count());
});

test("STS-SND-03 a new id is fetched; the known policy is served meanwhile (STS-SND-12)", async () => {
  assert.equal(
    await r.ask("postfix", "change.test"),
    "OK secure match=mx1.change.test servername=hostname",
  );
  await lab.update(
    withDomain("change.test", { stsId: "two", policyMx: ["mx1.change.test", "mx2.change.test"] }),
  );
  clock += 61_000;
  // Past cache_grace: the old policy answers at once and discovery runs in the background.
  assert.equal(
    await r.ask("postfix", "change.test"),
    "OK secure match=mx1.change.test servername=hostname",
  );
  await settle("change.test");
  assert.equal(
    await r.ask("postfix", "change.test"),
    "OK secure match=mx1.change.test:mx2.change.test servername=hostname",
  );
  assert.equal(fetches("change.test"), 2);
});

test("STS-SND-07 the same id never extends a policy's life; an expired policy is re-fetched", async () => {
  assert.match(await r.ask("postfix", "expiring.test"), /^OK secure/);
  assert.equal(fetches("expiring.test"), 1);
  clock += DAY + 1000;
  // Expired: no stale answer; the id is unchanged yet the policy is fetched again.
  assert.match(await r.ask("postfix", "expiring.test"), /^OK secure/);
  assert.equal(fetches("expiring.test"), 2);
});

test("STS-SND-02 an expired policy whose host now fails is not revived (postfix-mta-sts-resolver revives it)", async () => {
  assert.match(await r.ask("postfix", "expiring.test"), /^OK secure/);
  await lab.update(withDomain("expiring.test", { faults: ["policy:500"] }));
  clock += DAY + 1000;
  assert.equal(await r.ask("postfix", "expiring.test"), "NOTFOUND ");
});

test("SM-WEAK-03 a policy that expired and whose record is gone is remembered as none: no TXT query per lookup", async () => {
  const domain = "lapsed.test";
  await lab.update(scenario(...base, { domain, mx: ["mx1"], maxAge: 86_400 }));
  assert.match(await r.ask("postfix", domain), /^OK secure/);
  await lab.update(scenario(...base, { domain, mx: ["mx1"], faults: ["dns:sts-missing"] }));
  clock += DAY + 1000;
  assert.equal(await r.ask("postfix", domain), "NOTFOUND ");
  const asked = txtQueries(domain);
  // The expired policy is still in memory; the negative entry must answer first.
  assert.equal(await r.ask("postfix", domain), "NOTFOUND ");
  assert.equal(await r.ask("postfix", domain), "NOTFOUND ");
  assert.equal(txtQueries(domain), asked);
});

test("STS-SND-06 STS-SND-04 a valid cached policy survives a new id whose fetch fails, DNS failures and a vanished record", async () => {
  const secure = "OK secure match=mx1.keep.test servername=hostname";
  assert.equal(await r.ask("postfix", "keep.test"), secure);
  for (const change of [
    { stsId: "k2", faults: ["policy:404" as const] },
    { stsId: "k3", faults: ["policy:oversize" as const] },
    { stsId: "k4", policyText: "garbage" },
    { stsId: "k5", faults: ["policy:cert-self-signed" as const] },
    { faults: ["dns:sts-servfail" as const] },
    { faults: ["dns:sts-garbage" as const] },
    { faults: ["dns:sts-timeout" as const] },
    { faults: ["dns:sts-missing" as const] },
  ] satisfies Partial<DomainSpec>[]) {
    await lab.update(withDomain("keep.test", change));
    clock += 61_000;
    assert.equal(await r.ask("postfix", "keep.test"), secure, JSON.stringify(change));
    await settle("keep.test");
    assert.equal(await r.ask("postfix", "keep.test"), secure, JSON.stringify(change));
  }
});

test("STS-SND-05 STS-FETCH-10 SM-WEAK-05 a failed fetch: NOTFOUND, and no new attempt for that id within 5 minutes", async () => {
  assert.equal(await r.ask("postfix", "fails.test"), "NOTFOUND ");
  assert.equal(fetches("fails.test"), 1);
  clock += 60_000;
  assert.equal(await r.ask("postfix", "fails.test"), "NOTFOUND ");
  clock += 200_000;
  assert.equal(await r.ask("postfix", "fails.test"), "NOTFOUND ");
  assert.equal(fetches("fails.test"), 1, "no retry before 300 s");
  clock += 41_000;
  assert.equal(await r.ask("postfix", "fails.test"), "NOTFOUND ");
  assert.equal(fetches("fails.test"), 2, "retried after 300 s");
});

test("SM-WEAK-03 no record: remembered for negative_cache_ttl, then asked again", async () => {
  assert.equal(await r.ask("postfix", "none-here.test"), "NOTFOUND ");
  const q = txtQueries("none-here.test");
  assert.equal(q, 1);
  clock += 299_000;
  assert.equal(await r.ask("postfix", "none-here.test"), "NOTFOUND ");
  assert.equal(txtQueries("none-here.test"), 1);
  clock += 2000;
  assert.equal(await r.ask("postfix", "none-here.test"), "NOTFOUND ");
  assert.equal(txtQueries("none-here.test"), 2);
});

test("SM-WEAK-04 50 concurrent lookups of an unknown domain cause one TXT query and one fetch", async () => {
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => r.ask("postfix", "cold.test")),
  );
  assert.deepEqual(
    new Set(answers),
    new Set(["OK secure match=mx1.cold.test servername=hostname"]),
  );
  assert.equal(txtQueries("cold.test"), 1);
  assert.equal(fetches("cold.test"), 1);
});

test("SM-PMSR-09 SM-WEAK-08 tlsrpt: true appends Postfix 3.10 TLSRPT attributes (RFC 8461 §3.2 example policy)", async () => {
  const t = await startLabResolver(lab, (c) => {
    c.zones.set("tlsrpt", { ...c.defaultZone, tlsrpt: true });
  });
  try {
    assert.equal(
      await t.ask("tlsrpt", "example.com"),
      "OK secure match=mail.example.com:.example.net:backupmx.example.com servername=hostname" +
        " policy_type=sts policy_domain=example.com mx_host_pattern=mail.example.com" +
        " mx_host_pattern=*.example.net mx_host_pattern=backupmx.example.com" +
        " { policy_string = mx: mail.example.com } { policy_string = mx: *.example.net }" +
        " { policy_string = mx: backupmx.example.com } { policy_string = version: STSv1 }" +
        " { policy_string = mode: enforce } { policy_string = max_age: 604800 }",
    );
    // Zones pick the reply shape; the cache is shared (SM-PMSR-03).
    assert.equal(
      await t.ask("postfix", "example.com"),
      "OK secure match=mail.example.com:.example.net:backupmx.example.com servername=hostname",
    );
  } finally {
    await t.close();
  }
});

test("STS-SND-08 SM-WEAK-06 proactive refresh re-fetches an unchanged id and picks up a changed policy", async () => {
  const t = await startLabResolver(
    lab,
    (c) => {
      c.proactive = { enabled: true, intervalMs: DAY, concurrency: 4, graceRatio: 2 };
    },
    { now: () => clock },
  );
  try {
    assert.match(await t.ask("postfix", "stable.test"), /match=mx1\.stable\.test /);
    // The policy changes without a new id: the commonest rollout mistake.
    await lab.update(
      withDomain("stable.test", { policyMx: ["mx1.stable.test", "mx9.stable.test"] }),
    );
    clock += DAY / 2 + 1000;
    const before = fetches("stable.test");
    const swept = await t.daemon.refresher?.sweep();
    assert.ok(swept && swept.refreshed >= 1, JSON.stringify(swept));
    assert.equal(fetches("stable.test"), before + 1);
    assert.match(
      await t.ask("postfix", "stable.test"),
      /match=mx1\.stable\.test:mx9\.stable\.test /,
    );
  } finally {
    await t.close();
  }
});
