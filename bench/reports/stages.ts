// Where one report's ingest time goes, stage by stage, over the benchmark's
// generated reports: CPU microseconds per report for each stage run alone,
// beside the bare baseline's JSON.parse and the store write (groups of 64).
// Each stage runs --rounds times (alternating with the others, after one
// warm-up); the median and the lowest are printed, since other load on the
// machine inflates CPU time too.
//
//   node bench/reports/stages.ts [--rounds N]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { extractReport } from "../../src/adapters/report-source.ts";
import { parseTlsrptReport, reportKey, type TlsrptReport } from "../../src/core/tlsrpt-report.ts";
import { compressRaw, sha256Hex } from "../../src/reports/raw.ts";
import { checkBounds } from "../../src/reports/report-bounds.ts";
import { toRows } from "../../src/reports/report-rows.ts";
import { type NewReport, openReportStore } from "../../src/reports/store.ts";
import { generateReport } from "../../test/reports/report-generator.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const ROUNDS = Number(values.rounds);
const COUNT = 10_000;
const inputs = Array.from({ length: COUNT }, (_, i) =>
  new TextEncoder().encode(generateReport(1, i).json),
);
const texts = inputs.map((b) => new TextDecoder().decode(b));
const reports = texts.map((t) => {
  const p = parseTlsrptReport(t);
  if (!p.ok) throw new Error("generated report does not parse");
  return p.value;
});

/** A stage that measures itself returns its CPU µs (the store write leaves out open and close). */
type Stage = () => unknown;
const stages: { label: string; run: Stage; us: number[] }[] = [];
function cpu(label: string, run: Stage): void {
  stages.push({ label, run, us: [] });
}

const newReport = (r: TlsrptReport, i: number): NewReport => ({
  report: r,
  reporterKey: (r["organization-name"] ?? "").toLowerCase(),
  reportKey: reportKey(r),
  contentSha256: sha256Hex(inputs[i] as Uint8Array),
  receivedAt: new Date(),
  channel: "https",
  origin: null,
  dkim: null,
  raw: inputs[i] as Uint8Array,
  warnings: [],
});

cpu("bare: JSON.parse", () => {
  for (const t of texts) JSON.parse(t);
});
cpu("sha256", () => {
  for (const b of inputs) sha256Hex(b);
});
let sink = 0;
cpu("extractReport (JSON)", () => {
  for (const b of inputs) void extractReport(b).then(() => sink++);
});
cpu("parseTlsrptReport", () => {
  for (const t of texts) parseTlsrptReport(t);
});
cpu("bounds", () => {
  for (const r of reports) checkBounds(r, 4096);
});
cpu("compress raw alone (brotli q2; PostgreSQL's way)", () => {
  for (const b of inputs) compressRaw(b);
});
const prepared = reports.map(newReport);
cpu("rows", () => {
  for (const r of prepared) toRows(r);
});
cpu("SQLite write, groups of 64 (packs the raw bytes)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-stages-"));
  try {
    const store = await openReportStore(join(dir, "r.db"));
    const start = process.cpuUsage();
    for (let i = 0; i < COUNT; i += 64) {
      await Promise.all(prepared.slice(i, i + 64).map((r) => store.insertReport(r)));
    }
    const used = process.cpuUsage(start);
    await store.close();
    return used.user + used.system;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (let round = 0; round <= ROUNDS; round++) {
  for (const stage of stages) {
    const start = process.cpuUsage();
    const own = await stage.run();
    const used = process.cpuUsage(start);
    const total = typeof own === "number" ? own : used.user + used.system;
    if (round > 0) stage.us.push(total / COUNT); // round 0 warms up
  }
}
console.log(`CPU µs per report, ${ROUNDS} rounds: median (lowest)`);
for (const { label, us } of stages) {
  const sorted = [...us].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  console.log(
    `${label.padEnd(34)} ${median.toFixed(1).padStart(6)} µs (${(sorted[0] as number).toFixed(1)})`,
  );
}
