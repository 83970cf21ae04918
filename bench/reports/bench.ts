// Ingest throughput: 10,000 generated reports (seeded, shaped like the samples)
// through the whole ingest path (sha256, extract, parse, bounds, dedup, brotli
// of the raw bytes, one atomic write per report, group-committed when several
// are in flight) into SQLite and into PostgreSQL, beside a bare baseline in the
// same run and the same engine: JSON.parse + one INSERT of the text per report,
// with the same durability settings. Then memory while ingesting a 10 MiB
// report (bench/reports/memory.ts, in a fresh process). Besides reports/s it
// prints this process's CPU µs per report for each side (PostgreSQL's own
// work is not in it) and the load average, since other work on the machine
// moves the figures.
//
//   node bench/reports/bench.ts [--count N] [--rounds N] [--no-postgres]
//   MTASTS_TEST_PG_URL=postgres://… to point at another PostgreSQL.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import pg from "pg";
import { WINDOW } from "../../src/cli/reports-ingest.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import { openReportStore, type ReportStore } from "../../src/reports/store.ts";
import { generateReport } from "../../test/reports/report-generator.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    "no-postgres": { type: "boolean", default: false },
  },
});
const COUNT = Number(values.count);
const ROUNDS = Number(values.rounds);
const SEED = 1;
/** Reports in flight: what `mtasts reports ingest` keeps (its window), as a busy intake would. */
const CONCURRENCY = WINDOW;
const PG_URL = process.env.MTASTS_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const inputs = Array.from({ length: COUNT }, (_, i) =>
  new TextEncoder().encode(generateReport(SEED, i).json),
);
const bytes = inputs.reduce((n, b) => n + b.length, 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Timed {
  /** Reports per second. */
  rate: number;
  /** CPU µs of this process per report. */
  cpu: number;
}

async function timed(run: () => Promise<void>): Promise<Timed> {
  const t = performance.now();
  const c = process.cpuUsage();
  await run();
  const used = process.cpuUsage(c);
  return {
    rate: COUNT / ((performance.now() - t) / 1000),
    cpu: (used.user + used.system) / COUNT,
  };
}

/** Runs `one` over every input with `concurrency` in flight. */
async function pool(concurrency: number, one: (b: Uint8Array) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < inputs.length) await one(inputs[next++] as Uint8Array);
    }),
  );
}

async function ours(store: ReportStore, concurrency: number): Promise<void> {
  await pool(concurrency, async (b) => {
    const o = await ingestReport(store, { bytes: b, channel: "https" });
    if (o.status !== "stored") throw new Error(`not stored: ${JSON.stringify(o)}`);
  });
}

// --- SQLite -------------------------------------------------------------------

async function sqliteOurs(concurrency: number): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-bench-"));
  try {
    const store = await openReportStore(join(dir, "reports.db"));
    const measured = await timed(() => ours(store, concurrency));
    const n = (await store.counts()).reports;
    await store.close();
    if (n !== COUNT) throw new Error(`stored ${n}, expected ${COUNT}`);
    return measured;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sqliteBare(): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-bench-"));
  try {
    const db = new DatabaseSync(join(dir, "bare.db"));
    // The same durability as the store: WAL, synchronous=NORMAL, one transaction per report.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec(
      "CREATE TABLE bare (id INTEGER PRIMARY KEY, organization TEXT, report_id TEXT, body TEXT)",
    );
    const insert = db.prepare("INSERT INTO bare (organization, report_id, body) VALUES (?, ?, ?)");
    const decoder = new TextDecoder();
    const measured = await timed(async () => {
      for (const b of inputs) {
        const text = decoder.decode(b);
        const r = JSON.parse(text);
        insert.run(r["organization-name"], r["report-id"], text);
      }
    });
    db.close();
    return measured;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- PostgreSQL ----------------------------------------------------------------

async function withSchema<T>(work: (url: string, schema: string) => Promise<T>): Promise<T> {
  const schema = `mtasts_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = new URL(PG_URL);
  url.searchParams.set("schema", schema);
  try {
    return await work(url.toString(), schema);
  } finally {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

async function postgresOurs(concurrency: number): Promise<Timed> {
  return withSchema(async (url) => {
    const store = await openReportStore(url);
    const measured = await timed(() => ours(store, concurrency));
    const n = (await store.counts()).reports;
    await store.close();
    if (n !== COUNT) throw new Error(`stored ${n}, expected ${COUNT}`);
    return measured;
  });
}

async function postgresBare(concurrency: number): Promise<Timed> {
  return withSchema(async (_url, schema) => {
    // Up to 64 connections: more would pass PostgreSQL's default max_connections
    // (100) and gain nothing on a few cores; requests beyond them queue in the pool.
    const db = new pg.Pool({ connectionString: PG_URL, max: Math.min(concurrency, 64) });
    await db.query(`CREATE SCHEMA "${schema}"`);
    await db.query(
      `CREATE TABLE "${schema}".bare (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, organization TEXT, report_id TEXT, body TEXT)`,
    );
    const decoder = new TextDecoder();
    const text = `INSERT INTO "${schema}".bare (organization, report_id, body) VALUES ($1, $2, $3)`;
    const measured = await timed(() =>
      pool(concurrency, async (b) => {
        const body = decoder.decode(b);
        const r = JSON.parse(body);
        await db.query({
          name: "bare-insert",
          text,
          values: [r["organization-name"], r["report-id"], body],
        });
      }),
    );
    await db.end();
    return measured;
  });
}

// --- run -------------------------------------------------------------------------

async function pair(label: string, bare: () => Promise<Timed>, mine: () => Promise<Timed>) {
  const b: Timed[] = [];
  const o: Timed[] = [];
  const load = loadavg()[0] as number;
  for (let i = 0; i < ROUNDS; i++) {
    b.push(await bare());
    o.push(await mine());
  }
  const result = {
    label,
    ours: median(o.map((x) => x.rate)),
    bare: median(b.map((x) => x.rate)),
    oursCpu: median(o.map((x) => x.cpu)),
    bareCpu: median(b.map((x) => x.cpu)),
    load: `${load.toFixed(1)}–${(loadavg()[0] as number).toFixed(1)}`,
  };
  console.log(
    `${label}: ours ${Math.round(result.ours)} reports/s (${result.oursCpu.toFixed(1)} CPU µs each), bare ${Math.round(result.bare)} reports/s (${result.bareCpu.toFixed(1)}), ratio ${(result.ours / result.bare).toFixed(2)}x; rounds ours ${o.map((x) => Math.round(x.rate)).join(", ")}, bare ${b.map((x) => Math.round(x.rate)).join(", ")}; load average ${result.load}`,
  );
  return result;
}

console.log(
  `${COUNT} reports, ${(bytes / COUNT).toFixed(0)} bytes each on average; ${ROUNDS} alternating rounds, medians; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
// Bare is one autocommitted INSERT per report, one at a time: the simple way.
// Ours is measured as it ingests: one report after another (each its own
// commit), and with a window in flight (group commit), which is what
// `mtasts reports ingest` does.
const results = [
  await pair("SQLite, one at a time", sqliteBare, () => sqliteOurs(1)),
  await pair(`SQLite, ${CONCURRENCY} in flight`, sqliteBare, () => sqliteOurs(CONCURRENCY)),
];
if (!values["no-postgres"]) {
  results.push(
    await pair(
      "PostgreSQL, one at a time",
      () => postgresBare(1),
      () => postgresOurs(1),
    ),
  );
  results.push(
    await pair(
      `PostgreSQL, ${CONCURRENCY} in flight`,
      () => postgresBare(CONCURRENCY),
      () => postgresOurs(CONCURRENCY),
    ),
  );
}

const memory = JSON.parse(
  execFileSync(process.execPath, [new URL("./memory.ts", import.meta.url).pathname], {
    encoding: "utf8",
  }),
);
console.log(`10 MiB report: ${JSON.stringify(memory)}`);

console.log(
  "\n| engine | ours reports/s | bare JSON.parse + INSERT reports/s | ratio | CPU µs/report ours / bare | load average |\n|---|---:|---:|---:|---:|---:|",
);
for (const r of results) {
  console.log(
    `| ${r.label} | ${Math.round(r.ours).toLocaleString("en-US")} | ${Math.round(r.bare).toLocaleString("en-US")} | ${(r.ours / r.bare).toFixed(2)}x | ${r.oursCpu.toFixed(1)} / ${r.bareCpu.toFixed(1)} | ${r.load} |`,
  );
}
