// Crash safety (issue 7): the real binary ingests a batch of generated reports,
// is SIGKILLed mid-batch (after a given number of outcome lines, several times),
// then runs the same batch to the end. Every report must be stored exactly
// once, whole (no report without all its policies and failure details), with
// totals equal to the generated sums: nothing lost, nothing duplicated.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { openReportStore } from "../../src/reports/store.ts";
import { backends } from "./backends.ts";
import { type GeneratedReport, generateReport } from "./report-generator.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const SEED = 7;
const COUNT = 600;
/** Every 8th report carries this many extra failure details, so storing it takes a while. */
const HEAVY_DETAILS = 700;
/**
 * Outcome lines after which each interrupted run is killed. `ingest` keeps at
 * most 256 inputs in flight (WINDOW), so even the last kill leaves part of the batch undone.
 */
const KILL_AFTER = [40, 120, 240];

function batch(dir: string): Map<string, GeneratedReport> {
  const byId = new Map<string, GeneratedReport>();
  for (let i = 0; i < COUNT; i++) {
    const r = generateReport(SEED, i, i % 8 === 5 ? HEAVY_DETAILS : 0);
    writeFileSync(join(dir, `report-${String(i).padStart(4, "0")}.json`), r.json);
    byId.set(r.reportId, r);
  }
  return byId;
}

interface Run {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs `ingest` over the batch; with `killAfter`, SIGKILLs it once that many lines are out. */
function ingest(db: string, dir: string, killAfter?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, "reports", "ingest", "--no-dkim", "--db", db, dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      if (killAfter !== undefined && lines.length === killAfter) child.kill("SIGKILL");
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (killAfter === undefined && code !== 0)
        reject(new Error(`ingest exited ${code}: ${stderr}`));
      else resolve({ lines, code, signal });
    });
  });
}

/** Every stored report is whole and matches what was generated under its report-id. */
async function assertWhole(db: string, expected: Map<string, GeneratedReport>): Promise<number> {
  const store = await openReportStore(db);
  try {
    const listed = await store.listReports({}, 0);
    const ids = new Set<string>();
    for (const item of listed) {
      assert.ok(!ids.has(item.reportId), `${item.reportId} stored twice`);
      ids.add(item.reportId);
      const want = expected.get(item.reportId);
      assert.ok(want, `unexpected report ${item.reportId}`);
      const got = await store.getReport(item.id);
      assert.ok(got);
      assert.equal(got.report.policies.length, want.policies, `${item.reportId}: policies`);
      const details = got.report.policies.reduce((n, p) => n + p["failure-details"].length, 0);
      assert.equal(details, want.details, `${item.reportId}: failure details`);
      assert.equal(got.successful, want.successful, `${item.reportId}: successful`);
      assert.equal(got.failed, want.failed, `${item.reportId}: failed`);
    }
    const counts = await store.counts();
    assert.equal(counts.reports, listed.length);
    assert.equal(counts.quarantined, 0);
    return listed.length;
  } finally {
    await store.close();
  }
}

// Probed before any suite is declared: node:test starts running once the file's body yields.
const skips = await Promise.all(backends.map((b) => b.skip()));

for (const [i, backend] of backends.entries()) {
  const skip = skips[i] ?? false;

  describe(`crash safety: ${backend.name}`, { skip }, () => {
    let dir: string;
    let db: string;
    let cleanup: () => Promise<void>;
    let expected: Map<string, GeneratedReport>;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "mtasts-crash-"));
      expected = batch(dir);
      ({ db, cleanup } = await backend.fresh());
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    });

    test("RPT-RCV-05 SIGKILL mid-batch, re-run: every report stored once, whole, totals exact", async () => {
      let previous = 0;
      for (const killAfter of KILL_AFTER) {
        const run = await ingest(db, dir, killAfter);
        assert.equal(run.signal, "SIGKILL", "the run was killed, not finished");
        const stored = await assertWhole(db, expected);
        assert.ok(stored < COUNT, "killed before the end of the batch");
        assert.ok(stored >= previous, "nothing stored earlier was lost");
        // Lines already printed were committed before they were printed.
        const done = run.lines.filter((l) => /^(stored|duplicate)\s/.test(l)).length;
        assert.ok(stored >= Math.min(done, killAfter), `${stored} stored, ${done} reported`);
        previous = stored;
      }
      const final = await ingest(db, dir);
      assert.equal(final.code, 0);
      const outcomes = final.lines.filter((l) => /^(stored|duplicate)\s/.test(l));
      assert.equal(outcomes.length, COUNT, "every input has an outcome");
      assert.equal(outcomes.filter((l) => l.startsWith("duplicate")).length, previous);
      assert.equal(await assertWhole(db, expected), COUNT);

      const store = await openReportStore(db);
      try {
        const want = { successful: 0, failed: 0 };
        let policies = 0;
        let details = 0;
        for (const r of expected.values()) {
          want.successful += r.successful;
          want.failed += r.failed;
          policies += r.policies;
          details += r.details;
        }
        assert.deepEqual((await store.summary({}, "day")).total, want);
        const counts = await store.counts();
        assert.deepEqual(counts, {
          reports: COUNT,
          policies,
          failureDetails: details,
          quarantined: 0,
          resolved: 0,
        });
      } finally {
        await store.close();
      }
    });
  });
}
