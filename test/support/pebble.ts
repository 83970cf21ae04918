// A private pebble (Debian's ACME test server) on loopback for the ACME tests:
// its API certificate comes from the lab CA (so the test knows the root to
// trust), its DNS is the lab DNS server, and its validations connect to the
// ports the test's own challenge servers listen on. Off CI a missing pebble
// skips the suite with a hint; with CI set it fails (see services.ts).

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "../../lab/ca.ts";

export const PEBBLE_BIN = process.env.MTASTS_TEST_PEBBLE ?? "/usr/bin/pebble";
const READY_TIMEOUT_MS = 15_000;
const API_NAME = "localhost";

export interface PebbleOptions {
  /** `HOST:PORT` of the DNS server pebble resolves identifiers through (the lab's). */
  dnsServer: string;
  /** Where HTTP-01 validations connect (pebble's `httpPort`). */
  httpPort: number;
  /** Where TLS-ALPN-01 validations connect (pebble's `tlsPort`). */
  tlsPort: number;
  /** Lifetime of issued certificates in seconds (pebble's `certificateValidityPeriod`). */
  validityPeriod?: number;
}

export interface Pebble {
  /** The ACME directory URL. */
  directoryUrl: string;
  /** PEM root that signed pebble's API certificate: what an ACME client must trust. */
  apiCa: string;
  /** PEM of pebble's issuing root (management API `/roots/0`), to verify issued chains. */
  issuingRoot(): Promise<string>;
  /** pebble's own output so far (for failure messages). */
  output(): string;
  close(): Promise<void>;
}

/** The `skip` value for node:test: false when pebble is installed; throws in CI when it is not. */
export function pebbleSkip(): string | false {
  if (existsSync(PEBBLE_BIN)) return false;
  const message = `pebble not found at ${PEBBLE_BIN}; install it with: apt-get install pebble`;
  if (process.env.CI) throw new Error(`${message} [CI is set, so a missing pebble fails]`);
  return message;
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  // A free port can be taken between our probe and pebble's bind: try again then.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /address already in use/.test(error.message))) throw error;
    }
  }
  throw lastError;
}

async function startOnce(options: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-pebble-"));
  const ca = await createTestCa();
  const api = await ca.issue({ names: [API_NAME] });
  writeFileSync(join(dir, "cert.pem"), api.chainPem);
  writeFileSync(join(dir, "key.pem"), api.keyPem, { mode: 0o600 });
  const [port, managementPort] = [await freePort(), await freePort()];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(dir, "cert.pem"),
      privateKey: join(dir, "key.pem"),
      httpPort: options.httpPort,
      tlsPort: options.tlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      ...(options.validityPeriod === undefined
        ? {}
        : { certificateValidityPeriod: options.validityPeriod }),
    },
  };
  const configFile = join(dir, "pebble-config.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const child = spawn(PEBBLE_BIN, ["-config", configFile, "-dnsserver", options.dnsServer], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PEBBLE_VA_NOSLEEP: "1",
      PEBBLE_WFE_NONCEREJECT: "0",
      PEBBLE_AUTHZREUSE: "0",
    },
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const base = `https://${API_NAME}:${port}`;
  const management = `https://${API_NAME}:${managementPort}`;
  try {
    await waitReady(`${base}/dir`, ca.rootPem, child, exited, () => log);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    directoryUrl: `${base}/dir`,
    apiCa: ca.rootPem,
    issuingRoot: () => get(`${management}/roots/0`, ca.rootPem).then((r) => r.body),
    output: () => log,
    close,
  };
}

async function waitReady(
  url: string,
  ca: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`pebble exited (${child.exitCode}) before answering:\n${output()}`);
    try {
      const { status } = await get(url, ca);
      if (status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pebble did not answer ${url} within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.length > 1_000_000) req.destroy(new Error(`${url}: body over 1 MB`));
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** A loopback TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
