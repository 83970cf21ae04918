// The whole publishing chain, every part real: `mtasts host` serves a policy
// directory on loopback (the lab's DNS points mta-sts.chain.test at it), the
// `mtasts rollout` binary writes the new policy there, fetches it back once
// the host has reloaded, and only then publishes the id on a private named.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { createLogger } from "../../src/adapters/log.ts";
import { createHost, type PolicyHost, quickHostConfig } from "../../src/host/index.ts";
import { type NamedServer, namedSkip, startNamed } from "../support/named.ts";
import { tempDir } from "./fixtures.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const HOST_ADDRESS = "127.0.0.3";
const OLD_ID = "20261123T000000";

describe("rollout → mtasts host → named", { skip: namedSkip() }, () => {
  let lab: Lab;
  let host: PolicyHost;
  let named: NamedServer;
  let t: ReturnType<typeof tempDir>;
  let policies: string;

  before(async () => {
    t = tempDir();
    policies = join(t.dir, "policies");
    mkdirSync(policies);
    lab = await startLab(
      scenario({
        domain: "chain.test",
        mx: ["mx1", "mx2"],
        stsId: OLD_ID,
        policyAddress: HOST_ADDRESS,
      }),
    );
    const cert = await lab.ca.issue({ names: ["mta-sts.chain.test"] });
    writeFileSync(join(t.dir, "cert.pem"), cert.chainPem);
    writeFileSync(join(t.dir, "key.pem"), cert.keyPem);
    writeFileSync(
      join(policies, "chain.test.txt"),
      "version: STSv1\nmode: testing\nmx: mx1.chain.test\nmx: mx2.chain.test\nmax_age: 604800\n",
    );
    const config = quickHostConfig({
      policies,
      listen: `${HOST_ADDRESS}:0`,
      cert: join(t.dir, "cert.pem"),
      key: join(t.dir, "key.pem"),
    });
    config.idCheck.enabled = false;
    host = await createHost(config, {
      log: createLogger({ level: "error", format: "text", write: () => undefined }),
    });
    await host.listen();
    named = await startNamed({
      zone: "chain.test",
      records: [{ name: "_mta-sts", type: "TXT", value: `v=STSv1; id=${OLD_ID};` }],
    });
  });
  after(async () => {
    await named?.close();
    await host?.close();
    await lab?.close();
    t?.remove();
  });

  test("STS-OPS-01 testing → enforce: the host serves the new file before named gets the new id", async () => {
    const httpsPort = String(host.addresses().https[0]?.port);
    const key = `${named.key.name}:${named.key.algorithm}:${named.key.secret}`;
    const args = [
      bin,
      "rollout",
      "chain.test",
      "--to",
      "enforce",
      "--policies",
      policies,
      "--update-server",
      `${named.host}:${named.port}`,
      "--tsig-key",
      key,
      "--json",
      // The last --https-port wins: the host under test, not the lab's policy host.
      ...lab.checkArgs(),
      "--https-port",
      httpsPort,
    ];
    const r = await run(process.execPath, args, { timeout: 60_000 }).catch((e) => e);
    assert.equal(r.code ?? 0, 0, `${r.stdout}${r.stderr}`);
    const o = JSON.parse(r.stdout);
    assert.equal(o.status, "done");
    assert.equal(o.previous.mode, "testing");
    assert.deepEqual(
      o.steps.map((s: { state: string }) => s.state),
      ["done", "done", "done"],
    );
    assert.equal(readFileSync(join(policies, "chain.test.txt"), "utf8"), o.policy);
    assert.match(o.policy, /mode: enforce/);
    assert.deepEqual(await named.query("_mta-sts.chain.test", "TXT"), [`v=STSv1; id=${o.id};`]);
  });
});
