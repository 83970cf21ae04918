// `mtasts resolver` beside postfix-mta-sts-resolver (PMSR 1.5.0, Python), the
// anchor, in one run against the same loopback lab world (world.ts: DNS on
// 127.0.0.153:53, policy host on 127.0.0.2:443). Both daemons run as separate
// processes; one load client process (load.ts) drives them in turn over the
// socketmap protocol. Prints a markdown table of req/s, p50/p99 and ratios.
//
//   node bench/resolver/bench.ts
//
// Environment:
//   BENCH_QUICK=1                a short run (2 s cases, 10,000 policies for memory)
//   BENCH_ROUNDS=3               alternating rounds per timed case (medians are reported)
//   BENCH_SECONDS=4              measured seconds per round and daemon
//   BENCH_WARMUP=1               warm-up seconds before each round
//   BENCH_POLICIES=100000        policies cached for the memory case
//   BENCH_COLD=2000              never-seen policy domains in the cold case
//   BENCH_PMSR_PRIME_SECONDS=360 cap on filling PMSR's cache (it is slow); the count reached is printed
//   BENCH_NAMES_PER_CERT=10      policy hosts per lab certificate (see world.ts)
//   PMSR_SRC=DIR                 PMSR checkout or git dir (see anchor.ts); absent: ours only
//   BENCH_OURS_NODE_ARGS="..."   node flags for our daemon (default --max-semi-space-size=2, as the systemd unit)
//   BENCH_OURS_ARENAS=2          MALLOC_ARENA_MAX for our daemon (default 2, as the systemd unit; empty: glibc's default)
//   BENCH_CASES=1,4              run only these cases (numbers as in the table; default all)
//
// Needs root (ports 53 and 443 on 127.0.0.x, `unshare --mount` for PMSR).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { type AnchorSource, prepareAnchor, startAnchor } from "./anchor.ts";
import { type DaemonProcess, query, startDaemonProcess } from "./daemon-process.ts";
import { type LoadOptions, type LoadResult, runLoad } from "./load.ts";
import { OURS_ARENAS, OURS_NODE_ARGS, startOurs } from "./ours.ts";
import { DNS_ADDRESS, HTTPS_ADDRESS, names, type WorldReady, type WorldSpec } from "./world.ts";

const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 2 : 4));
const WARMUP = Number(env.BENCH_WARMUP ?? 1);
const POLICIES = Number(env.BENCH_POLICIES ?? (QUICK ? 10_000 : 100_000));
const COLD = Number(env.BENCH_COLD ?? (QUICK ? 500 : 2000));
const PMSR_PRIME_SECONDS = Number(env.BENCH_PMSR_PRIME_SECONDS ?? (QUICK ? 60 : 360));
const NAMES_PER_CERT = Number(env.BENCH_NAMES_PER_CERT ?? 10);
const HIT = 1000;
/** RSS is also read after this long without requests, when the fill's garbage is gone. */
const IDLE_MS = 20_000;
const NONE = 10_000;
const COLD_WARM = 200;
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CASES = env.BENCH_CASES?.split(",").map((c) => Number(c.trim()));
const wanted = (n: number) => CASES === undefined || CASES.includes(n);
const CONNECTIONS = 50;
const DEPTH = 8;
const PRIME_DEPTH = 4;
const CACHE_SIZE = 200_000;
/** Both daemons: cached policies stay "fresh" for the whole run, so a hit never waits on DNS. */
const CACHE_GRACE = 86_400;
const OUR_PORT = 18461;
const PMSR_PORT = 18462;
const FLOOR_HIT_PORT = 18463;
const FLOOR_NONE_PORT = 18464;
const ZONE = "postfix";

const tmp = mkdtempSync("/tmp/mtasts-bench-resolver-");
const keys = (n: number, name: (i: number) => string, from = 0) =>
  Array.from({ length: n }, (_, i) => `${ZONE} ${name(from + i)}`);
const probe = {
  payload: `${ZONE} ${names.hit(0)}`,
  ok: (r: string) => r.startsWith("OK secure match="),
};
const mb = (bytes: number) => bytes / 1e6; // MB = 10^6 bytes, as in the target
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "—";
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const cpuUs = (n: number) => (n < 100 ? n.toFixed(1) : fmt(n));
const log = (s: string) => process.stderr.write(`${s}\n`);

let world: ChildProcess | null = null;
const running = new Set<DaemonProcess>();

async function cleanup(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop().catch(() => {})));
  running.clear();
  if (world && world.exitCode === null) {
    const w = world;
    const gone = new Promise((r) => w.once("exit", r));
    w.stdin?.end();
    const t = setTimeout(() => w.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }
  rmSync(tmp, { recursive: true, force: true });
}
// Last resort when the bench dies some other way (an exception, a closed pipe):
// nothing it started may outlive it.
process.on("exit", () => {
  for (const d of running) {
    try {
      process.kill(d.pid, "SIGKILL");
    } catch {}
  }
  if (world?.exitCode === null) world.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`\n${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });

async function startWorld(spec: WorldSpec): Promise<WorldReady> {
  const path = new URL("./world.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, [path, JSON.stringify(spec)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  world = child;
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /^ready (.*)$/m.exec(buf);
      if (m) resolve(JSON.parse(m[1] as string) as WorldReady);
    });
    child.once("exit", (code) => reject(new Error(`lab world exited (${code})`)));
  });
}

interface Measured extends LoadResult {
  /** Daemon CPU seconds per wall second inside the window. */
  daemonCpu: number;
  /** Daemon CPU microseconds per reply inside the window. */
  cpuPerReq: number;
  /** CPU used by everything else (lab world, other processes), cores. */
  otherCpu: number;
}

/** CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq, steal). */
function machineBusy(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.split(/\s+/).slice(1).map(Number);
  if (!f) return 0;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

async function measure(
  d: DaemonProcess,
  o: Omit<LoadOptions, "host" | "port" | "onWindow">,
): Promise<Measured> {
  let cpu0 = 0;
  let cpu = 0;
  let busy0 = 0;
  let busy = 0;
  const r = await runLoad({
    ...o,
    host: d.host,
    port: d.port,
    onWindow: (edge) => {
      if (edge === "start") {
        cpu0 = d.cpuSeconds();
        busy0 = machineBusy();
      } else {
        cpu = d.cpuSeconds() - cpu0;
        busy = machineBusy() - busy0;
      }
    },
  });
  return {
    ...r,
    daemonCpu: cpu / r.seconds,
    cpuPerReq: (cpu * 1e6) / r.replies,
    otherCpu: Math.max(0, busy - cpu - r.clientCpu) / r.seconds,
  };
}

/** The median of each figure over rounds (each figure on its own). */
function median(rounds: Measured[]): Measured {
  const mid = <T>(xs: T[], by: (x: T) => number): number => {
    const v = xs.map(by).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)] as number;
  };
  const first = rounds[0] as Measured;
  return {
    ...first,
    rps: mid(rounds, (r) => r.rps),
    p50: mid(rounds, (r) => r.p50),
    p99: mid(rounds, (r) => r.p99),
    max: Math.max(...rounds.map((r) => r.max)),
    daemonCpu: mid(rounds, (r) => r.daemonCpu),
    cpuPerReq: mid(rounds, (r) => r.cpuPerReq),
    otherCpu: mid(rounds, (r) => r.otherCpu),
  };
}

/** Restricts every thread of `pid` to `cpus` ("1" or "0-1"); false when taskset is missing. */
function pin(pid: number, cpus: string): boolean {
  try {
    execFileSync("taskset", ["-a", "-pc", cpus, String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function describe(name: string, r: Measured, expect: keyof LoadResult["kinds"]): string {
  const total = r.kinds.ok + r.kinds.notfound + r.kinds.temp + r.kinds.other;
  const bad = total - r.kinds[expect];
  return (
    `  ${name.padEnd(7)} ${fmt(r.rps).padStart(9)} req/s  p50 ${ms(r.p50)} ms  p99 ${ms(r.p99)} ms` +
    `  max ${ms(r.max)} ms  (${fmt(r.replies)} replies in ${r.seconds.toFixed(1)} s;` +
    ` daemon CPU ${(r.daemonCpu * 100).toFixed(0)}% = ${cpuUs(r.cpuPerReq)} µs/reply, client CPU ${((r.clientCpu / r.seconds) * 100).toFixed(0)}%, other ${(r.otherCpu * 100).toFixed(0)}%` +
    `${bad ? `; ${fmt(bad)} not ${expect.toUpperCase()}: ${JSON.stringify(r.kinds)}` : ""})`
  );
}

interface Row {
  label: string;
  ours: Measured;
  anchor: Measured | null;
  /** The Node floor (floor.ts): the same load against a server that does no work. */
  floor: Measured | null;
}

async function main(): Promise<void> {
  const busy0 = machineBusy();
  await new Promise((r) => setTimeout(r, 2000));
  const idleCheck = (machineBusy() - busy0) / 2;
  const anchorSource: AnchorSource | { missing: string } = prepareAnchor(tmp);
  const anchor = "missing" in anchorSource ? null : anchorSource;
  if (!anchor) log(`anchor: ${(anchorSource as { missing: string }).missing}; running ours only`);

  const spec: WorldSpec = {
    hit: HIT,
    none: NONE,
    cold: COLD + COLD_WARM,
    rss: POLICIES,
    dir: tmp,
    dnsAddress: DNS_ADDRESS,
    dnsPort: 53,
    httpsAddress: HTTPS_ADDRESS,
    httpsPort: 443,
    namesPerCert: NAMES_PER_CERT,
  };
  log(`building the lab world (${fmt(HIT + COLD + COLD_WARM + POLICIES)} policy domains)…`);
  const ready = await startWorld(spec);
  log(
    `lab world: ${fmt(ready.records)} DNS records, ${fmt(ready.sites)} policy sites, ` +
      `${ready.certificates} certificates, built in ${fmt(ready.buildMs / 1000, 1)} s`,
  );

  const start = {
    ours: () =>
      startOurs({
        dir: tmp,
        port: OUR_PORT,
        caFile: ready.caFile,
        dns: `${DNS_ADDRESS}:53`,
        httpsPort: 443,
        cacheSize: CACHE_SIZE,
        cacheGrace: CACHE_GRACE,
        probe,
      }),
    anchor: (src: AnchorSource) =>
      startAnchor({
        source: src,
        dir: tmp,
        port: PMSR_PORT,
        caFile: ready.caFile,
        dnsAddress: DNS_ADDRESS,
        cacheSize: CACHE_SIZE,
        cacheGrace: CACHE_GRACE,
        probe,
      }),
  };
  // The floor answers with the reply ours gives, so both write the same bytes.
  const floor = async (name: string, port: number, payload: string) => {
    const reply = await query(ours.host, ours.port, payload);
    return startDaemonProcess({
      name,
      command: process.execPath,
      args: [new URL("./floor.ts", import.meta.url).pathname, String(port), reply],
      dir: tmp,
      host: "127.0.0.1",
      port,
      probe: { payload, ok: (r) => r === reply },
    });
  };
  const track = async (p: Promise<DaemonProcess>) => {
    const d = await p;
    running.add(d);
    const comm = readFileSync(`/proc/${d.pid}/comm`, "utf8").trim();
    log(`${d.name}: pid ${d.pid} (${comm}) answers on ${d.host}:${d.port}`);
    return d;
  };
  const stop = async (d: DaemonProcess) => {
    await d.stop();
    running.delete(d);
  };

  let ours = await track(start.ours());
  let pmsr = anchor ? await track(start.anchor(anchor)) : null;
  const cpu = cpus();
  const header = [
    `machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${fmt(totalmem() / 2 ** 30)} GiB; ` +
      `Node ${process.version}; ${anchor ? `PMSR ${anchor.version} on Python ${anchor.python}` : "no PMSR"}`,
    `client: one Node process (bench/resolver/load.ts), closed loop, netstrings pre-encoded, ` +
      `one write per read; latency = write of a request → read of its reply`,
    `daemons: separate processes; cache internal, cache_size ${fmt(CACHE_SIZE)}, cache_grace ${fmt(CACHE_GRACE)} s; ` +
      `ours with its defaults otherwise (negative cache 300 s, DANE check on), run as the systemd unit runs it ` +
      `(node ${OURS_NODE_ARGS}, MALLOC_ARENA_MAX=${OURS_ARENAS || "glibc's default"})`,
    `timed cases: ${ROUNDS} alternating round(s) per daemon of ${WARMUP} s warm-up + ${SECONDS} s measured; ` +
      `medians of rounds. Case 1 pins client and daemon to one core (taskset): on this VM a wake-up ` +
      `across cores costs more than the request itself`,
    `other load on the machine before the run: ${idleCheck.toFixed(2)} cores busy ` +
      `("other load" below: CPU used by neither the daemon nor the client, lab world included)`,
  ];
  for (const h of header) log(h);

  const daemons = pmsr ? [ours, pmsr] : [ours];
  const floorHit = await track(floor("floor", FLOOR_HIT_PORT, probe.payload));
  const floorNone = await track(floor("floor", FLOOR_NONE_PORT, `${ZONE} ${names.none(0)}`));
  const rows: Row[] = [];
  const allCpus = `0-${cpu.length - 1}`;
  const pinCpu = String(cpu.length - 1);
  const both = async (
    label: string,
    expect: keyof LoadResult["kinds"],
    o: Omit<LoadOptions, "host" | "port" | "onWindow">,
    options: {
      prime?: (d: DaemonProcess) => Promise<unknown>;
      rounds?: number;
      pinned?: boolean;
      floor?: DaemonProcess;
    } = {},
  ) => {
    if (!wanted(Number.parseInt(label, 10))) return;
    log(`\n${label}`);
    const rounds = options.rounds ?? ROUNDS;
    const measured = options.floor ? [...daemons, options.floor] : daemons;
    const out: Measured[][] = measured.map(() => []);
    for (const d of daemons) await options.prime?.(d);
    for (let round = 0; round < rounds; round++) {
      for (const [i, d] of measured.entries()) {
        const pinned = options.pinned && pin(process.pid, pinCpu) && pin(d.pid, pinCpu);
        try {
          const r = await measure(d, o);
          log(describe(`${d.name}${rounds > 1 ? ` #${round + 1}` : ""}`, r, expect));
          out[i]?.push(r);
        } finally {
          if (pinned) {
            pin(process.pid, allCpus);
            pin(d.pid, allCpus);
          }
        }
      }
    }
    const medians = out.map(median);
    rows.push({
      label,
      ours: medians[0] as Measured,
      anchor: daemons.length > 1 ? (medians[1] as Measured) : null,
      floor: options.floor ? (medians[measured.length - 1] as Measured) : null,
    });
  };
  const timed = { warmupMs: WARMUP * 1000, durationMs: SECONDS * 1000 };
  const once = (d: DaemonProcess, requests: string[], extra: Partial<LoadOptions> = {}) =>
    measure(d, { connections: CONNECTIONS, depth: PRIME_DEPTH, requests, once: true, ...extra });

  // Cached hits: 1,000 policy domains, looked up once first.
  const hitKeys = keys(HIT, names.hit);
  for (const d of daemons) {
    const r = await once(d, hitKeys);
    if (r.kinds.ok !== HIT) throw new Error(`${d.name}: priming hits: ${JSON.stringify(r.kinds)}`);
  }
  const hits = `cached hits (${fmt(HIT)} domains cycled)`;
  await both(
    `1. ${hits}, 1 connection × 1 in flight, client and daemon on one core`,
    "ok",
    { connections: 1, depth: 1, requests: hitKeys, ...timed },
    { pinned: true, floor: floorHit },
  );
  await both(
    `2. ${hits}, ${CONNECTIONS} connections × 1 in flight`,
    "ok",
    { connections: CONNECTIONS, depth: 1, requests: hitKeys, ...timed },
    { floor: floorHit },
  );
  await both(
    `3. ${hits}, ${CONNECTIONS} connections × ${DEPTH} in flight`,
    "ok",
    { connections: CONNECTIONS, depth: DEPTH, requests: hitKeys, ...timed },
    { floor: floorHit },
  );

  // Domains without a policy: 10,000 names cycled, after one full pass.
  const noneKeys = keys(NONE, names.none);
  await both(
    `4. no policy (${fmt(NONE)} domains cycled), ${CONNECTIONS} connections × ${DEPTH} in flight`,
    "notfound",
    { connections: CONNECTIONS, depth: DEPTH, requests: noneKeys, ...timed },
    { prime: (d) => once(d, noneKeys), floor: floorNone },
  );

  // Cold: every request a never-seen policy domain (DNS + HTTPS), after 200 others.
  await both(
    `5. cold lookups (${fmt(COLD)} new policy domains), ${CONNECTIONS} connections × 1 in flight`,
    "ok",
    { connections: CONNECTIONS, depth: 1, requests: keys(COLD, names.cold, COLD_WARM), once: true },
    { prime: (d) => once(d, keys(COLD_WARM, names.cold), { depth: 1 }), rounds: 1 },
  );

  // Memory: fresh daemons, then POLICIES distinct policies cached.
  const measureRss = async () => {
    log(`\n6. RSS with cached policies (fresh daemons, filled by ${CONNECTIONS} × ${PRIME_DEPTH})`);
    const rssKeys = keys(POLICIES, names.rss);
    const settle = () => new Promise((r) => setTimeout(r, 2000));
    // RSS is read twice: 2 s after the fill (the figure judged against the
    // target), and after IDLE_MS more without requests, when the garbage of the
    // fill's TLS fetches is gone: what a daemon holding the cache settles at.
    const idle = () => new Promise((r) => setTimeout(r, IDLE_MS));
    let pmsrRss: {
      baseline: number;
      rss: number;
      idle: number;
      count: number;
      seconds: number;
    } | null = null;
    if (anchor) {
      pmsr = await track(start.anchor(anchor));
      await settle();
      const baseline = pmsr.rss();
      const r = await once(pmsr, rssKeys, { maxMs: PMSR_PRIME_SECONDS * 1000, stallMs: 60_000 });
      await settle();
      const filled = pmsr.rss();
      await idle();
      pmsrRss = { baseline, rss: filled, idle: pmsr.rss(), count: r.kinds.ok, seconds: r.seconds };
      log(
        `  pmsr    ${fmt(r.kinds.ok)} policies in ${fmt(r.seconds, 1)} s (${fmt(r.rps)}/s): ` +
          `RSS ${fmt(mb(baseline), 1)} MB → ${fmt(mb(pmsrRss.rss), 1)} MB` +
          `${r.kinds.ok < POLICIES ? ` (stopped at the ${PMSR_PRIME_SECONDS} s cap)` : ""}` +
          `${r.replies !== r.kinds.ok ? `; replies ${JSON.stringify(r.kinds)}` : ""}`,
      );
      await stop(pmsr);
    }
    ours = await track(start.ours());
    await settle();
    const ourBaseline = ours.rss();
    const split = pmsrRss && pmsrRss.count < POLICIES ? pmsrRss.count : POLICIES;
    const first = await once(ours, rssKeys.slice(0, split));
    await settle();
    const ourAtSplit = ours.rss();
    let ourSeconds = first.seconds;
    let ourOk = first.kinds.ok;
    if (split < POLICIES) {
      const rest = await once(ours, rssKeys.slice(split));
      await settle();
      ourSeconds += rest.seconds;
      ourOk += rest.kinds.ok;
    }
    const ourRss = ours.rss();
    await idle();
    const ourIdle = ours.rss();
    log(
      `  mtasts  ${fmt(ourOk)} policies in ${fmt(ourSeconds, 1)} s (${fmt(ourOk / ourSeconds)}/s): ` +
        `RSS ${fmt(mb(ourBaseline), 1)} MB → ${fmt(mb(ourRss), 1)} MB` +
        `${split < POLICIES ? ` (${fmt(mb(ourAtSplit), 1)} MB at ${fmt(split)})` : ""}`,
    );
    await stop(ours);
    return { pmsrRss, ourBaseline, ourAtSplit, ourRss, ourIdle, ourOk, ourSeconds };
  };
  for (const d of [...daemons, floorHit, floorNone]) await stop(d);
  const memory = wanted(6) ? await measureRss() : null;

  // The table.
  const lines: string[] = [];
  const out = (s = "") => lines.push(s);
  out();
  for (const h of header) out(`${h}  `);
  out();
  out(
    "| case | mtasts req/s | PMSR req/s | ratio | mtasts p50 / p99 ms | PMSR p50 / p99 ms | daemon CPU µs/reply, mtasts / PMSR | other load, cores | Node floor req/s (÷ PMSR) |",
  );
  out("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const a = r.anchor;
    out(
      `| ${r.label} | ${fmt(r.ours.rps)} | ${a ? fmt(a.rps) : "—"} | ${a ? `**${(r.ours.rps / a.rps).toFixed(1)}x**` : "—"} ` +
        `| ${ms(r.ours.p50)} / ${ms(r.ours.p99)} | ${a ? `${ms(a.p50)} / ${ms(a.p99)}` : "—"} ` +
        `| ${cpuUs(r.ours.cpuPerReq)} / ${a ? cpuUs(a.cpuPerReq) : "—"} ` +
        `| ${r.ours.otherCpu.toFixed(1)} / ${a ? a.otherCpu.toFixed(1) : "—"} ` +
        `| ${r.floor ? `${fmt(r.floor.rps)}${a ? ` (${(r.floor.rps / a.rps).toFixed(1)}x)` : ""}` : "—"} |`,
    );
  }
  if (memory) {
    const { pmsrRss, ourBaseline, ourAtSplit, ourRss, ourIdle, ourOk, ourSeconds } = memory;
    const partial = pmsrRss !== null && pmsrRss.count < POLICIES;
    const pmsrCell = pmsrRss
      ? `${fmt(mb(pmsrRss.rss), 1)} MB${partial ? ` (at ${fmt(pmsrRss.count)})` : ""}`
      : "—";
    const ourAtPmsr = partial ? ourAtSplit : ourRss;
    out(
      `| 6. RSS with ${fmt(POLICIES)} cached policies | ${fmt(mb(ourRss), 1)} MB | ${pmsrCell} ` +
        `| ${pmsrRss ? `${(ourAtPmsr / pmsrRss.rss).toFixed(2)}x${partial ? ` (both at ${fmt(pmsrRss.count)})` : ""}` : "—"} | | | | | |`,
    );
    out();
    out(
      `RSS: VmRSS 2 s after filling; at start (1 policy) mtasts ${fmt(mb(ourBaseline), 1)} MB` +
        `${pmsrRss ? `, PMSR ${fmt(mb(pmsrRss.baseline), 1)} MB` : ""}. Filling rate (cold lookups, ` +
        `${CONNECTIONS} × ${PRIME_DEPTH} in flight): mtasts ${fmt(ourOk / ourSeconds)}/s` +
        `${pmsrRss ? `, PMSR ${fmt(pmsrRss.count / pmsrRss.seconds)}/s` : ""}. ` +
        `After ${IDLE_MS / 1000} s more without requests: mtasts ${fmt(mb(ourIdle), 1)} MB` +
        `${pmsrRss ? `, PMSR ${fmt(mb(pmsrRss.idle), 1)} MB` : ""}.`,
    );
    if (pmsrRss && partial) {
      const slope = (pmsrRss.rss - pmsrRss.baseline) / pmsrRss.count;
      out(
        `PMSR filled ${fmt(pmsrRss.count)} of ${fmt(POLICIES)} policies within the ${PMSR_PRIME_SECONDS} s cap; ` +
          `mtasts was ${fmt(mb(ourAtSplit), 1)} MB at that count. A linear estimate for PMSR at ` +
          `${fmt(POLICIES)} is ${fmt(mb(pmsrRss.baseline + slope * POLICIES), 0)} MB (not measured).`,
      );
    }
  }
  out();
  out("Targets (ours):");
  const row = (n: number) => rows.find((r) => Number.parseInt(r.label, 10) === n);
  const ratio = (n: number) => {
    const r = row(n);
    return r?.anchor ? r.ours.rps / r.anchor.rps : Number.NaN;
  };
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  const target = (what: string, value: number, goal: number, unit: string, higher = true) =>
    out(
      `- ${what}: ${Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)}${unit}` : "n/a"} ` +
        `(target ${higher ? "≥" : "<"} ${goal}${unit}) — ` +
        `${Number.isFinite(value) ? verdict(higher ? value >= goal : value < goal) : "not measured"}`,
    );
  target(`req/s vs PMSR, case 3 (cached hits, ${CONNECTIONS} × ${DEPTH})`, ratio(3), 5, "x");
  target("req/s vs PMSR, case 1 (cached hits, 1 connection)", ratio(1), 3, "x");
  target("req/s vs PMSR, case 4 (no policy)", ratio(4), 20, "x");
  for (const n of [1, 2, 3, 4]) {
    const r = row(n);
    if (r) target(`p99, case ${n}`, r.ours.p99, 2, " ms", false);
  }
  if (memory) {
    const rss = mb(memory.ourRss);
    out(
      `- RSS with ${fmt(POLICIES)} policies: ${fmt(rss, 1)} MB (target ≤ 150 MB) — ${verdict(rss <= 150)}`,
    );
  }
  out();
  out("Node floor (floor.ts: a Node server answering every request with a fixed reply, no work):");
  for (const r of rows) {
    if (!r.floor) continue;
    out(
      `- case ${r.label.slice(0, 1)}: mtasts at ${((r.ours.rps / r.floor.rps) * 100).toFixed(0)}% of the floor ` +
        `(${fmt(r.floor.rps)} req/s, p99 ${ms(r.floor.p99)} ms, ${cpuUs(r.floor.cpuPerReq)} µs/reply)` +
        `${r.anchor ? `; the floor is ${(r.floor.rps / r.anchor.rps).toFixed(1)}x PMSR` : ""}`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

try {
  await main();
} catch (err) {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
