// `mtasts check` beside the seeds' manual steps (bench/check-manual.sh: dig,
// curl, openssl s_client per MX) on the same healthy lab domain with three
// MX hosts, alternating, whole processes timed. Prints medians and the ratio.
//   node bench/check.ts            (BENCH_ROUNDS=… to change the rounds)

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { scenario, startLab } from "../lab/index.ts";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const bin = new URL("../bin/mtasts.js", import.meta.url).pathname;
const manual = new URL("./check-manual.sh", import.meta.url).pathname;

const lab = await startLab(scenario({ domain: "bench.test", mx: ["mx1", "mx2", "mx3"] }));
const ours = [
  process.execPath,
  [bin, "check", "--json", ...lab.checkArgs(), "bench.test"],
] as const;
const theirs = [
  "sh",
  [
    manual,
    "bench.test",
    String(lab.dns.port),
    String(lab.httpsPort),
    String(lab.smtpPort),
    lab.caFile,
  ],
] as const;

async function time(
  cmd: readonly [string, readonly string[]],
): Promise<{ ms: number; out: string }> {
  const start = performance.now();
  const r = await run(cmd[0], [...cmd[1]], { maxBuffer: 1 << 24 }).catch((e) => e);
  return { ms: performance.now() - start, out: String(r.stdout ?? "") };
}

try {
  const first = await time(ours);
  const status = JSON.parse(first.out).domains[0].status;
  const check = await time(theirs);
  if (status !== "ok" || !check.out.includes("max_age"))
    throw new Error(`bench setup broken: ${status}\n${check.out}`);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push((await time(ours)).ms);
    b.push((await time(theirs)).ms);
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  const [ma, mb] = [med(a), med(b)];
  console.log(
    `node ${process.version}, ${ROUNDS} alternating rounds, whole processes, median wall time`,
  );
  console.log(
    `mtasts check (DNS, policy, 3 MX STARTTLS+cert, DANE)   ${ma.toFixed(0).padStart(6)} ms`,
  );
  console.log(
    `dig + curl + openssl s_client x3 (manual steps)        ${mb.toFixed(0).padStart(6)} ms`,
  );
  console.log(`ratio manual/mtasts                                    ${(mb / ma).toFixed(2)}x`);
} finally {
  await lab.close();
}
