// startLab(scenario): a loopback mini-internet for tests, benchmarks and the
// offline demo. One authoritative DNS server, one HTTPS server for every
// policy host (SNI picks the certificate), one SMTP server per MX on its own
// loopback address (127.0.1.x, then 127.0.2.x and on), all certificates from
// a test CA the code under test is told to trust (never the system store).

import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createResolver } from "../src/adapters/dns.ts";
import { fetchPolicy } from "../src/adapters/policy-fetch.ts";
import { probeSmtp } from "../src/adapters/smtp-probe.ts";
import type { CheckDeps, CheckOptions } from "../src/check/types.ts";
import { formatPolicy } from "../src/core/policy.ts";
import { createTestCa, type IssuedCert, type TestCa } from "./ca.ts";
import { type DnsServer, startDnsServer } from "./dns-server.ts";
import type { RecordData, ZoneData } from "./dns-zone.ts";
import {
  type HttpsFault,
  type PolicyHost,
  type PolicySite,
  startPolicyHost,
} from "./https-host.ts";
import {
  certFaultOf,
  type DomainSpec,
  faultsOf,
  mxHostName,
  type Scenario,
  smtpFaultOf,
} from "./scenario.ts";
import { type SmtpHost, startSmtpHost } from "./smtp-host.ts";

export type { DomainSpec, Fault, Scenario } from "./scenario.ts";
export { scenario } from "./scenario.ts";

export const POLICY_HOST_ADDRESS = "127.0.0.2";
const PROVIDER_ZONE = "sts-provider.test";

export interface Lab {
  dns: DnsServer;
  /** `HOST:PORT` of the lab's DNS server, for --resolver. */
  resolver: string;
  httpsPort: number;
  smtpPort: number;
  /** The HTTPS server of every policy host: its request log, for assertions. */
  policyHost: PolicyHost;
  /** Every SMTP server started, by MX host name: their session counts, for assertions. */
  smtpHosts: ReadonlyMap<string, SmtpHost>;
  ca: TestCa;
  /** The lab root as a PEM file, for --ca-file. */
  caFile: string;
  /** Options that point `checkDomain` at the lab. */
  checkOptions: CheckOptions;
  /** Real adapters, with DNS pointed at the lab. */
  checkDeps(): CheckDeps;
  /** The CLI flags that point `mtasts check` at the lab. */
  checkArgs(): string[];
  /**
   * Re-publishes DNS and policies from a new scenario (a changed id, policy,
   * fault or a new domain) without restarting anything. MX hosts keep their
   * addresses and SMTP servers as first started, so only DNS- and
   * policy-level changes take effect.
   */
  update(s: Scenario): Promise<void>;
  close(): Promise<void>;
}

export interface LabOptions {
  now?: Date;
  /** Where the DNS server listens (default 127.0.0.1, a free port): fixed for tools that only speak to port 53. */
  dnsAddress?: string;
  dnsPort?: number;
  /** The policy hosts' port (default: a free one); 443 lets unmodified senders fetch from the lab. */
  httpsPort?: number;
}

export async function startLab(s: Scenario, options: LabOptions = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-lab-"));
  const ca = await createTestCa(options.now ? { now: options.now } : {});
  const caFile = ca.writeCaFile(dir);
  const plan = await planScenario(s, ca);
  const closers: (() => Promise<void>)[] = [];
  try {
    const dns = await startDnsServer({
      zones: plan.zones,
      ...(options.dnsAddress ? { address: options.dnsAddress } : {}),
      ...(options.dnsPort ? { port: options.dnsPort } : {}),
    });
    closers.push(() => dns.close());
    const https = await startPolicyHost({
      address: POLICY_HOST_ADDRESS,
      sites: plan.sites,
      ...(options.httpsPort ? { port: options.httpsPort } : {}),
    });
    closers.push(() => https.close());
    const smtp = await startSmtpHosts(plan.smtp);
    closers.push(...smtp.hosts.map((h) => () => h.close()));
    const resolver = `${dns.address}:${dns.port}`;
    const checkOptions: CheckOptions = {
      httpsPort: https.port,
      smtpPort: smtp.port,
      ca: [ca.rootPem],
    };
    return {
      dns,
      resolver,
      httpsPort: https.port,
      smtpPort: smtp.port,
      policyHost: https,
      smtpHosts: new Map(plan.smtp.map((p, i) => [p.hostname, smtp.hosts[i] as SmtpHost])),
      ca,
      caFile,
      checkOptions,
      checkDeps: () => ({
        resolver: createResolver({
          servers: [{ host: dns.address, port: dns.port }],
          timeoutMs: 1500,
          attempts: 1,
        }),
        fetchPolicy,
        probeSmtp,
        now: () => options.now ?? new Date(),
      }),
      checkArgs: () => [
        "--resolver",
        resolver,
        "--ca-file",
        caFile,
        "--https-port",
        String(https.port),
        "--smtp-port",
        String(smtp.port),
      ],
      update: async (next) => {
        const replanned = await planScenario(next, ca);
        dns.setZones(replanned.zones);
        https.setSites(replanned.sites);
      },
      close: async () => {
        await Promise.allSettled(closers.map((c) => c()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.allSettled(closers.map((c) => c()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface SmtpPlan {
  address: string;
  hostname: string;
  cert?: { keyPem: string; chainPem: string };
  fault?: Parameters<typeof startSmtpHost>[0]["fault"];
}

interface Plan {
  zones: ZoneData[];
  sites: Record<string, PolicySite>;
  smtp: SmtpPlan[];
}

async function planScenario(s: Scenario, ca: TestCa): Promise<Plan> {
  const zones: ZoneData[] = [];
  const sites: Record<string, PolicySite> = {};
  const smtp: SmtpPlan[] = [];
  const provider: RecordData[] = [];
  let nextMx = 0;
  for (const spec of s.domains) {
    const { zone, site, hosts, providerRecords } = await planDomain(spec, ca, () =>
      mxAddress(nextMx++),
    );
    zones.push(zone);
    if (site) sites[`mta-sts.${spec.domain}`] = site;
    smtp.push(...hosts);
    provider.push(...providerRecords);
  }
  if (provider.length > 0) zones.push({ apex: PROVIDER_ZONE, records: provider });
  return { zones, sites, smtp };
}

/**
 * The n-th MX address (from 0): 127.0.1.1 … 127.0.1.254, then 127.0.2.1 and on
 * (127.0.0.x is the lab's own servers'), then 127.1.1.1 and on: about 16
 * million before it runs out. Linux answers on all of 127.0.0.0/8.
 */
export function mxAddress(n: number): string {
  const perBlock = 254 * 255;
  const [second, rest] = [Math.floor(n / perBlock), n % perBlock];
  if (second > 255) throw new Error(`lab: no loopback address left for MX number ${n}`);
  return `127.${second}.${1 + Math.floor(rest / 254)}.${1 + (rest % 254)}`;
}

async function planDomain(spec: DomainSpec, ca: TestCa, nextAddress: () => string) {
  const d = spec.domain;
  const { domain: faults, mx: mxFaults } = faultsOf(spec);
  const has = (f: string) => faults.has(f as never);
  const records: RecordData[] = [];
  const zoneFaults: NonNullable<ZoneData["faults"]> = {};
  const providerRecords: RecordData[] = [];
  const id = spec.stsId ?? "20261123T000000";
  const stsName = `_mta-sts.${d}`;

  const mtaSts = spec.mtaSts ?? true;
  if (has("dns:sts-servfail")) zoneFaults[stsName] = "servfail";
  if (has("dns:sts-timeout")) zoneFaults[stsName] = "timeout";
  if (has("dns:sts-garbage")) zoneFaults[stsName] = "garbage";
  if (has("dns:sts-cname")) {
    const target = `_mta-sts.${d.replaceAll(".", "-")}.${PROVIDER_ZONE}`;
    records.push({ type: "CNAME", name: stsName, target });
    providerRecords.push({ type: "TXT", name: target, strings: [`v=STSv1; id=${id};`] });
  } else if (has("dns:sts-cname-loop")) {
    records.push({ type: "CNAME", name: stsName, target: `_loop.${d}` });
    records.push({ type: "CNAME", name: `_loop.${d}`, target: stsName });
  } else if (spec.stsTxt) {
    records.push({ type: "TXT", name: stsName, strings: spec.stsTxt });
  } else if (mtaSts && !has("dns:sts-missing")) {
    // Split in two character-strings, as many DNS hosts publish it (STS-REC-03).
    records.push({
      type: "TXT",
      name: stsName,
      strings: has("dns:sts-invalid") ? ["v=STSv1; id=2026-11-23;"] : ["v=STSv1; ", `id=${id};`],
    });
    if (has("dns:sts-multiple"))
      records.push({ type: "TXT", name: stsName, strings: ["v=STSv1; id=other1;"] });
  }
  if (mtaSts)
    records.push({ type: "TXT", name: stsName, strings: ["google-site-verification=lab-noise"] });
  if (spec.tlsrpt !== false) {
    const text = has("dns:tlsrpt-invalid")
      ? "v=TLSRPTv1; foo=bar"
      : `v=TLSRPTv1; rua=mailto:tlsrpt@${d}`;
    records.push({ type: "TXT", name: `_smtp._tls.${d}`, strings: [text] });
  }
  const policyHosted = mtaSts && !has("dns:policy-host-missing");
  if (policyHosted)
    records.push({
      type: "A",
      name: `mta-sts.${d}`,
      address: spec.policyAddress ?? POLICY_HOST_ADDRESS,
    });

  const mxHosts = has("dns:mx-none") ? [d] : (spec.mx ?? ["mx1"]).map((m) => mxHostName(d, m));
  if (has("dns:mx-servfail")) zoneFaults[d] = { type: "MX", fault: "servfail" };
  if (!has("dns:mx-none")) {
    mxHosts.forEach((host, i) => {
      records.push({ type: "MX", name: d, preference: 10 * (i + 1), exchange: host });
    });
  }
  const hosts: SmtpPlan[] = [];
  const dane = spec.dane ?? false;
  let insecureTlsa = false;
  for (const host of mxHosts) {
    const f = mxFaults.get(host) ?? new Set();
    const address = nextAddress();
    if (!f.has("no-address")) records.push({ type: "A", name: host, address });
    if (spec.smtp === false) continue;
    const certFault = certFaultOf(f);
    const cert = await ca.issue({
      names: [host],
      ...(certFault ? { fault: certFault } : {}),
      ...(f.has("cert-expiring") ? { validDays: 10 } : {}),
    });
    if (f.has("tlsa-servfail")) zoneFaults[`_25._tcp.${host}`] = "servfail";
    else if (
      dane ||
      f.has("tlsa") ||
      f.has("tlsa-mismatch") ||
      f.has("tlsa-insecure") ||
      f.has("tlsa-unusable")
    ) {
      const key = f.has("tlsa-mismatch") ? new Uint8Array(32).fill(7) : sha256(cert.spkiDer);
      records.push({
        type: "TLSA",
        name: `_25._tcp.${host}`,
        usage: f.has("tlsa-unusable") ? 1 : 3,
        selector: 1,
        matchingType: 1,
        data: key,
      });
      if (f.has("tlsa-insecure")) insecureTlsa = true;
    }
    if (f.has("down") || f.has("no-address")) continue;
    const fault = smtpFaultOf(f);
    hosts.push({
      address,
      hostname: host,
      cert: { keyPem: cert.keyPem, chainPem: cert.chainPem },
      ...(fault ? { fault } : {}),
    });
  }

  let site: PolicySite | null = null;
  if (policyHosted) {
    const policyMx =
      spec.policyMx ?? (has("policy:mx-not-covered") ? mxHosts.slice(0, -1) : mxHosts);
    let body =
      spec.policyText ??
      formatPolicy({
        mode: spec.mode ?? "enforce",
        max_age: spec.maxAge ?? 1_209_600,
        mx: policyMx,
      });
    if (has("policy:invalid")) body = body.replace(/max_age: \d+/, "max_age: 99999999");
    const policyHost = `mta-sts.${d}`;
    const certFault = certFaultOf(faults, "policy:");
    const cert: IssuedCert | null = has("policy:no-cert")
      ? null
      : await ca.issue({ names: [policyHost], ...(certFault ? { fault: certFault } : {}) });
    const httpsFault = [...faults]
      .map((f) => f.slice("policy:".length))
      .find((f): f is HttpsFault => HTTPS_FAULTS.has(f));
    site = { cert, body, ...(httpsFault ? { fault: httpsFault } : {}) };
  }
  const zone: ZoneData = {
    apex: d,
    authenticated: !insecureTlsa && (spec.dnssec ?? dane),
    records,
    faults: zoneFaults,
  };
  return { zone, site, hosts, providerRecords };
}

const HTTPS_FAULTS: ReadonlySet<string> = new Set<HttpsFault>([
  "404",
  "500",
  "redirect",
  "content-type-html",
  "no-content-type",
  "charset-latin1",
  "oversize",
  "slow-body",
  "slow-headers",
  "tls-1.0",
]);

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** Every MX on the same port, each on its own loopback address. */
async function startSmtpHosts(plans: SmtpPlan[]): Promise<{ port: number; hosts: SmtpHost[] }> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const hosts: SmtpHost[] = [];
    let port = 0;
    try {
      for (const p of plans) {
        const h = await startSmtpHost({ ...p, port });
        port = h.port;
        hosts.push(h);
      }
      if (port === 0) {
        // No MX at all: still reserve a port so "down" hosts refuse connections.
        const probe = await startSmtpHost({ address: "127.0.1.254", hostname: "unused.lab.test" });
        port = probe.port;
        await probe.close();
      }
      return { port, hosts };
    } catch (err) {
      await Promise.allSettled(hosts.map((h) => h.close()));
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  throw new Error("could not find one port free on every lab MX address");
}
