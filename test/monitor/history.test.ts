// Check-run history on SQLite and PostgreSQL: the latest run of each domain is
// the newest by time even when runs were written out of order, history comes
// newest first, policy changes skip repeats and incomplete runs, and the
// tables migrate once (a second open changes nothing).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type MonitorDb, openMonitorDb } from "../../src/monitor/db.ts";
import {
  firstHashOfId,
  insertRun,
  latestRuns,
  policyChanges,
  pruneRuns,
  runHistory,
} from "../../src/monitor/run-queries.ts";
import type { CheckRun } from "../../src/monitor/types.ts";
import { backends } from "../reports/backends.ts";

const t = (h: number) => new Date(Date.UTC(2026, 0, 1) + h * 3_600_000);
const run = (domain: string, h: number, o: Partial<CheckRun> = {}): CheckRun => ({
  domain,
  at: t(h),
  status: "ok",
  mode: "enforce",
  policyId: "id1",
  findings: [],
  certificates: [{ mx: `mx1.${domain}`, notAfter: t(24 * 90), daysLeft: 90 }],
  policyHash: "h1",
  ...o,
});

for (const backend of backends) {
  describe(`check history on ${backend.name}`, {
    skip: await backend.skip(),
    timeout: 30_000,
  }, () => {
    let location: { db: string; cleanup(): Promise<void> };
    let db: MonitorDb;

    before(async () => {
      location = await backend.fresh();
      db = await openMonitorDb(location.db);
      // Written out of time order on purpose.
      await insertRun(
        db,
        run("a.test", 12, { mode: "testing", policyId: "id2", policyHash: "h2" }),
      );
      await insertRun(db, run("a.test", 0));
      await insertRun(db, run("a.test", 6, { status: "incomplete", mode: null, policyHash: null }));
      await insertRun(db, run("a.test", 3));
      await insertRun(db, run("b.test", 1, { policyHash: "h9" }));
      await insertRun(db, run("b.test", 2));
    });

    after(async () => {
      await db?.close();
      await location?.cleanup();
    });

    test("the latest run of each domain is the newest by time, in the order asked", async () => {
      const latest = await latestRuns(db, ["b.test", "none.test", "a.test"]);
      assert.deepEqual(
        latest.map((r) => [r.domain, r.at.toISOString(), r.mode]),
        [
          ["b.test", t(2).toISOString(), "enforce"],
          ["a.test", t(12).toISOString(), "testing"],
        ],
      );
      assert.deepEqual(latest[1]?.certificates, [
        { mx: "mx1.a.test", notAfter: t(24 * 90), daysLeft: 90 },
      ]);
    });

    test("history newest first; policy changes without repeats or incomplete runs", async () => {
      assert.deepEqual(
        (await runHistory(db, "a.test", 3)).map((r) => r.at.getTime()),
        [t(12), t(6), t(3)].map((d) => d.getTime()),
      );
      assert.deepEqual(
        (await policyChanges(db, "a.test")).map((c) => [c.at.getTime(), c.mode, c.policyId]),
        [
          [t(12).getTime(), "testing", "id2"],
          [t(0).getTime(), "enforce", "id1"],
        ],
      );
      assert.equal(await firstHashOfId(db, "b.test", "id1"), "h9");
      assert.equal(await firstHashOfId(db, "b.test", "nope"), null);
    });

    test("reopening migrates nothing again; pruning drops old runs only", async () => {
      const again = await openMonitorDb(location.db);
      await again.close();
      assert.equal(await pruneRuns(db, t(2)), 2);
      assert.deepEqual(
        (await latestRuns(db, ["a.test", "b.test"])).map((r) => r.domain),
        ["a.test", "b.test"],
      );
    });
  });
}
