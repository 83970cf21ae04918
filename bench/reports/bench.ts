// Ingest throughput: 10,000 generated reports (seeded, shaped like the samples)
// through the whole ingest path (sha256, extract, parse, bounds, dedup, brotli,
// one transaction per report) into SQLite and into PostgreSQL, beside a bare
// baseline in the same run and the same engine: JSON.parse + one INSERT of the
// text per report, with the same durability settings. Then memory while
// ingesting a 10 MiB report (bench/reports/memory.ts, in a fresh process).
//
//   node bench/reports/bench.ts [--count N] [--rounds N] [--no-postgres]
//   MTASTS_TEST_PG_URL=postgres://… to point at another PostgreSQL.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
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

async function timed(run: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await run();
  return COUNT / ((performance.now() - t) / 1000);
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

async function sqliteOurs(concurrency: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-bench-"));
  try {
    const store = await openReportStore(join(dir, "reports.db"));
    const rate = await timed(() => ours(store, concurrency));
    const n = (await store.counts()).reports;
    await store.close();
    if (n !== COUNT) throw new Error(`stored ${n}, expected ${COUNT}`);
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sqliteBare(): Promise<number> {
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
    const rate = await timed(async () => {
      for (const b of inputs) {
        const text = decoder.decode(b);
        const r = JSON.parse(text);
        insert.run(r["organization-name"], r["report-id"], text);
      }
    });
    db.close();
    return rate;
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

async function postgresOurs(concurrency: number): Promise<number> {
  return withSchema(async (url) => {
    const store = await openReportStore(url);
    const rate = await timed(() => ours(store, concurrency));
    const n = (await store.counts()).reports;
    await store.close();
    if (n !== COUNT) throw new Error(`stored ${n}, expected ${COUNT}`);
    return rate;
  });
}

async function postgresBare(concurrency: number): Promise<number> {
  return withSchema(async (_url, schema) => {
    const db = new pg.Pool({ connectionString: PG_URL, max: concurrency });
    await db.query(`CREATE SCHEMA "${schema}"`);
    await db.query(
      `CREATE TABLE "${schema}".bare (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, organization TEXT, report_id TEXT, body TEXT)`,
    );
    const decoder = new TextDecoder();
    const text = `INSERT INTO "${schema}".bare (organization, report_id, body) VALUES ($1, $2, $3)`;
    const rate = await timed(() =>
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
    return rate;
  });
}

// --- run -------------------------------------------------------------------------

async function pair(label: string, bare: () => Promise<number>, mine: () => Promise<number>) {
  const b: number[] = [];
  const o: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    b.push(await bare());
    o.push(await mine());
  }
  const result = { label, ours: median(o), bare: median(b) };
  console.log(
    `${label}: ours ${Math.round(result.ours)} reports/s, bare ${Math.round(result.bare)} reports/s, ratio ${(result.ours / result.bare).toFixed(2)}x`,
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
  "\n| engine | ours reports/s | bare JSON.parse + INSERT reports/s | ratio |\n|---|---:|---:|---:|",
);
for (const r of results) {
  console.log(
    `| ${r.label} | ${Math.round(r.ours).toLocaleString("en-US")} | ${Math.round(r.bare).toLocaleString("en-US")} | ${(r.ours / r.bare).toFixed(2)}x |`,
  );
}
