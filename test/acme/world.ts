// One ACME test world: the lab DNS server (names pebble validates), the two
// challenge servers on the ports pebble connects to, and a private pebble.
// `automation()` starts our ACME automation against it with a fresh state
// directory, a short backoff and a log the test can read.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { type DnsServer, startDnsServer, type ZoneData } from "../../lab/dns-server.ts";
import { type AcmeAutomation, type AcmeOptions, startAcme } from "../../src/acme/index.ts";
import { freePort, type Pebble, startPebble } from "../support/pebble.ts";
import { type ChallengeServers, startChallengeServers } from "./challenge-servers.ts";

export const APEX = "example.test";
/** Resolves to a loopback address where nothing listens: validations get "connection refused". */
export const NOWHERE = "127.0.0.3";

export interface LogLine {
  level: "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

export interface World {
  dns: DnsServer;
  servers: ChallengeServers;
  pebble: Pebble;
  /** Points `name` at `address` (re-publishes the zone). */
  setAddress(name: string, address: string): void;
  automation(
    t: TestContext,
    options?: Partial<AcmeOptions>,
  ): Promise<{ acme: AcmeAutomation; log: LogLine[]; stateDir: string }>;
  close(): Promise<void>;
}

export async function startWorld(validityPeriod: number): Promise<World> {
  const addresses = new Map<string, string>();
  const zone = (): ZoneData => ({
    apex: APEX,
    records: [...addresses].map(([name, address]) => ({ type: "A" as const, name, address })),
  });
  const dns = await startDnsServer({ zones: [zone()] });
  const servers = await startChallengeServers({
    httpPort: await freePort(),
    tlsPort: await freePort(),
  });
  let pebble: Pebble;
  try {
    pebble = await startPebble({
      dnsServer: `127.0.0.1:${dns.port}`,
      httpPort: servers.httpPort,
      tlsPort: servers.tlsPort,
      validityPeriod,
    });
  } catch (error) {
    await Promise.all([servers.close(), dns.close()]);
    throw error;
  }
  return {
    dns,
    servers,
    pebble,
    setAddress(name, address) {
      addresses.set(name, address);
      dns.setZones([zone()]);
    },
    async automation(t, options = {}) {
      const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "mtasts-acme-"));
      const log: LogLine[] = [];
      const line =
        (level: LogLine["level"]) =>
        (msg: string, fields: Record<string, unknown> = {}) => {
          log.push({ level, msg, fields });
          if (process.env.MTASTS_TEST_LOG) console.error(level, msg, fields);
        };
      const acme = await startAcme({
        directoryUrl: pebble.directoryUrl,
        ca: pebble.apiCa,
        email: "postmaster@example.test",
        pollMs: 50,
        retryBaseMs: 200,
        retryMaxMs: 1000,
        validationTimeoutMs: 20_000,
        requestTimeoutMs: 10_000,
        log: { info: line("info"), warn: line("warn"), error: line("error") },
        ...options,
        stateDir,
      });
      servers.responders.add(acme);
      t.after(async () => {
        await acme.stop();
        servers.responders.delete(acme);
        if (options.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
      });
      return { acme, log, stateDir };
    },
    async close() {
      await pebble.close();
      await Promise.all([servers.close(), dns.close()]);
    },
  };
}

/** Waits until `check()` is true, polling; fails with `what` after `ms`. */
export async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
