// The host with real certificate automation: src/acme's automation is the
// host's ChallengeResponder and CertificateSource, a private pebble validates
// through the host's own port 80 (HTTP-01) and HTTPS port (TLS-ALPN-01), and
// the policy is then fetched over a certificate pebble issued. This is the
// seam the `acme:` config section will use.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DnsServer, startDnsServer } from "../../lab/dns-server.ts";
import { type AcmeAutomation, startAcme } from "../../src/acme/index.ts";
import type { ChallengeResponder } from "../../src/acme/types.ts";
import { createLogger } from "../../src/adapters/log.ts";
import { createHost, defaultHostConfig, type PolicyHost } from "../../src/host/index.ts";
import { freePort, type Pebble, pebbleSkip, startPebble } from "../support/pebble.ts";
import { fetchFrom, policyText } from "./fixture.ts";

const skip = pebbleSkip();
const HTTP_NAME = "mta-sts.http.acme.test";
const ALPN_NAME = "mta-sts.alpn.acme.test";

describe("the host answers ACME challenges for src/acme against pebble", {
  skip,
  timeout: 90_000,
}, () => {
  let dns: DnsServer;
  let pebble: Pebble;
  let host: PolicyHost;
  let dir: string;
  const autos: AcmeAutomation[] = [];
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mtasts-host-acme-"));
    dns = await startDnsServer({
      zones: [
        {
          apex: "acme.test",
          records: [
            { type: "A", name: HTTP_NAME, address: "127.0.0.1" },
            { type: "A", name: ALPN_NAME, address: "127.0.0.1" },
          ],
        },
      ],
    });
    const httpPort = await freePort();
    const tlsPort = await freePort();
    pebble = await startPebble({
      dnsServer: `127.0.0.1:${dns.port}`,
      httpPort,
      tlsPort,
      validityPeriod: 3600,
    });
    const start = (name: string, type: "http-01" | "tls-alpn-01") =>
      startAcme({
        directoryUrl: pebble.directoryUrl,
        ca: pebble.apiCa,
        stateDir: join(dir, name),
        challengeTypes: [type],
        pollMs: 50,
        retryBaseMs: 200,
        retryMaxMs: 1000,
        validationTimeoutMs: 20_000,
        requestTimeoutMs: 10_000,
        log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      });
    autos.push(await start("http", "http-01"), await start("alpn", "tls-alpn-01"));
    const [a, b] = autos as [AcmeAutomation, AcmeAutomation];
    // Two automations (one per challenge type) behind the host's one seam.
    const challenges: ChallengeResponder = {
      http01: (token) => a.http01(token) ?? b.http01(token),
      tlsAlpn01: (name) => a.tlsAlpn01(name) ?? b.tlsAlpn01(name),
    };
    const certificates = {
      get: (name: string) => a.get(name) ?? b.get(name),
      onChange: (l: (name: string) => void) => {
        a.onChange(l);
        b.onChange(l);
      },
    };
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "policies", "http.acme.test.txt"), policyText("mx1.http.acme.test"));
    writeFileSync(join(dir, "policies", "alpn.acme.test.txt"), policyText("mx1.alpn.acme.test"));
    const config = defaultHostConfig();
    config.policies = join(dir, "policies");
    config.listen = [{ host: "127.0.0.1", port: tlsPort }];
    config.httpListen = [{ host: "127.0.0.1", port: httpPort }];
    config.idCheck.enabled = false;
    host = await createHost(config, {
      challenges,
      certificates,
      log: createLogger({ level: "info", format: "text", write: (l) => void logs.push(l) }),
    });
    await host.listen();
  });
  after(async () => {
    for (const a of autos) await a.stop();
    await host?.close();
    await pebble?.close();
    await dns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, type, which] of [
    [HTTP_NAME, "HTTP-01 on the host's port 80", 0],
    [ALPN_NAME, "TLS-ALPN-01 on the host's HTTPS port", 1],
  ] as const) {
    test(`STS-FETCH-02 a certificate issued over ${type} is served for ${name}`, async () => {
      const port = host.addresses().https[0]?.port ?? 0;
      await assert.rejects(fetchFrom(port, pebble.apiCa, { servername: name, host: name }));
      const acme = autos[which] as AcmeAutomation;
      await acme.ensure([name]);
      assert.ok(acme.get(name), `issued for ${name}: ${acme.status(name)?.lastError?.message}`);
      // pebble's validation went through the host, not a stand-in.
      const answered =
        which === 0 ? /ACME HTTP-01 challenge/ : /ACME TLS-ALPN-01 challenge name=mta-sts\.alpn/;
      assert.ok(
        logs.some((l) => answered.test(l)),
        logs.join(""),
      );
      const r = await fetchFrom(port, await pebble.issuingRoot(), { servername: name, host: name });
      assert.equal(r.status, 200);
      assert.equal(r.body, policyText(`mx1.${name.slice("mta-sts.".length)}`));
    });
  }
});
