// Rollout pre-flight against the lab: the real check decides, a real SQLite
// report store filled by ingest gates enforce, and a blocked rollout changes
// nothing.

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import type { ReportStore } from "../../src/reports/store.ts";
import { policyDirectory, rollout } from "../../src/rollout/index.ts";
import { backends, freshStore } from "../reports/backends.ts";
import { fileReport, labDeps, request, tempDir, WORLD } from "./fixtures.ts";

const NOW = new Date();
let lab: Lab;
before(async () => {
  lab = await startLab(scenario(...WORLD));
});
after(() => lab?.close());

const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

test("a healthy testing domain may move to enforce; the patterns come from the served policy", async () => {
  const o = await rollout(request("good.test", "enforce", { dryRun: true }), labDeps(lab, NOW));
  assert.equal(o.status, "dry-run", JSON.stringify(o.blockers));
  assert.deepEqual(o.blockers, []);
  assert.equal(o.previous.mode, "testing");
  assert.equal(o.previous.source, "live");
  assert.match(
    o.policy,
    /^version: STSv1\nmode: enforce\nmx: mx1\.good\.test\nmx: mx2\.good\.test\nmax_age: 1209600\n$/,
  );
  assert.notEqual(o.id, o.previous.id);
  assert.ok(o.steps.every((s) => s.state === "would"));
});

test("STS-CERT-05 enforce is blocked by an MX whose certificate expired, and nothing is written", async () => {
  const t = tempDir();
  try {
    const o = await rollout(
      request("expired.test", "enforce"),
      labDeps(lab, NOW, { files: policyDirectory(t.dir) }),
    );
    assert.equal(o.status, "blocked");
    assert.deepEqual(codes(o.blockers), ["rollout.mx.tls-invalid"]);
    assert.equal(o.blockers[0]?.subject, "mx1.expired.test");
    assert.match(o.blockers[0]?.message ?? "", /expired/);
    assert.deepEqual(readdirSync(t.dir), []);
    assert.ok(o.steps.every((s) => s.state === "would"));
    // --force goes ahead, and still says what would break.
    const forced = await rollout(
      request("expired.test", "enforce", { force: true }),
      labDeps(lab, NOW, { files: policyDirectory(t.dir) }),
    );
    assert.equal(forced.status, "printed");
    assert.deepEqual(codes(forced.blockers), ["rollout.mx.tls-invalid"]);
    assert.ok(existsSync(join(t.dir, "expired.test.txt")));
  } finally {
    t.remove();
  }
});

test("STS-MX-01 enforce is blocked when the new patterns leave a live MX out", async () => {
  const o = await rollout(
    request("good.test", "enforce", { mx: ["mx1.good.test"], dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.equal(o.status, "blocked");
  assert.deepEqual(codes(o.blockers), ["rollout.mx.not-covered"]);
  assert.equal(o.blockers[0]?.subject, "mx2.good.test");
});

test("testing is blocked by a check error too, but loosening never is", async () => {
  const tighten = await rollout(
    request("expired.test", "testing", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.equal(tighten.status, "blocked");
  assert.ok(
    codes(tighten.blockers).every((c) => c === "rollout.check.error"),
    JSON.stringify(tighten.blockers),
  );
  assert.ok(tighten.blockers.some((b) => b.message.includes("mx.cert.expired")));
  const loosen = await rollout(
    request("enforced.test", "testing", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.equal(loosen.status, "dry-run", JSON.stringify(loosen.blockers));
  const withdraw = await rollout(
    request("enforced.test", "none", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.equal(withdraw.status, "dry-run", JSON.stringify(withdraw.blockers));
});

test("STS-SND-01 enforce straight from no policy warns to test first", async () => {
  const o = await rollout(
    request("unannounced.test", "enforce", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.equal(o.previous.mode, null, "a policy without its TXT record applies to nobody");
  assert.deepEqual(codes(o.warnings), ["rollout.enforce.untested"]);
  assert.equal(o.status, "dry-run", JSON.stringify(o.blockers));
  const testing = await rollout(
    request("unannounced.test", "testing", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.deepEqual(testing.blockers, [], "a missing record is what the rollout publishes");
  assert.deepEqual(testing.warnings, []);
});

test("a first rollout without a policy host is blocked with what to set up; patterns are the live MX", async () => {
  const o = await rollout(request("fresh.test", "testing", { dryRun: true }), labDeps(lab, NOW));
  assert.equal(o.status, "blocked");
  assert.deepEqual(codes(o.blockers), ["rollout.check.error"]);
  assert.match(o.blockers[0]?.message ?? "", /fetch\.dns: .*mta-sts\.fresh\.test has no address/);
  assert.match(o.policy, /mode: testing\nmx: mx1\.fresh\.test\n/);
});

test("a 404 for the policy is what writing the file cures; a 500 blocks", async () => {
  const missing = await rollout(
    request("notfound.test", "testing", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.deepEqual(missing.blockers, []);
  const failing = await rollout(
    request("failing.test", "testing", { dryRun: true }),
    labDeps(lab, NOW),
  );
  assert.deepEqual(codes(failing.blockers), ["rollout.check.error"]);
  assert.match(failing.blockers[0]?.message ?? "", /fetch\.status: .*HTTP 500/);
});

for (const backend of backends) {
  describe(`the report store gate (${backend.name}, filled by ingest)`, {
    skip: await backend.skip(),
  }, () => {
    let store: ReportStore;
    let done: () => Promise<void>;
    const DAY = 86_400_000;
    before(async () => {
      const fresh = await freshStore(backend);
      store = fresh.store;
      done = fresh.done;
      await fileReport(store, "good.test", new Date(NOW.getTime() - 3 * DAY), 12);
      await fileReport(store, "good.test", new Date(NOW.getTime() - 2 * DAY), 0);
      await fileReport(store, "good.test", new Date(NOW.getTime() - 40 * DAY), 99);
    });
    after(() => done?.());
    const failures = () => (d: string, since: Date) =>
      store.summary({ domain: d, since }, "result-type");

    test("failures in the window block enforce and say what failed", async () => {
      const o = await rollout(
        request("good.test", "enforce", { dryRun: true }),
        labDeps(lab, NOW, { failures: failures() }),
      );
      assert.equal(o.status, "blocked");
      assert.deepEqual(codes(o.blockers), ["rollout.reports.failures"]);
      assert.match(o.blockers[0]?.message ?? "", /12 failed sessions.*certificate-expired 12/);
      assert.deepEqual(o.failures?.rows, [
        { resultType: "certificate-expired", failed: 12, reports: 1 },
      ]);
    });

    test("a shorter window leaves the old failures out; testing only warns", async () => {
      const short = await rollout(
        request("good.test", "enforce", { dryRun: true, days: 1 }),
        labDeps(lab, NOW, { failures: failures() }),
      );
      assert.equal(short.status, "dry-run", JSON.stringify(short.blockers));
      assert.equal(short.failures?.failed, 0);
      const testing = await rollout(
        request("good.test", "testing", { dryRun: true }),
        labDeps(lab, NOW, { failures: failures() }),
      );
      assert.equal(testing.status, "dry-run");
      assert.deepEqual(codes(testing.warnings), ["rollout.reports.failures"]);
      assert.equal(testing.warnings[0]?.severity, "warning");
    });
  });
}
