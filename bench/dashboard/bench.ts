// Domain overview API latency over real HTTP: a SQLite store seeded with
// 1,000,000 failure-detail rows (seed.ts: ~100 days, 36 domains, 10
// reporters), `mtasts serve` started as its own process on it, then
// sequential GET /api/domains/<d>/overview?days=90 with an API token.
// Prints p50/p95/max per domain and overall. Target: p95 under 200 ms.
//
//   node bench/dashboard/bench.ts [--details N] [--requests N] [--db FILE] [--keep]

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { newApiToken } from "../../src/dashboard/index.ts";
import { seed } from "./seed.ts";

const { values } = parseArgs({
  options: {
    details: { type: "string", default: "1000000" },
    requests: { type: "string", default: "200" },
    db: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const DETAILS = Number(values.details);
const REQUESTS = Number(values.requests);
const DOMAINS = 36;
const DAY_MS = 86_400_000;
const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), "mtasts-bench-dashboard-"));
const db = values.db ?? join(dir, "reports.db");
// The seeded period ends at the next UTC midnight, so "the last 90 days" always holds 90 of its 100 days.
const end = new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS);
if (!existsSync(db)) {
  const t = performance.now();
  const seeded = await seed({ path: db, details: DETAILS, domains: DOMAINS, days: 100, end });
  console.log(
    `seeded ${seeded.details.toLocaleString("en-US")} failure details in ${seeded.reports.toLocaleString("en-US")} reports (${DOMAINS} domains, 100 days) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
} else console.log(`using the existing store ${db}`);

const token = newApiToken();
const config = join(dir, "serve.yml");
writeFileSync(
  config,
  `api_tokens:\n  - { name: bench, role: read-only, token_hash: "${token.hash}" }\n`,
);
const server = spawn(
  process.execPath,
  [bin, "serve", "-c", config, "--db", db, "--listen", "127.0.0.1:0"],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);

try {
  const url = await listening(server);
  const headers = { authorization: `Bearer ${token.token}` };
  const get = async (path: string): Promise<number> => {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers });
    const body = await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`${path} answered ${res.status}: ${Buffer.from(body).toString()}`);
    return performance.now() - t;
  };
  const overview = (d: number) => `/api/domains/d${d}.example/overview?days=90`;
  for (let i = 0; i < 20; i++) await get(overview(i % DOMAINS));

  const rows: [string, number[]][] = [];
  const main: number[] = [];
  for (let i = 0; i < REQUESTS; i++) main.push(await get(overview(0)));
  rows.push(["d0.example", main]);
  for (const d of [5, 17, 35]) {
    const times: number[] = [];
    for (let i = 0; i < 50; i++) times.push(await get(overview(d)));
    rows.push([`d${d}.example`, times]);
  }
  const mixed: number[] = [];
  for (let i = 0; i < REQUESTS; i++) mixed.push(await get(overview(i % DOMAINS)));
  rows.push([`all ${DOMAINS} domains in turn`, mixed]);
  const list: number[] = [];
  for (let i = 0; i < 20; i++) list.push(await get("/api/domains"));

  console.log(
    `\nmachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  console.log("\n| request | n | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|");
  for (const [name, times] of rows) console.log(line(`overview?days=90, ${name}`, times));
  console.log(line("/api/domains (overview page)", list));
  const all = rows.flatMap(([, t]) => t);
  const p95 = percentile(all, 0.95);
  console.log(
    `\noverall p95 ${p95.toFixed(1)} ms over ${all.length} requests: target (< 200 ms) ${p95 < 200 ? "met" : "NOT met"}`,
  );
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}

function line(name: string, times: number[]): string {
  const f = (q: number) => percentile(times, q).toFixed(1);
  return `| ${name} | ${times.length} | ${f(0.5)} | ${f(0.95)} | ${Math.max(...times).toFixed(1)} |`;
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
}

function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`mtasts serve exited ${code}: ${out}`)));
  });
}
