// Mirror mode: a delegating domain served with a copy of another domain's
// policy, fetched over real HTTPS from the lab's policy host by the sender's
// rules; a failed or invalid fetch keeps the last good copy.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { addressesOf, createResolver } from "../../src/adapters/dns.ts";
import { fetchPolicy } from "../../src/adapters/policy-fetch.ts";
import { formatPolicy } from "../../src/core/policy.ts";
import { type Fixture, fetchFrom, policyText, startFixture } from "./fixture.ts";

let lab: Lab;
let fx: Fixture;
const provider = (mx: string[], faults: string[] = []) =>
  scenario({ domain: "provider.test", mx, smtp: false, faults: faults as never[] });

before(async () => {
  lab = await startLab(provider(["mx1", "mx2"]));
  const resolver = createResolver({
    servers: [{ host: lab.dns.address, port: lab.dns.port }],
    timeoutMs: 1000,
    attempts: 2,
  });
  fx = await startFixture({
    domains: { "own.test": policyText("mx1.own.test") },
    certNames: ["mta-sts.own.test", "mta-sts.customer.test"],
    ca: lab.ca,
    config: (c) => {
      c.domains.set("customer.test", { mirror: "provider.test" });
    },
    deps: {
      mirrorFetch: (source) =>
        fetchPolicy(source, {
          port: lab.httpsPort,
          ca: [lab.ca.rootPem],
          lookup: (host) => addressesOf(resolver, host),
          timeoutMs: 5000,
        }),
    },
  });
});
after(async () => {
  await fx?.close();
  await lab?.close();
});

const customer = () =>
  fetchFrom(fx.port, lab.ca.rootPem, {
    servername: "mta-sts.customer.test",
    host: "mta-sts.customer.test",
  });
const providerPolicy = (mx: string[]) =>
  formatPolicy({ mode: "enforce", max_age: 1_209_600, mx: mx.map((m) => `${m}.provider.test`) });

test("STS-OPS-02 a mirrored domain serves the source's policy, fetched at start", async () => {
  const r = await customer();
  assert.equal(r.status, 200);
  assert.equal(r.body, providerPolicy(["mx1", "mx2"]));
  assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
});

test("a refresh picks up the source's new policy", async () => {
  await lab.update(provider(["mx1", "mx3"]));
  await fx.host.mirror?.refreshNow();
  assert.equal((await customer()).body, providerPolicy(["mx1", "mx3"]));
});

test("a failed fetch (404) or an invalid policy at the source keeps the last good copy", async () => {
  await lab.update(provider(["mx1", "mx3"], ["policy:404"]));
  await fx.host.mirror?.refreshNow();
  assert.equal((await customer()).body, providerPolicy(["mx1", "mx3"]));
  assert.ok(fx.logs.some((l) => /cannot fetch the mirrored policy/.test(l)));
  await lab.update(provider(["mx1", "mx3"], ["policy:invalid"]));
  await fx.host.mirror?.refreshNow();
  assert.equal((await customer()).body, providerPolicy(["mx1", "mx3"]));
  assert.ok(
    fx.logs.some((l) => /invalid mirrored policy: still serving the last good copy/.test(l)),
  );
  // The domains served from files are untouched by all of this.
  const own = await fetchFrom(fx.port, lab.ca.rootPem, {
    servername: "mta-sts.own.test",
    host: "mta-sts.own.test",
  });
  assert.equal(own.body, policyText("mx1.own.test"));
});

test("a file reload does not drop a mirrored domain", async () => {
  await fx.host.reload();
  assert.equal((await customer()).status, 200);
});
