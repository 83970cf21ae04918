// A private BIND `named` for tests: its own named.conf, zone file and TSIG key
// in a temp dir, one loopback port, foreground (-g), as the current user. The
// system's named service is never touched. Off CI, a missing named skips the
// suite with a hint; with CI set it fails (a green run that tested nothing is
// worse than a red one).

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, encode, type RecordType } from "dns-packet";
import { exchange } from "../../src/adapters/dns-exchange.ts";
import type { TsigKey } from "../../src/adapters/dns-update.ts";

export interface NamedRecord {
  /** Relative to the zone, "@", or absolute (with or without the trailing dot). */
  name: string;
  type: string;
  /** Zone-file text; a TXT value is quoted (and split at 255 bytes) here unless it starts with `"`. */
  value: string;
  ttl?: number;
}

export interface NamedOptions {
  zone: string;
  records?: NamedRecord[];
  /** The key the zone grants updates to; a fresh hmac-sha256 key when absent. */
  key?: TsigKey;
  /** The body of the zone's update-policy; by default the key may change any name in the zone. */
  updatePolicy?: string;
  /** Further keys named knows but the default policy grants nothing. */
  extraKeys?: TsigKey[];
}

export interface NamedServer {
  host: "127.0.0.1";
  port: number;
  key: TsigKey;
  /** The temp dir with named.conf, the zone file and its journal; removed by close(). */
  dir: string;
  /** The records of one RRset (TXT strings joined, names without the trailing dot); [] for none. */
  query(name: string, type: "TXT" | "CNAME" | "A" | "AAAA" | "SOA"): Promise<string[]>;
  /** named's log so far (stderr with -g). */
  log(): string;
  close(): Promise<void>;
}

/** Where named is: MTASTS_TEST_NAMED, else Debian's path. */
export const namedPath = (): string => process.env.MTASTS_TEST_NAMED ?? "/usr/sbin/named";
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 2_000;
const MAX_LOG = 1 << 20;
const running = new Set<ChildProcess>();
const dirs = new Set<string>();

// A test process that crashes or is stopped must not leave named behind: named
// does not notice its parent going away.
const killAll = () => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
};
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  const onSignal = () => {
    killAll();
    // Then die of the signal as if we had not been listening.
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.on(signal, onSignal);
}

/** The `skip` value for node:test: false when named is installed, else why not. Throws with CI set. */
export function namedSkip(): string | false {
  if (existsSync(namedPath())) return false;
  const message = `named is not installed at ${namedPath()}; install Debian's bind9 (apt-get install bind9) or set MTASTS_TEST_NAMED`;
  if (process.env.CI) throw new Error(`${message} [CI is set, so a missing named fails]`);
  return message;
}

export async function startNamed(options: NamedOptions): Promise<NamedServer> {
  const key = options.key ?? {
    name: "mtasts-test",
    algorithm: "hmac-sha256",
    secret: randomBytes(32).toString("base64"),
  };
  const dir = await mkdtemp(join(tmpdir(), "mtasts-named-"));
  dirs.add(dir);
  try {
    await writeFile(join(dir, "zone.db"), zoneFile(options.zone, options.records ?? []));
    let lastError: Error | undefined;
    // Another process may take the free port before named binds it: retry on a new one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      await writeFile(join(dir, "named.conf"), namedConf(dir, port, options, key));
      const started = await launch(options.zone, dir, port, key);
      if (started.ok) return started.server;
      lastError = started.error;
      if (!started.portTaken) break;
    }
    throw lastError ?? new Error("named did not start");
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw error;
  }
}

async function launch(
  zone: string,
  dir: string,
  port: number,
  key: TsigKey,
): Promise<{ ok: true; server: NamedServer } | { ok: false; error: Error; portTaken: boolean }> {
  const named = namedPath();
  const child = spawn(named, ["-g", "-n", "1", "-c", join(dir, "named.conf")], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (log.length < MAX_LOG) log += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => {
    child.on("exit", () => {
      running.delete(child);
      resolve();
    });
    child.on("error", (error) => {
      log += `\nspawn ${named}: ${error.message}`;
      running.delete(child);
      resolve();
    });
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (running.has(child)) {
      child.kill("SIGTERM");
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        child.kill("SIGKILL");
        await within(exited, STOP_TIMEOUT_MS);
      }
    }
    await rm(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };
  const query = (name: string, type: "TXT" | "CNAME" | "A" | "AAAA" | "SOA") =>
    ask(port, name, type);
  const fail = async (why: string, portTaken = false) => {
    if (running.has(child)) {
      child.kill("SIGKILL");
      await within(exited, STOP_TIMEOUT_MS);
    }
    // The build options line is long and never the reason.
    const excerpt = log
      .split("\n")
      .filter((line) => !line.includes("built with"))
      .slice(-40)
      .join("\n");
    return {
      ok: false as const,
      portTaken,
      error: new Error(`named on port ${port} ${why}; the end of its log:\n${excerpt}`),
    };
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/\brunning\s*$/m.test(log)) {
    if (!running.has(child)) return fail("exited before it was ready");
    if (Date.now() > deadline) return fail(`was not ready within ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // named logs a failed bind and runs on without the socket; probe to be sure.
  if (/address in use|could not listen|unable to listen/i.test(log))
    return fail("could not bind its port", true);
  try {
    if ((await ask(port, zone, "SOA")).length !== 1) return fail(`does not serve zone ${zone}`);
  } catch (error) {
    return fail(`does not answer: ${(error as Error).message}`);
  }
  return { ok: true, server: { host: "127.0.0.1", port, key, dir, query, log: () => log, close } };
}

async function ask(port: number, name: string, type: string): Promise<string[]> {
  const id = randomInt(0, 65_536);
  const message = encode({ type: "query", id, questions: [{ name, type: type as RecordType }] });
  const sent = await exchange(message, { host: "127.0.0.1", port }, "tcp", QUERY_TIMEOUT_MS);
  if (!sent.ok) throw new Error(`query ${name} ${type}: ${sent.message}`);
  const reply = decode(sent.bytes);
  if (reply.id !== id) throw new Error(`query ${name} ${type}: the reply's ID does not match`);
  const rcode = (reply as { rcode?: string }).rcode;
  if (rcode !== "NOERROR" && rcode !== "NXDOMAIN")
    throw new Error(`query ${name} ${type}: ${rcode}`);
  const wanted = name.toLowerCase().replace(/\.$/, "");
  const values: string[] = [];
  for (const rr of reply.answers ?? []) {
    if (rr.type !== type || rr.name.toLowerCase() !== wanted) continue;
    if (rr.type === "TXT") {
      const parts = Array.isArray(rr.data) ? rr.data : [rr.data];
      values.push(
        parts.map((p) => (typeof p === "string" ? p : Buffer.from(p).toString("utf8"))).join(""),
      );
    } else if (rr.type === "CNAME" || rr.type === "A" || rr.type === "AAAA") {
      values.push(String(rr.data).replace(/\.$/, ""));
    } else if (rr.type === "SOA") {
      values.push(`${rr.data.mname} ${rr.data.serial}`);
    }
  }
  return values;
}

function namedConf(dir: string, port: number, options: NamedOptions, key: TsigKey): string {
  const keys = [key, ...(options.extraKeys ?? [])];
  const policy = options.updatePolicy ?? `grant "${key.name}" zonesub ANY;`;
  return `# Written by test/support/named.ts for one test run.
options {
  directory "${dir}";
  pid-file "${join(dir, "named.pid")}";
  session-keyfile "${join(dir, "session.key")}";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
};
# No rndc channel: it would bind 953 and clash with other instances.
controls { };
${keys.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`).join("\n")}
zone "${options.zone}" {
  type primary;
  file "zone.db";
  update-policy { ${policy} };
};
`;
}

function zoneFile(zone: string, records: NamedRecord[]): string {
  const origin = `${zone.replace(/\.$/, "")}.`;
  const lines = [
    `$ORIGIN ${origin}`,
    "$TTL 300",
    `@ IN SOA ns1.${origin} hostmaster.${origin} 1 3600 600 86400 300`,
    `@ IN NS ns1.${origin}`,
    "ns1 IN A 127.0.0.1",
  ];
  for (const r of records) {
    const name =
      r.name === "@" || !r.name.includes(".") || r.name.endsWith(".") ? r.name : `${r.name}.`;
    let value = r.value;
    if (r.type === "TXT" && !value.startsWith('"')) value = quoteTxt(value);
    if (r.type === "CNAME" && !value.endsWith(".")) value = `${value}.`;
    lines.push(`${name} ${r.ttl ?? 300} IN ${r.type} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

function quoteTxt(text: string): string {
  const chunks: string[] = [];
  const bytes = Buffer.from(text, "utf8");
  for (let at = 0; at < bytes.length || chunks.length === 0; at += 255) {
    let chunk = "";
    for (const byte of bytes.subarray(at, at + 255)) {
      const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
      chunk += printable ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, "0")}`;
    }
    chunks.push(`"${chunk}"`);
  }
  return chunks.join(" ");
}

/** A loopback port free for both UDP and TCP right now. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket("udp4");
    const port = await new Promise<number>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(0, "127.0.0.1", () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once("error", () => resolve(false));
      tcp.listen(port, "127.0.0.1", () => tcp.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error("no loopback port was free for both UDP and TCP");
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
