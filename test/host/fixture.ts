// A policy host on loopback for tests: a temp directory of policy files, a
// certificate from the lab's test CA naming every mta-sts.<domain>, and a
// real HTTPS client that sets SNI and Host as a sender does.

import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { createTestCa, type TestCa } from "../../lab/ca.ts";
import { createLogger, type Logger } from "../../src/adapters/log.ts";
import {
  createHost,
  type HostConfig,
  type HostDeps,
  type PolicyHost,
  quickHostConfig,
} from "../../src/host/index.ts";

export function policyText(mx: string, mode = "enforce", maxAge = 86400): string {
  return `version: STSv1\nmode: ${mode}\nmx: ${mx}\nmax_age: ${maxAge}\n`;
}

export interface Fixture {
  dir: string;
  policies: string;
  ca: TestCa;
  caFile: string;
  certFile: string;
  keyFile: string;
  host: PolicyHost;
  port: number;
  logs: string[];
  /** Writes a policy file atomically (temp file + rename), as operators should. */
  writePolicy(domain: string, text: string): void;
  close(): Promise<void>;
}

export interface FixtureOptions {
  domains: Record<string, string>;
  /** Names on the default certificate; default every mta-sts.<domain>. */
  certNames?: string[];
  config?: (c: HostConfig) => void;
  /** Runs before the host starts: write more files, change the config. */
  prepare?: (dir: string, ca: TestCa, config: HostConfig) => Promise<void>;
  deps?: HostDeps;
  ca?: TestCa;
}

export async function startFixture(o: FixtureOptions): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-host-test-"));
  const policies = join(dir, "policies");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(policies);
  const ca = o.ca ?? (await createTestCa());
  const names = o.certNames ?? Object.keys(o.domains).map((d) => `mta-sts.${d}`);
  const cert = await ca.issue({ names });
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  writeFileSync(certFile, cert.chainPem);
  writeFileSync(keyFile, cert.keyPem);
  const caFile = ca.writeCaFile(dir);
  const writePolicy = (domain: string, text: string) => {
    const tmp = join(policies, `.${domain}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(policies, `${domain}.txt`));
  };
  for (const [d, text] of Object.entries(o.domains)) writePolicy(d, text);
  const config = quickHostConfig({ policies, listen: "127.0.0.1:0", cert: certFile, key: keyFile });
  config.idCheck.enabled = false;
  config.reload.debounceMs = 50;
  config.limits.shutdownTimeoutMs = 2000;
  o.config?.(config);
  await o.prepare?.(dir, ca, config);
  const logs: string[] = [];
  const log: Logger = createLogger({
    level: "debug",
    format: "text",
    write: (line) => {
      logs.push(line);
      if (process.env.MTASTS_TEST_LOG) process.stderr.write(line);
    },
  });
  const host = await createHost(config, { log, ...o.deps });
  await host.listen();
  const port = host.addresses().https[0]?.port ?? 0;
  return {
    dir,
    policies,
    ca,
    caFile,
    certFile,
    keyFile,
    host,
    port,
    logs,
    writePolicy,
    async close() {
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  tlsVersion: string | null;
}

/** One GET (or other method) over a fresh TLS connection, SNI and Host set like a sender. */
export function fetchFrom(
  port: number,
  ca: string,
  options: {
    servername?: string;
    host?: string;
    path?: string;
    method?: string;
    headers?: Record<string, string>;
    maxVersion?: "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
    minVersion?: "TLSv1" | "TLSv1.2";
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: options.path ?? "/.well-known/mta-sts.txt",
        method: options.method ?? "GET",
        ca,
        servername: options.servername,
        headers: { ...(options.host ? { host: options.host } : {}), ...options.headers },
        agent: false,
        timeout: 10_000,
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
        ...(options.minVersion ? { minVersion: options.minVersion } : {}),
        checkServerIdentity: () => undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            tlsVersion: (res.socket as TLSSocket).getProtocol?.() ?? null,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** The `skip` value for tests that run Debian's curl: off CI a missing curl skips them; on CI it fails. */
export function curlSkip(): string | false {
  if (existsSync("/usr/bin/curl")) return false;
  const message = "curl not found at /usr/bin/curl; install it with: apt-get install curl";
  if (process.env.CI) throw new Error(`${message} [CI is set, so a missing curl fails]`);
  return message;
}
