// Our own `check` against the host: the lab's DNS points mta-sts.<domain> at
// the host (on 127.0.0.4), the lab's MX hosts answer SMTP, and checkDomain
// fetches the policy by RFC 8461's rules (SNI, status, redirects, type, size,
// certificate) and must find nothing wrong with the policy host.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { createLogger } from "../../src/adapters/log.ts";
import { checkDomain } from "../../src/check/index.ts";
import { createHost, type PolicyHost, quickHostConfig } from "../../src/host/index.ts";
import { policyText } from "./fixture.ts";

const HOST_ADDRESS = "127.0.0.4";
let lab: Lab;
let host: PolicyHost;
let dir: string;

before(async () => {
  lab = await startLab(
    scenario(
      { domain: "one.test", mx: ["mx1", "mx2"], policyAddress: HOST_ADDRESS },
      { domain: "two.test", policyAddress: HOST_ADDRESS },
      { domain: "gone.test", policyAddress: HOST_ADDRESS },
    ),
  );
  dir = mkdtempSync(join(tmpdir(), "mtasts-host-check-"));
  const cert = await lab.ca.issue({
    names: ["mta-sts.one.test", "mta-sts.two.test", "mta-sts.gone.test"],
  });
  writeFileSync(join(dir, "cert.pem"), cert.chainPem);
  writeFileSync(join(dir, "key.pem"), cert.keyPem);
  writeFileSync(
    join(dir, "one.test.txt"),
    policyText("mx1.one.test\nmx: mx2.one.test", "enforce", 1_209_600),
  );
  writeFileSync(join(dir, "two.test.txt"), policyText("mx1.two.test", "enforce", 1_209_600));
  const config = quickHostConfig({
    policies: dir,
    listen: `${HOST_ADDRESS}:0`,
    cert: join(dir, "cert.pem"),
    key: join(dir, "key.pem"),
  });
  config.idCheck.enabled = false;
  host = await createHost(config, {
    log: createLogger({ level: "error", format: "text", write: () => undefined }),
  });
  await host.listen();
});
after(async () => {
  await host?.close();
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const check = (domain: string) =>
  checkDomain(domain, lab.checkDeps(), {
    ...lab.checkOptions,
    httpsPort: host.addresses().https[0]?.port ?? 0,
  });

test("STS-FETCH-01 STS-FETCH-02 STS-FETCH-03 STS-FETCH-04 STS-FETCH-06 check finds the hosted policy valid and every MX covered", async () => {
  for (const domain of ["one.test", "two.test"]) {
    const r = await check(domain);
    assert.equal(r.policy?.fetched, true, domain);
    assert.equal(r.policy?.valid, true, domain);
    assert.equal(r.policy?.tls?.version.startsWith("TLSv1."), true);
    const policyFindings = r.findings.filter((f) => /^(fetch|policy)\./.test(f.code));
    assert.deepEqual(policyFindings, [], domain);
    assert.ok(
      r.mx.every((m) => m.covered === true),
      domain,
    );
    assert.equal(r.status, "ok", `${domain}: ${JSON.stringify(r.findings.map((f) => f.code))}`);
  }
});

test("STS-FETCH-04 check against a domain the host does not serve reports a status failure (404), not a redirect", async () => {
  const r = await check("gone.test");
  assert.equal(r.policy?.fetched, false);
  assert.ok(r.findings.some((f) => f.code === "fetch.status" && /404/.test(f.message)));
});
