// `mtasts rollout` as an operator runs it: the real binary against the lab
// (pre-flight by the real check), a SQLite report store, and a private named
// for the RFC 2136 update. Exit codes: 0 done/printed, 1 blocked, 2 usage,
// 3 policy written but id not published.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { openReportStore } from "../../src/reports/store.ts";
import { fileReport, tempDir, WORLD } from "../rollout/fixtures.ts";
import { type NamedServer, namedSkip, startNamed } from "../support/named.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
let lab: Lab;
let t: ReturnType<typeof tempDir>;

before(async () => {
  lab = await startLab(scenario(...WORLD));
  t = tempDir();
});
after(async () => {
  await lab?.close();
  t?.remove();
});

async function mtasts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const rolloutArgs = (...args: string[]) => ["rollout", ...args, ...lab.checkArgs()];

test("STS-OPS-01 print mode: the policy is written, then the id to publish is printed after it", async () => {
  const dir = join(t.dir, "print");
  mkdirSync(dir);
  const r = await mtasts(
    rolloutArgs("good.test", "--to", "enforce", "--policies", dir, "--no-verify"),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const policy = readFileSync(join(dir, "good.test.txt"), "utf8");
  assert.match(policy, /^version: STSv1\nmode: enforce\n/);
  const write = r.stdout.indexOf("[done] Write the policy");
  const publish = r.stdout.indexOf("[to do] Then publish the new id: _mta-sts.good.test TXT");
  assert.ok(write > 0 && publish > write, r.stdout);
  assert.match(r.stdout, /update add _mta-sts\.good\.test\. 3600 TXT "v=STSv1; id=\d{14};"/);
  assert.match(r.stdout, /Nothing was published in DNS/);
});

test("STS-CERT-05 pre-flight blocks enforce on an expired MX certificate: exit 1, nothing written", async () => {
  const dir = join(t.dir, "blocked");
  mkdirSync(dir);
  const r = await mtasts(rolloutArgs("expired.test", "--to", "enforce", "--policies", dir));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /rollout\.mx\.tls-invalid\s+mx1\.expired\.test/);
  assert.match(r.stdout, /Nothing was changed: the pre-flight failed/);
  assert.deepEqual(readdirSync(dir), []);
  const dry = await mtasts(
    rolloutArgs("good.test", "--to", "enforce", "--policies", dir, "--dry-run"),
  );
  assert.equal(dry.code, 0, dry.stdout);
  assert.match(dry.stdout, /Dry run: nothing was changed/);
  assert.deepEqual(readdirSync(dir), []);
});

test("STS-OPS-03 --to none: mode none first, then the removal date from the old max_age (--now)", async () => {
  const r = await mtasts(
    rolloutArgs("good.test", "--to", "none", "--now", "2026-12-02T00:00:00Z", "--json"),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.status, "printed");
  assert.equal(o.id, "20261202000000");
  assert.match(o.policy, /mode: none\n/);
  assert.match(o.policy, /max_age: 86400\n/);
  assert.equal(o.removeAfter, "2026-12-09T00:00:00.000Z");
  assert.deepEqual(
    o.steps.map((s: { action: string }) => s.action),
    ["write-policy", "verify-policy", "publish-txt", "wait", "remove"],
  );
  const text = await mtasts(
    rolloutArgs("good.test", "--to", "none", "--now", "2026-12-02T00:00:00Z"),
  );
  assert.match(text.stdout, /Earliest removal: 2026-12-09T00:00:00\.000Z/);
});

test("--db: failures in TLS-RPT reports of the last days block enforce and are listed", async () => {
  const db = join(t.dir, "reports.db");
  const store = await openReportStore(db);
  try {
    await fileReport(store, "good.test", new Date(Date.now() - 2 * 86_400_000), 7);
  } finally {
    await store.close();
  }
  const r = await mtasts(rolloutArgs("good.test", "--to", "enforce", "--db", db, "--dry-run"));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /rollout\.reports\.failures/);
  assert.match(r.stdout, /certificate-expired: 7 in 1 report/);
  const missing = await mtasts(
    rolloutArgs("good.test", "--to", "enforce", "--db", join(t.dir, "none.db")),
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot open the report store/);
});

test("usage errors: exit 2 naming the argument", async () => {
  const cases: [string[], RegExp][] = [
    [["rollout", "good.test"], /rollout needs --to/],
    [["rollout", "good.test", "--to", "strict"], /--to: "strict" is not a mode/],
    [["rollout", "bad domain", "--to", "testing"], /<domain>:/],
    [
      ["rollout", "good.test", "--to", "testing", "--update-server", "127.0.0.1:53"],
      /--update-server needs --policies/,
    ],
    [
      [
        "rollout",
        "good.test",
        "--to",
        "testing",
        "--update-server",
        "ns..example:53",
        "--policies",
        "/tmp",
      ],
      /--update-server "ns\.\.example:53" is not HOST\[:PORT\]/,
    ],
    [
      [
        "rollout",
        "good.test",
        "--to",
        "testing",
        "--update-server",
        "127.0.0.1:53",
        "--policies",
        "/tmp",
        "--tsig-key",
        "k:hmac-md5:AAAA",
      ],
      /--tsig-key: .*hmac-md5/,
    ],
    [["rollout", "good.test", "--to", "testing", "--max-age", "0"], /--max-age: 0 is out of range/],
    [["rollout", "good.test", "--to", "testing", "--days", "0"], /--days "0" must be 1-366/],
    [
      ["rollout", "good.test", "--to", "testing", "--policies", "/nonexistent/policies"],
      /--policies "\/nonexistent\/policies" does not exist/,
    ],
    [["rollout", "good.test", "--to", "testing", "--policies", bin], /is not a directory/],
  ];
  for (const [args, expected] of cases) {
    const r = await mtasts(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
});

describe("RFC 2136 through the CLI", { skip: namedSkip() }, () => {
  let named: NamedServer;
  before(async () => {
    named = await startNamed({
      zone: "good.test",
      records: [{ name: "_mta-sts", type: "TXT", value: "v=STSv1; id=20261123T000000;" }],
    });
  });
  after(() => named?.close());

  test("--update-server with --tsig-file publishes the new id; a wrong key is exit 3 with the record to publish", async () => {
    const dir = join(t.dir, "named");
    mkdirSync(dir);
    const keyFile = join(t.dir, "tsig.key");
    writeFileSync(
      keyFile,
      `key "${named.key.name}" {\n\talgorithm ${named.key.algorithm};\n\tsecret "${named.key.secret}";\n};\n`,
    );
    const server = `${named.host}:${named.port}`;
    const r = await mtasts(
      rolloutArgs(
        "good.test",
        "--to",
        "enforce",
        "--policies",
        dir,
        "--no-verify",
        "--update-server",
        server,
        "--tsig-file",
        keyFile,
        "--json",
      ),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.status, "done");
    assert.deepEqual(await named.query("_mta-sts.good.test", "TXT"), [`v=STSv1; id=${o.id};`]);
    assert.ok(existsSync(join(dir, "good.test.txt")));

    const wrong = `${named.key.name}:${named.key.algorithm}:${Buffer.alloc(32, 7).toString("base64")}`;
    const bad = await mtasts(
      rolloutArgs(
        "good.test",
        "--to",
        "testing",
        "--policies",
        dir,
        "--no-verify",
        "--update-server",
        server,
        "--tsig-key",
        wrong,
      ),
    );
    assert.equal(bad.code, 3, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /\[FAILED\] Replace the _mta-sts TXT record/);
    assert.match(bad.stdout, /DNS update failed: publish the record of the FAILED step by hand/);
    assert.deepEqual(await named.query("_mta-sts.good.test", "TXT"), [`v=STSv1; id=${o.id};`]);
    assert.match(readFileSync(join(dir, "good.test.txt"), "utf8"), /mode: testing/);
  });
});
