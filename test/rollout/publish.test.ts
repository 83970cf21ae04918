// Rollout carrying out its steps for real: the policy file, the fetch back
// from the lab's policy host, then the `_mta-sts` id by RFC 2136 with TSIG on
// a private BIND named. Order is the point (STS-OPS-01): the id must never
// change before the new policy is served.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { dnsPublisher, policyDirectory, rollout } from "../../src/rollout/index.ts";
import { type NamedServer, namedSkip, startNamed } from "../support/named.ts";
import { labDeps, request, tempDir, WORLD } from "./fixtures.ts";

const OLD_ID = "20261123T000000";
const skip = namedSkip();

describe("rollout publishing through named", { skip }, () => {
  let lab: Lab;
  let named: NamedServer;
  let t: ReturnType<typeof tempDir>;
  before(async () => {
    lab = await startLab(scenario(...WORLD));
    named = await startNamed({
      zone: "good.test",
      records: [
        { name: "_mta-sts", type: "TXT", value: `v=STSv1; id=${OLD_ID};` },
        { name: "_mta-sts", type: "TXT", value: "site-verification=keep-me" },
        { name: "mta-sts", type: "A", value: "127.0.0.2" },
      ],
    });
  });
  after(async () => {
    await named?.close();
    await lab?.close();
  });
  afterEach(async () => {
    t?.remove();
    await lab.update(scenario(...WORLD));
  });

  /** The lab's policy host starts serving `text` for good.test, as `mtasts host` does after a reload. */
  const serve = (text: string) =>
    lab.update(
      scenario(...WORLD.map((d) => (d.domain === "good.test" ? { ...d, policyText: text } : d))),
    );
  // named answers an RRset in any order.
  const txt = async () => (await named.query("_mta-sts.good.test", "TXT")).sort();
  const publisher = () =>
    dnsPublisher("good.test", { host: named.host, port: named.port }, named.key);

  test("STS-OPS-01 the policy is written and served before the id changes", async () => {
    t = tempDir();
    const seenAtVerify: string[][] = [];
    const o = await rollout(
      request("good.test", "enforce", { verify: true }),
      labDeps(lab, new Date(), {
        files: policyDirectory(t.dir),
        dns: publisher(),
        // Between fetch attempts: DNS must still hold the old id, and the file must exist.
        sleep: async () => {
          seenAtVerify.push(await txt());
          await serve(readFileSync(join(t.dir, "good.test.txt"), "utf8"));
        },
      }),
    );
    assert.equal(o.status, "done", `${o.error} ${JSON.stringify(o.blockers)}`);
    assert.deepEqual(
      seenAtVerify,
      [[`v=STSv1; id=${OLD_ID};`, "site-verification=keep-me"].sort()],
      "id unchanged while the policy was not yet served",
    );
    assert.equal(readFileSync(join(t.dir, "good.test.txt"), "utf8"), o.policy);
    assert.deepEqual(
      (await txt()).sort(),
      [`v=STSv1; id=${o.id};`, "site-verification=keep-me"].sort(),
    );
    assert.deepEqual(
      o.steps.map((s) => [s.action, s.state]),
      [
        ["write-policy", "done"],
        ["verify-policy", "done"],
        ["publish-txt", "done"],
      ],
    );
  });

  test("STS-OPS-01 a policy the host does not serve leaves the id alone", async () => {
    t = tempDir();
    const before = await txt();
    const o = await rollout(
      request("good.test", "enforce", { verify: true }),
      labDeps(lab, new Date(), { files: policyDirectory(t.dir), dns: publisher() }),
    );
    assert.equal(o.status, "not-served");
    assert.match(o.error ?? "", /still serves mode testing.*the _mta-sts id was not changed/);
    assert.ok(o.blockers.some((b) => b.code === "rollout.policy.not-served"));
    assert.deepEqual(await txt(), before);
    assert.ok(existsSync(join(t.dir, "good.test.txt")), "the policy stays written");
    assert.deepEqual(
      o.steps.map((s) => s.state),
      ["done", "failed", "todo"],
    );
  });

  test("a rejected update (wrong TSIG secret) is reported after the policy was written", async () => {
    t = tempDir();
    const before = await txt();
    const wrongKey = { ...named.key, secret: randomBytes(32).toString("base64") };
    const o = await rollout(
      request("good.test", "testing", { verify: false }),
      labDeps(lab, new Date(), {
        files: policyDirectory(t.dir),
        dns: dnsPublisher("good.test", { host: named.host, port: named.port }, wrongKey),
      }),
    );
    assert.equal(o.status, "dns-failed");
    assert.match(o.error ?? "", /BADSIG|secret|signature/i);
    assert.ok(o.blockers.some((b) => b.code === "rollout.dns.update-failed"));
    assert.deepEqual(await txt(), before);
    assert.ok(existsSync(join(t.dir, "good.test.txt")));
    assert.match(o.steps[2]?.text ?? "", /update add _mta-sts\.good\.test\. 300 TXT "v=STSv1; id=/);
  });

  test("STS-OPS-03 --to none publishes mode none with a new id and dates the removal from the old max_age", async () => {
    t = tempDir();
    const now = new Date("2026-12-02T00:00:00Z");
    const o = await rollout(
      request("good.test", "none", { verify: false }),
      labDeps(lab, now, { files: policyDirectory(t.dir), dns: publisher() }),
    );
    assert.equal(o.status, "done", o.error ?? "");
    assert.equal(
      o.policy,
      "version: STSv1\nmode: none\nmx: mx1.good.test\nmx: mx2.good.test\nmax_age: 86400\n",
    );
    assert.equal(o.id, "20261202000000");
    assert.equal(o.previous.maxAge, 604_800);
    assert.equal(o.removeAfter, "2026-12-09T00:00:00.000Z");
    assert.ok(
      o.warnings.some((w) => w.code === "rollout.none.wait" && w.message.includes("2026-12-09")),
    );
    assert.deepEqual(
      o.steps.map((s) => [s.action, s.state]),
      [
        ["write-policy", "done"],
        ["verify-policy", "todo"],
        ["publish-txt", "done"],
        ["wait", "todo"],
        ["remove", "todo"],
      ],
    );
    assert.ok((await txt()).includes("v=STSv1; id=20261202000000;"));
  });

  test("--dry-run changes neither the directory nor DNS", async () => {
    t = tempDir();
    const before = await txt();
    const o = await rollout(
      request("good.test", "enforce", { dryRun: true, verify: true }),
      labDeps(lab, new Date(), { files: policyDirectory(t.dir), dns: publisher() }),
    );
    assert.equal(o.status, "dry-run");
    assert.equal(existsSync(join(t.dir, "good.test.txt")), false);
    assert.deepEqual(await txt(), before);
  });
});
