// A socketmap daemon running as its own process: wait until it answers,
// ask it one thing, read its memory and CPU time from /proc, stop it.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { encodeNetstring, NetstringDecoder } from "../../src/resolver/netstring.ts";

export interface DaemonProcess {
  name: string;
  host: string;
  port: number;
  pid: number;
  log: string;
  /** VmRSS in bytes. */
  rss(): number;
  /** User + system CPU seconds used so far. */
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL after a few seconds. */
  stop(): Promise<void>;
}

const TICKS = 100; // USER_HZ on Linux

/**
 * The mta-sts-daemon.yml keys both daemons read the same way, so the two are
 * configured alike by construction; `extra` lines are appended.
 */
export function sharedConfig(
  o: { port: number; cacheGrace: number; cacheSize: number },
  extra: string[] = [],
): string {
  return [
    "host: 127.0.0.1",
    `port: ${o.port}`,
    `cache_grace: ${o.cacheGrace}`,
    "cache:",
    "  type: internal",
    "  options:",
    `    cache_size: ${o.cacheSize}`,
    ...extra,
    "",
  ].join("\n");
}

export function readRss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / TICKS;
}

/** One socketmap request on a fresh connection; resolves with the reply payload. */
export function query(host: string, port: number, payload: string, timeoutMs = 10_000) {
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host, port });
    const decoder = new NetstringDecoder();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(encodeNetstring(payload)));
    socket.on("data", (chunk) => {
      decoder.push(chunk);
      const reply = decoder.next();
      if (reply === null) return;
      clearTimeout(timer);
      socket.destroy();
      if (reply instanceof Uint8Array) resolve(Buffer.from(reply).toString("utf8"));
      else reject(new Error(`bad reply netstring: ${reply.error}`));
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Spawns `command`, logs to `<dir>/<name>.log`, resolves once `check` succeeds against the port. */
export async function startDaemonProcess(o: {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  dir: string;
  host: string;
  port: number;
  /** The request a ready daemon must answer, and a test of its reply. */
  probe: { payload: string; ok: (reply: string) => boolean };
  startMs?: number;
}): Promise<DaemonProcess> {
  const log = join(o.dir, `${o.name}.log`);
  writeFileSync(log, "");
  const out = createWriteStream(log, { flags: "a" });
  const child: ChildProcess = spawn(o.command, o.args, {
    env: o.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  let exited: number | string | null = null;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = code ?? signal ?? "?";
      resolve();
    }),
  );
  const tail = () => readFileSync(log, "utf8").split("\n").slice(-15).join("\n");

  const deadline = performance.now() + (o.startMs ?? 30_000);
  let last = "";
  for (;;) {
    if (exited !== null)
      throw new Error(`${o.name} exited (${exited}) before answering:\n${tail()}`);
    try {
      const reply = await query(o.host, o.port, o.probe.payload, 10_000);
      if (o.probe.ok(reply)) break;
      last = `unexpected reply ${JSON.stringify(reply)}`;
    } catch (err) {
      last = String(err);
    }
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${o.name} not ready: ${last}\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    name: o.name,
    host: o.host,
    port: o.port,
    pid,
    log,
    rss: () => readRss(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    async stop() {
      if (exited !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (exited === null) child.kill("SIGKILL");
      }, 5000);
      await gone;
      clearTimeout(timer);
      out.end();
    },
  };
}
