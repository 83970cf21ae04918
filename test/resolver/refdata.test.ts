// postfix-mta-sts-resolver's reference cases (its tests/refdata*.tsv),
// re-created in our lab: the same domains, records and policy hosts, and the
// same expected reply bytes (SM-PMSR-06..08), for the default, no-SNI and
// strict_testing configurations. Asked through our socketmap client with the
// request split at every byte (SM-NET-02), and through Postfix's `postmap -q`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { encodeNetstring } from "../../src/resolver/netstring.ts";
import { type LabResolver, startLabResolver } from "./lab-resolver.ts";
import { connectSocketmap } from "./socketmap-client.ts";

const POLICY = "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: 86400";
const ID = "20180907T090909";

// MX records are the lab's defaults (mx1.<domain>); the replies come from the
// policies' own `mx: mail.loc` lines, as in the reference setup.
const world = scenario(
  { domain: "good.loc", stsTxt: [`v=STSv1;id=${ID};`], policyText: POLICY },
  {
    domain: "valid-none.loc",
    stsTxt: [`v=STSv1;id=${ID};`],
    policyText: "version: STSv1\nmode: none\nmax_age: 86400",
  },
  {
    domain: "testing.loc",
    stsTxt: [`v=STSv1;id=${ID};`],
    policyText: "version: STSv1\nmode: testing\nmax_age: 86400\nmx: mail.loc\n",
  },
  { domain: "no-record.loc", faults: ["dns:sts-missing"] },
  { domain: "bad-record1.loc", stsTxt: [`id=${ID}; v=STSv1;`], policyText: POLICY },
  { domain: "bad-record2.loc", stsTxt: ["azazaza;asdasdasdasd"], policyText: POLICY },
  { domain: "bad-policy1.loc", stsTxt: [`v=STSv1;id=${ID};`], policyText: "garbage" },
  {
    domain: "bad-policy2.loc",
    stsTxt: [`v=STSv1;id=${ID};`],
    policyText: "version: STSv1\nmode: enforce\nmax_age: 86400",
  },
  {
    domain: "bad-policy3.loc",
    stsTxt: [`v=STSv1;id=${ID};`],
    policyText: POLICY,
    faults: ["policy:content-type-html"],
  },
  {
    domain: "bad-cert1.loc",
    stsTxt: [`v=STSv1;id=${ID};`],
    policyText: POLICY,
    faults: ["policy:cert-untrusted-root"],
  },
  {
    domain: "bad-cert2.loc",
    stsTxt: [`v=STSv1;id=${ID};`],
    policyText: POLICY,
    faults: ["policy:cert-wrong-name"],
  },
);

const SECURE = "OK secure match=mail.loc servername=hostname";
const NF = "NOTFOUND ";

// [request, default, no SNI, strict_testing]
const CASES: [string, string, string, string][] = [
  ["test good.loc", SECURE, "OK secure match=mail.loc", SECURE],
  ["test [good.loc]", SECURE, "OK secure match=mail.loc", SECURE],
  ["test [good.loc]:123", SECURE, "OK secure match=mail.loc", SECURE],
  ["test good.loc:123", SECURE, "OK secure match=mail.loc", SECURE],
  ["test2 good.loc", SECURE, "OK secure match=mail.loc", SECURE],
  ["test good.loc.", SECURE, "OK secure match=mail.loc", SECURE],
  ["test .good.loc", NF, NF, NF],
  ["test valid-none.loc", NF, NF, NF],
  ["test testing.loc", NF, NF, SECURE],
  ["test no-record.loc", NF, NF, NF],
  ["test [no-record.loc]", NF, NF, NF],
  ["test .no-record.loc", NF, NF, NF],
  ["test [1.2.3.4]", NF, NF, NF],
  ["test [a:bb:ccc::dddd]:123", NF, NF, NF],
  ["test bad-record1.loc", NF, NF, NF],
  ["test bad-record2.loc", NF, NF, NF],
  ["test bad-policy1.loc", NF, NF, NF],
  ["test bad-policy2.loc", NF, NF, NF],
  ["test bad-policy3.loc", NF, NF, NF],
  ["test bad-cert1.loc", NF, NF, NF],
  ["test bad-cert2.loc", NF, NF, NF],
];

let lab: Lab;
before(async () => {
  lab = await startLab(world);
});
after(() => lab?.close());

const variants = [
  { name: "default", column: 1, tweak: () => {} },
  {
    name: "require_sni: false",
    column: 2,
    tweak: (c: LabResolver["config"]) => {
      c.defaultZone.requireSni = false;
    },
  },
  {
    name: "strict_testing: true",
    column: 3,
    tweak: (c: LabResolver["config"]) => {
      c.defaultZone.strictTesting = true;
    },
  },
] as const;

for (const variant of variants) {
  describe(`SM-PMSR-06..08 reference cases, ${variant.name}`, () => {
    let r: LabResolver;
    before(async () => {
      r = await startLabResolver(lab, variant.tweak);
    });
    after(() => r?.close());

    const reply = async (request: string) => {
      const space = request.indexOf(" ");
      return r.ask(request.slice(0, space), request.slice(space + 1));
    };
    for (const row of CASES) {
      const [request, expected] = [row[0], row[variant.column] as string];
      const name = `${JSON.stringify(request)} → ${JSON.stringify(expected)}`;
      if (expected.startsWith("OK")) {
        test(`SM-PMSR-08 enforced: ${name}`, async () => {
          assert.equal(await reply(request), expected);
        });
      } else {
        test(`SM-PMSR-07 not enforced: ${name}`, async () => {
          assert.equal(await reply(request), expected);
        });
      }
    }

    test("SM-NET-02 every request sent one byte at a time still gets its exact reply", async () => {
      const client = await connectSocketmap(r.daemon.address());
      try {
        for (const row of CASES) {
          const bytes = encodeNetstring(row[0]);
          for (const b of bytes) {
            client.send(Buffer.of(b));
            await new Promise((resolve) => setImmediate(resolve));
          }
          assert.deepEqual(await client.readReplies(1, 10_000), [row[variant.column]], row[0]);
        }
      } finally {
        await client.close();
      }
    });
  });
}

describe("SM-PROTO-05 Postfix's postmap -q against the daemon", () => {
  let r: LabResolver;
  before(async () => {
    r = await startLabResolver(lab);
  });
  after(() => r?.close());

  test("SM-PROTO-05 an enforced policy: postmap prints the data part and exits 0", async () => {
    const out = await r.postmap("good.loc");
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "secure match=mail.loc servername=hostname\n");
  });

  for (const key of [
    "no-record.loc",
    "testing.loc",
    "valid-none.loc",
    "bad-cert1.loc",
    "[1.2.3.4]",
  ]) {
    test(`${key}: NOTFOUND, so postmap prints nothing and exits 1`, async () => {
      const out = await r.postmap(key);
      assert.equal(out.code, 1, out.stderr);
      assert.equal(out.stdout, "");
    });
  }

  test("the bracketed next-hop form with a port is looked up as the domain", async () => {
    const out = await r.postmap("[good.loc]:587");
    assert.equal(out.stdout, "secure match=mail.loc servername=hostname\n");
  });
});
