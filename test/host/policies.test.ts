// Policy files: checked on load, an invalid one never served (the last good
// version stays, or 404), the error names file and line, other domains keep
// serving; changes picked up by the watcher and by reload() (SIGHUP).

import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Fixture, fetchFrom, policyText, startFixture } from "./fixture.ts";

let fx: Fixture;

before(async () => {
  fx = await startFixture({
    domains: {
      "a.test": policyText("mx1.a.test"),
      "b.test": policyText("mx1.b.test"),
      "broken.test": "version: STSv1\nmode: enforce\nmx: mx1.broken.test\nmax_age: 99999999999\n",
    },
    certNames: ["mta-sts.a.test", "mta-sts.b.test", "mta-sts.broken.test", "mta-sts.c.test"],
  });
});
after(() => fx?.close());

const get = (domain: string) =>
  fetchFrom(fx.port, fx.ca.rootPem, { servername: `mta-sts.${domain}`, host: `mta-sts.${domain}` });

/** Polls until `check` passes (the watcher is asynchronous); fails after 10 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail("condition not reached within 10 s");
}

test("STS-POL-08 an invalid policy file is not served; the problem names file and line; others serve", async () => {
  const p = fx.host.problems.find((x) => x.domain === "broken.test");
  assert.ok(p, "a load problem for broken.test");
  assert.equal(p.file, join(fx.policies, "broken.test.txt"));
  assert.equal(p.line, 4);
  assert.match(p.message, /max_age/);
  assert.ok(fx.logs.some((l) => l.includes(`${join(fx.policies, "broken.test.txt")}:4`)));
  assert.equal((await get("broken.test")).status, 404);
  assert.equal((await get("a.test")).status, 200);
});

test("a file that turns invalid keeps its last good version served; fixing it serves the fix", async () => {
  fx.writePolicy("b.test", "version: STSv1\nmode: enforce\nmx mx2.b.test\nmax_age: 86400\n");
  await eventually(async () =>
    fx.logs.some(
      (l) => /still serving the last good version/.test(l) && l.includes("b.test.txt:3"),
    ),
  );
  assert.equal((await get("b.test")).body, policyText("mx1.b.test"));
  fx.writePolicy("b.test", policyText("mx2.b.test"));
  await eventually(async () => (await get("b.test")).body === policyText("mx2.b.test"));
});

test("a new file is served once written, and a removed one stops being served", async () => {
  fx.writePolicy("c.test", policyText("mx1.c.test", "testing"));
  await eventually(async () => (await get("c.test")).status === 200);
  rmSync(join(fx.policies, "c.test.txt"));
  await eventually(async () => (await get("c.test")).status === 404);
  assert.ok(fx.logs.some((l) => /policy file removed/.test(l)));
});

test("STS-FETCH-07 a policy file over 64 KiB is refused, with its size", async () => {
  const big = `${policyText("mx1.a.test")}${"x_ext: y\n".repeat(8000)}`;
  writeFileSync(join(fx.policies, "a.test.txt"), big);
  const r = await fx.host.reload();
  const p = r.policies.find((x) => x.domain === "a.test");
  assert.ok(p);
  assert.match(p.message, /65536 bytes/);
  assert.equal((await get("a.test")).body, policyText("mx1.a.test"));
  fx.writePolicy("a.test", policyText("mx1.a.test"));
  await fx.host.reload();
});

test("STS-FETCH-09 a policy file that is not UTF-8 is refused", async () => {
  writeFileSync(join(fx.policies, "a.test.txt"), Buffer.from([0x76, 0xff, 0xfe, 0x0a]));
  const r = await fx.host.reload();
  assert.ok(r.policies.some((x) => x.domain === "a.test"));
  assert.equal((await get("a.test")).body, policyText("mx1.a.test"));
  fx.writePolicy("a.test", policyText("mx1.a.test"));
  await fx.host.reload();
});

test("files not named <domain>.txt are ignored with a warning", async () => {
  writeFileSync(join(fx.policies, "not a domain!.txt"), policyText("mx"));
  writeFileSync(join(fx.policies, "README"), "notes");
  await fx.host.reload();
  assert.ok(fx.logs.some((l) => l.includes("not a domain!.txt")));
  assert.ok(!fx.host.policies.domains().some((d) => d.includes(" ")));
});
