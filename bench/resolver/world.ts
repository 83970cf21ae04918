// The benchmark's lab world, built in bulk from the lab's building blocks: one
// DNS zone (`test`) served on 127.0.0.153:53 and one HTTPS policy host on
// 127.0.0.2:443, so a daemon that knows no DNS setting (PMSR reads
// /etc/resolv.conf and fetches from port 443) can use it too.
//
// Names, all under `.test` (see names()):
//   h<i>.hit.test    policy domains the cached-hit cases cycle over
//   n<i>.none.test   domains with an MX record and no `_mta-sts` record
//   c<i>.cold.test   policy domains looked up once each (cold case and its warm-up)
//   r<i>.rss.test    policy domains that fill the cache for the memory case
// A policy domain has `_mta-sts` TXT, `mta-sts.<d>` A → the policy host, and
// MX; its policy (the lab's default) is `enforce` with `mx: mx.<d>`. One
// multi-SAN certificate is issued per group of `namesPerCert` policy hosts and
// shared by them: issuing costs ~1 ms, so one per host would take minutes for
// 100,000 domains, while certificates with hundreds of names would make every
// fetch parse a SAN list no real policy host sends.
//
// Run as its own process (`node bench/resolver/world.ts '<json WorldSpec>'`),
// so serving DNS and HTTPS does not share an event loop with the load client.
// It prints one line `ready <json>` on stdout and exits when stdin closes.

import { mkdirSync } from "node:fs";
import { createTestCa, type IssuedCert } from "../../lab/ca.ts";
import { startDnsServer } from "../../lab/dns-server.ts";
import type { RecordData } from "../../lab/dns-zone.ts";
import { type PolicySite, startPolicyHost } from "../../lab/https-host.ts";

export interface WorldSpec {
  hit: number;
  none: number;
  cold: number;
  rss: number;
  /** Directory the lab root CA file is written to. */
  dir: string;
  dnsAddress: string;
  dnsPort: number;
  httpsAddress: string;
  httpsPort: number;
  /** Policy hosts per multi-SAN certificate. */
  namesPerCert: number;
}

export interface WorldReady {
  caFile: string;
  records: number;
  sites: number;
  certificates: number;
  buildMs: number;
}

export const DNS_ADDRESS = "127.0.0.153";
export const HTTPS_ADDRESS = "127.0.0.2";

export const names = {
  hit: (i: number) => `h${i}.hit.test`,
  none: (i: number) => `n${i}.none.test`,
  cold: (i: number) => `c${i}.cold.test`,
  rss: (i: number) => `r${i}.rss.test`,
};

async function build(spec: WorldSpec): Promise<{ close(): Promise<void>; ready: WorldReady }> {
  const started = performance.now();
  const ca = await createTestCa();
  mkdirSync(spec.dir, { recursive: true });
  const caFile = ca.writeCaFile(spec.dir);

  const records: RecordData[] = [];
  const policyDomains: string[] = [];
  const addPolicy = (d: string) => {
    policyDomains.push(d);
    records.push(
      { type: "TXT", name: `_mta-sts.${d}`, strings: ["v=STSv1; id=20240101T000000;"] },
      { type: "A", name: `mta-sts.${d}`, address: spec.httpsAddress },
      { type: "MX", name: d, preference: 10, exchange: `mx.${d}` },
    );
  };
  for (let i = 0; i < spec.hit; i++) addPolicy(names.hit(i));
  for (let i = 0; i < spec.cold; i++) addPolicy(names.cold(i));
  for (let i = 0; i < spec.rss; i++) addPolicy(names.rss(i));
  for (let i = 0; i < spec.none; i++) {
    const d = names.none(i);
    records.push({ type: "MX", name: d, preference: 10, exchange: `mx.${d}` });
  }

  const sites: Record<string, PolicySite> = {};
  const groups: string[][] = [];
  for (let at = 0; at < policyDomains.length; at += spec.namesPerCert)
    groups.push(policyDomains.slice(at, at + spec.namesPerCert).map((d) => `mta-sts.${d}`));
  // Key generation runs on libuv's thread pool, so a few issues in parallel go faster.
  for (let at = 0; at < groups.length; at += 16) {
    const batch = groups.slice(at, at + 16);
    const certs = await Promise.all(batch.map((hosts) => ca.issue({ names: hosts })));
    batch.forEach((hosts, i) => {
      for (const h of hosts) sites[h] = { cert: certs[i] as IssuedCert };
    });
  }
  const certificates = groups.length;

  const dns = await startDnsServer({
    zones: [{ apex: "test", records }],
    address: spec.dnsAddress,
    port: spec.dnsPort,
  });
  const host = await startPolicyHost({
    address: spec.httpsAddress,
    port: spec.httpsPort,
    sites,
  });
  // Both servers log every query and request; over 100,000 lookups that is
  // memory nobody reads here.
  const trim = setInterval(() => {
    dns.log.length = 0;
    host.requests.length = 0;
    host.handshakes.length = 0;
  }, 1000);
  return {
    ready: {
      caFile,
      records: records.length,
      sites: policyDomains.length,
      certificates,
      buildMs: Math.round(performance.now() - started),
    },
    async close() {
      clearInterval(trim);
      await Promise.all([dns.close(), host.close()]);
    },
  };
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as WorldSpec;
  const world = await build(spec);
  process.stdout.write(`ready ${JSON.stringify(world.ready)}\n`);
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    world.close().finally(() => process.exit(0));
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
