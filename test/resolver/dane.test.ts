// SM-WEAK-01 / STS-DANE-01..03: destinations that publish MTA-STS and DANE
// TLSA records. The lab's DNS sets the AD bit for signed zones, as a
// validating resolver would; the replies are read through Postfix's postmap.
// docs/dane.md explains each reply.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { type LabResolver, startLabResolver } from "./lab-resolver.ts";

let lab: Lab;
let r: LabResolver;

before(async () => {
  lab = await startLab(
    scenario(
      { domain: "dane-all.test", mx: ["mx1", "mx2"], dane: true },
      { domain: "dane-some.test", mx: ["mx1", "mx2"], dnssec: true, faults: ["mx1:tlsa"] },
      { domain: "dane-unusable.test", dnssec: true, faults: ["mx1:tlsa-unusable"] },
      {
        domain: "dane-servfail.test",
        mx: ["mx1", "mx2"],
        dnssec: true,
        faults: ["mx1:tlsa", "mx2:tlsa-servfail"],
      },
      { domain: "unsigned.test", faults: ["mx1:tlsa"] },
      { domain: "signed-no-tlsa.test", dnssec: true },
      { domain: "dane-testing.test", dane: true, mode: "testing" },
    ),
  );
  r = await startLabResolver(lab);
});
after(async () => {
  await r?.close();
  await lab?.close();
});

test("SM-WEAK-01 STS-DANE-01 every MX has validated usable TLSA: dane-only, never secure", async () => {
  const out = await r.postmap("dane-all.test");
  assert.equal(out.stdout, "dane-only\n");
  assert.equal(out.code, 0);
});

test("STS-DANE-01 some MX have validated TLSA: Postfix's dane level decides per host", async () => {
  assert.equal((await r.postmap("dane-some.test")).stdout, "dane\n");
});

test("STS-DANE-01 TLSA present but only PKIX usages (unusable for SMTP): dane, not secure", async () => {
  assert.equal(await r.ask("postfix", "dane-unusable.test"), "OK dane");
});

test("STS-DANE-02 a TLSA lookup failure in a signed zone defers instead of falling back to MTA-STS", async () => {
  const reply = await r.ask("postfix", "dane-servfail.test");
  assert.match(reply, /^TEMP DANE TLSA lookup failed/);
  const out = await r.postmap("dane-servfail.test");
  assert.notEqual(out.code, 0, "postmap reports a lookup error, Postfix defers");
});

test("STS-DANE-03 TLSA records in an unsigned zone do not count: MTA-STS applies", async () => {
  assert.equal(
    (await r.postmap("unsigned.test")).stdout,
    "secure match=mx1.unsigned.test servername=hostname\n",
  );
});

test("STS-DANE-03 a signed zone without TLSA: MTA-STS applies", async () => {
  assert.match(
    await r.ask("postfix", "signed-no-tlsa.test"),
    /^OK secure match=mx1\.signed-no-tlsa\.test/,
  );
});

test("a testing policy is not enforced, so the reply is NOTFOUND and Postfix's default (dane) applies", async () => {
  assert.equal(await r.ask("postfix", "dane-testing.test"), "NOTFOUND ");
});

test("dane.mode off restores postfix-mta-sts-resolver's answer (MTA-STS over DANE)", async () => {
  const off = await startLabResolver(lab, (c) => {
    c.dane = "off";
  });
  try {
    assert.equal(
      await off.ask("postfix", "dane-all.test"),
      "OK secure match=mx1.dane-all.test:mx2.dane-all.test servername=hostname",
    );
  } finally {
    await off.close();
  }
});
