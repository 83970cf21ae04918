// A store made by an earlier mtasts (schema step 1: every report's raw bytes
// compressed alone in its own row) opened by this one: the new step is
// applied in place, old rows still read byte for byte beside new packed ones,
// and pruning handles both. SQLite and PostgreSQL, over real connections.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import pg from "pg";
import { ingestReport } from "../../src/reports/ingest.ts";
import { compressRaw } from "../../src/reports/raw.ts";
import type { Dialect } from "../../src/reports/schema.ts";
import { reportMigrations } from "../../src/reports/schema.ts";
import { openReportStore } from "../../src/reports/store.ts";
import { type Backend, postgres, sqlite } from "./backends.ts";
import { generateReport } from "./report-generator.ts";

/** Step 1's tables and one report as the earlier version wrote it (brotli, alone). */
function firstStep(dialect: Dialect, old: Uint8Array): string[] {
  const raw = compressRaw(old);
  const hex = Buffer.from(raw.bytes).toString("hex");
  const literal = dialect === "sqlite" ? `x'${hex}'` : `'\\x${hex}'::bytea`;
  return [
    ...reportMigrations.step(dialect, 0),
    "CREATE TABLE tlsrpt_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
    "INSERT INTO tlsrpt_schema (id, version) VALUES (1, 1)",
    `INSERT INTO tlsrpt_reports (organization, reporter_key, report_id, report_key, start_ms, end_ms,
       received_ms, channel, content_sha256, raw_size, warnings, successful, failed)
     VALUES ('Old Sender', 'old sender', 'old-1', 'old-1', 0, 1000, 1000, 'file', 'f00d', ${old.length}, '[]', 1, 0)`,
    `INSERT INTO tlsrpt_report_raw (report, encoding, bytes)
     SELECT id, '${raw.encoding}', ${literal} FROM tlsrpt_reports WHERE report_id = 'old-1'`,
  ];
}

async function makeOld(
  backend: Backend,
  old: Uint8Array,
): Promise<{ db: string; cleanup(): Promise<void> }> {
  const where = await backend.fresh();
  if (backend.name === "sqlite") {
    const db = new DatabaseSync(where.db);
    for (const sql of firstStep("sqlite", old)) db.exec(sql);
    db.close();
    return where;
  }
  const url = new URL(where.db);
  const schema = url.searchParams.get("schema") as string;
  url.searchParams.delete("schema");
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path = "${schema}"`);
    for (const sql of firstStep("postgres", old)) await client.query(sql);
  } finally {
    await client.end();
  }
  return where;
}

for (const backend of [sqlite, postgres]) {
  test(`${backend.name}: a step-1 store is upgraded in place; old and new raw bytes both read, and prune`, async (t) => {
    const skip = await backend.skip();
    if (skip) return t.skip(skip);
    const old = new TextEncoder().encode(generateReport(7, 0).json);
    const where = await makeOld(backend, old);
    const store = await openReportStore(where.db);
    try {
      const [first] = await store.listReports({}, 10);
      assert.ok(first);
      assert.deepEqual(await store.getReportRaw(first.id), old, "a row the earlier version wrote");
      const fresh = Array.from({ length: 10 }, (_, i) =>
        new TextEncoder().encode(generateReport(7, i + 1).json),
      );
      const outcomes = await Promise.all(
        fresh.map((bytes) => ingestReport(store, { bytes, channel: "file" })),
      );
      for (const [i, o] of outcomes.entries()) {
        assert.equal(o.status, "stored");
        if (o.status !== "stored") continue;
        assert.deepEqual(await store.getReportRaw(o.id), fresh[i]);
      }
      // The old report ended in 1970: pruning takes it and leaves the new ones readable.
      const pruned = await store.prune(new Date(86_400_000), { dryRun: false });
      assert.equal(pruned.reports, 1);
      assert.equal(await store.getReportRaw(first.id), null);
      const left = await store.listReports({}, 100);
      assert.equal(left.length, 10);
      for (const item of left) assert.ok((await store.getReportRaw(item.id))?.length);
    } finally {
      await store.close();
      await where.cleanup();
    }
  });
}
