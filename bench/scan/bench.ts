// `mtasts scan` beside the seed's dig+curl loop (bench/scan/loop.sh) on the
// same 1,000-domain lab world, then alone on 100,000 domains (mostly without
// MTA-STS) for throughput and peak RSS. Whole processes, wall time by
// perf_hooks, peak RSS by /usr/bin/time. Each run's output is checked against
// the world's expected verdicts, so a fast wrong answer cannot pass.
//   node bench/scan/bench.ts     (BENCH_SCAN_SMALL=1000 BENCH_SCAN_LARGE=100000 to resize)

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { WorldReady, WorldSpec } from "./world.ts";

const SMALL = Number(process.env.BENCH_SCAN_SMALL ?? 1000);
const LARGE = Number(process.env.BENCH_SCAN_LARGE ?? 100_000);
const TIMEOUT_S = 5;
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const worldScript = new URL("./world.ts", import.meta.url).pathname;
const loop = new URL("./loop.sh", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "mtasts-bench-scan-"));

interface World {
  ready: WorldReady;
  /** CPU seconds the world's servers have used so far (from /proc). */
  cpu(): number;
  close(): Promise<void>;
}

async function startWorld(spec: Omit<WorldSpec, "dir">, name: string): Promise<World> {
  const worldDir = join(dir, name);
  await run("mkdir", ["-p", worldDir]);
  const child = spawn(process.execPath, [worldScript, JSON.stringify({ ...spec, dir: worldDir })], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (line.startsWith("ready ")) {
      const ready = JSON.parse(line.slice(6)) as WorldReady;
      return {
        ready,
        cpu: () => {
          const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ");
          return (Number(fields?.[11]) + Number(fields?.[12])) / 100;
        },
        close: () =>
          new Promise((resolve) => {
            child.once("exit", () => resolve());
            child.stdin.end();
          }),
      };
    }
  }
  throw new Error("the world process ended before it was ready");
}

interface Timed {
  ms: number;
  stdout: string;
  stderr: string;
  /** From /usr/bin/time: user + system CPU seconds (children included), peak RSS in KiB. */
  cpu: number;
  rssKb: number;
  /** CPU seconds the lab's servers spent meanwhile. */
  labCpu: number;
}

/** Runs a command under /usr/bin/time, wall time by perf_hooks. */
async function timed(world: World, cmd: string, args: string[]): Promise<Timed> {
  const lab0 = world.cpu();
  const r = await run("/usr/bin/time", ["-f", "TIME %U %S %M", cmd, ...args]);
  const labCpu = world.cpu() - lab0;
  const line = r.stderr.split("\n").findLast((l) => l.startsWith("TIME ")) ?? "TIME 0 0 0";
  const [user, sys, rss] = line.slice(5).split(" ").map(Number);
  return { ...r, cpu: (user ?? 0) + (sys ?? 0), rssKb: rss ?? 0, labCpu };
}

function run(cmd: string, args: string[]): Promise<{ ms: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.once("error", reject);
    child.once("exit", () =>
      resolve({
        ms: performance.now() - started,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

interface Verdict {
  domain: string;
  status: string;
  mode: string | null;
  code?: string;
}

/** Every domain once, each with its expected status, mode and key finding. */
function checkOutput(ndjson: string, expectedFile: string): { lines: number; wrong: string[] } {
  const expected = new Map<string, Verdict>();
  for (const line of readFileSync(expectedFile, "utf8").split("\n")) {
    if (!line) continue;
    const v = JSON.parse(line) as Verdict;
    expected.set(v.domain, v);
  }
  const wrong: string[] = [];
  let lines = 0;
  for (const line of ndjson.split("\n")) {
    if (!line) continue;
    lines++;
    const r = JSON.parse(line) as Verdict & { findings: { code: string }[] };
    const want = expected.get(r.domain);
    expected.delete(r.domain);
    const codes = r.findings.map((f) => f.code);
    if (!want) wrong.push(`${r.domain}: unexpected or twice`);
    else if (
      want.status !== r.status ||
      want.mode !== r.mode ||
      (want.code && !codes.includes(want.code))
    )
      wrong.push(
        `${r.domain}: ${r.status} ${r.mode} ${codes.join(" ")}; expected ${JSON.stringify(want)}`,
      );
  }
  for (const d of expected.keys()) wrong.push(`${d}: missing`);
  return { lines, wrong };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

try {
  // 1. The mixed world, both ways, one run each.
  const small = await startWorld({ size: SMALL, faultRounds: 2 }, "small");
  const w = small.ready;
  const hanging = 3 * 2;
  console.log(
    `world: ${w.domains} domains (two rounds of every policy-level fault, ${hanging} of them hanging; ~55% of the rest publish MTA-STS), built in ${w.buildMs} ms`,
  );
  const scanArgs = [bin, "scan", "--from", w.list, "--ndjson", "--timeout", String(TIMEOUT_S)];
  const ours = await timed(small, process.execPath, [...scanArgs, "--rate", "5000", ...w.args]);
  const oursCheck = checkOutput(ours.stdout, w.expected);
  const polite = await timed(small, process.execPath, [...scanArgs, ...w.args]);
  const politeCheck = checkOutput(polite.stdout, w.expected);
  const theirs = await timed(small, "sh", [
    loop,
    w.list,
    String(w.dnsPort),
    String(w.httpsPort),
    w.caFile,
    String(TIMEOUT_S),
  ]);
  await small.close();
  for (const [name, c] of [
    ["mtasts scan", oursCheck],
    ["mtasts scan (default rate)", politeCheck],
  ] as const) {
    if (c.wrong.length > 0)
      throw new Error(`${name} answered wrongly:\n${c.wrong.slice(0, 20).join("\n")}`);
  }
  const loopLines = theirs.stdout.split("\n").filter(Boolean).length;
  if (loopLines !== w.domains) throw new Error(`the loop answered ${loopLines} of ${w.domains}`);
  const row = (name: string, t: Timed, extra = "") =>
    console.log(
      `${name.padEnd(44)} ${seconds(t.ms).padStart(8)}   CPU ${t.cpu.toFixed(1)} s + lab ${t.labCpu.toFixed(1)} s${extra}`,
    );
  console.log(`node ${process.version}; per-domain time bound ${TIMEOUT_S} s on both sides`);
  row(
    "mtasts scan --rate 5000 (50 at a time)",
    ours,
    `   ${Math.round((w.domains * 1000) / ours.ms)} domains/s`,
  );
  row("mtasts scan, default --rate 500", polite);
  row(
    "dig + curl loop (one domain at a time)",
    theirs,
    `   ${Math.round(theirs.ms / w.domains)} ms a domain`,
  );
  console.log(`ratio loop/mtasts                            ${(theirs.ms / ours.ms).toFixed(1)}x`);
  console.log(
    `ratio loop/mtasts at the default rate        ${(theirs.ms / polite.ms).toFixed(1)}x`,
  );

  // 1b. The same mix without the faults that wait for a timeout: what is left
  // when no domain holds the scan to a time bound.
  const calm = await startWorld({ size: SMALL, faultRounds: 2, hanging: false }, "calm");
  const c = calm.ready;
  const calmArgs = [bin, "scan", "--from", c.list, "--ndjson", "--timeout", String(TIMEOUT_S)];
  const oursCalm = await timed(calm, process.execPath, [...calmArgs, "--rate", "5000", ...c.args]);
  const theirsCalm = await timed(calm, "sh", [
    loop,
    c.list,
    String(c.dnsPort),
    String(c.httpsPort),
    c.caFile,
    String(TIMEOUT_S),
  ]);
  await calm.close();
  const calmCheck = checkOutput(oursCalm.stdout, c.expected);
  if (calmCheck.wrong.length > 0)
    throw new Error(
      `mtasts scan (calm) answered wrongly:\n${calmCheck.wrong.slice(0, 20).join("\n")}`,
    );
  console.log(
    `\nthe same mix without the faults that wait for a timeout (hanging servers, garbage DNS): ${c.domains} domains`,
  );
  row(
    "mtasts scan --rate 5000 (50 at a time)",
    oursCalm,
    `   ${Math.round((c.domains * 1000) / oursCalm.ms)} domains/s`,
  );
  row(
    "dig + curl loop (one domain at a time)",
    theirsCalm,
    `   ${Math.round(theirsCalm.ms / c.domains)} ms a domain`,
  );
  console.log(
    `ratio loop/mtasts                            ${(theirsCalm.ms / oursCalm.ms).toFixed(1)}x`,
  );

  // 2. Many domains, mostly publishing nothing: throughput and peak RSS.
  const large = await startWorld({ size: LARGE, publishing: 0.01 }, "large");
  const l = large.ready;
  const big = await timed(large, process.execPath, [
    bin,
    "scan",
    "--from",
    l.list,
    "--ndjson",
    "--timeout",
    String(TIMEOUT_S),
    "--rate",
    "4000",
    "--concurrency",
    "100",
    ...l.args,
  ]);
  await large.close();
  const largeCheck = checkOutput(big.stdout, l.expected);
  if (largeCheck.wrong.length > 0)
    throw new Error(`100k scan answered wrongly:\n${largeCheck.wrong.slice(0, 20).join("\n")}`);
  console.log(
    `\nworld: ${l.domains} domains, about ${Math.round(l.domains * 0.01)} publishing MTA-STS, built in ${l.buildMs} ms`,
  );
  console.log(
    `mtasts scan --rate 4000 --concurrency 100    ${seconds(big.ms).padStart(8)}   ${Math.round((l.domains * 1000) / big.ms)} domains/s, peak RSS ${Math.round(big.rssKb / 1024)} MB, CPU ${big.cpu.toFixed(1)} s + lab ${big.labCpu.toFixed(1)} s`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
