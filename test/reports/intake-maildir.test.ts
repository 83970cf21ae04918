// The Maildir intake: files delivered the way MTAs deliver (written in tmp/,
// renamed into new/) while the watch runs, files already there at start,
// a folder to file processed mail in, and a store that fails.

import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { IntakeEvent } from "../../src/reports/intake-attempt.ts";
import { scanMaildirOnce, startMaildirWatch } from "../../src/reports/intake-maildir.ts";
import { reportJson, reportMail, samples, tempStore, totals } from "./intake-fixtures.ts";

function maildir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-maildir-"));
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(dir, sub));
  return dir;
}

let serial = 0;
/** As an MTA delivers: the whole message into tmp/, then one rename into new/. */
function deliver(dir: string, bytes: Uint8Array): string {
  const name = `${1_700_000_000 + serial++}.M${serial}P${process.pid}.mtasts-test,S=${bytes.length}`;
  writeFileSync(join(dir, "tmp", name), bytes);
  renameSync(join(dir, "tmp", name), join(dir, "new", name));
  return name;
}

async function mailFor(file: string): Promise<Buffer> {
  const sample = samples().find((s) => s.file === file);
  assert.ok(sample);
  return reportMail(await reportJson(sample), {
    submitter: "mail.sender.test",
    policyDomain: "reports.test",
    reportId: sample.reportId,
  });
}

/** Resolves once `events` holds `count` report events. */
async function reports(events: IntakeEvent[], count: number): Promise<void> {
  while (events.filter((e) => e.type === "report").length < count) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("RPT-RCV-02 every sample delivered into new/ while watching is ingested and moved to cur/ with :2,S", {
  timeout: 60_000,
}, async () => {
  const dir = maildir();
  const t = await tempStore();
  const events: IntakeEvent[] = [];
  // A rescan period far beyond the test: only the watch can find these files.
  const watch = await startMaildirWatch({
    store: t.store,
    dir,
    rescanMs: 3_600_000,
    onEvent: (e) => events.push(e),
  });
  try {
    const list = samples();
    let successful = 0;
    let failed = 0;
    const seen = new Set<string>();
    for (const sample of list) {
      deliver(dir, sample.kind === "eml" ? sample.bytes : await mailFor(sample.file));
      const key = `${sample.organization.toLowerCase()}\n${sample.reportId}`;
      if (!seen.has(key)) {
        successful += sample.successful;
        failed += sample.failed;
      }
      seen.add(key);
    }
    await reports(events, list.length);
    await watch.scanNow(); // runs after the scan in progress, which files the last one away
    assert.deepEqual(await totals(t.store), { successful, failed });
    assert.equal((await t.store.counts()).reports, seen.size);
    assert.deepEqual(readdirSync(join(dir, "new")), []);
    const cur = readdirSync(join(dir, "cur"));
    assert.equal(cur.length, list.length);
    assert.ok(
      cur.every((n) => n.endsWith(":2,S")),
      cur.join(" "),
    );
    assert.ok(events.every((e) => e.type === "report" && e.channel === "maildir"));
  } finally {
    await watch.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("files already in new/ when the watch starts are taken; tmp/ is never read", {
  timeout: 60_000,
}, async () => {
  const dir = maildir();
  const t = await tempStore();
  deliver(dir, await mailFor("phiag-google-2024.json"));
  deliver(dir, await mailFor("phiag-microsoft-2024.json"));
  // A delivery still being written: it must stay untouched in tmp/.
  writeFileSync(
    join(dir, "tmp", "1700000999.partial.mtasts-test"),
    (await mailFor("cryinc-google-2025.json")).subarray(0, 100),
  );
  const events: IntakeEvent[] = [];
  // No rescan and no watch event for these: only the scan at start can find them.
  const watch = await startMaildirWatch({
    store: t.store,
    dir,
    rescanMs: 3_600_000,
    onEvent: (e) => events.push(e),
  });
  try {
    await reports(events, 2);
    await watch.scanNow(); // runs after the scan in progress, which files the last one away
    assert.equal((await t.store.counts()).reports, 2);
    assert.deepEqual(readdirSync(join(dir, "new")), []);
    assert.deepEqual(readdirSync(join(dir, "tmp")), ["1700000999.partial.mtasts-test"]);
    const counts = await t.store.counts();
    assert.equal(counts.quarantined, 0);
  } finally {
    await watch.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("moveTo files processed mail into a Maildir++ folder it creates", async () => {
  const dir = maildir();
  const t = await tempStore();
  const name = deliver(dir, await mailFor("phiag-google-2024.json"));
  try {
    const result = await scanMaildirOnce({ store: t.store, dir, moveTo: ".Processed" });
    assert.equal(result.stored, 1);
    assert.deepEqual(readdirSync(join(dir, ".Processed", "cur")), [`${name}:2,S`]);
    assert.ok(existsSync(join(dir, ".Processed", "maildirfolder")));
    assert.deepEqual(readdirSync(join(dir, "cur")), []);
  } finally {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("RPT-DLV-10 a failing store leaves the files in new/; the next scan takes them", async () => {
  const dir = maildir();
  deliver(dir, await mailFor("phiag-google-2024.json"));
  deliver(dir, await mailFor("phiag-microsoft-2024.json"));
  const broken = await tempStore();
  await broken.store.close(); // a real failure: the database is closed
  try {
    const failed = await scanMaildirOnce({ store: broken.store, dir });
    assert.ok(failed.storeError);
    assert.deepEqual([failed.stored, failed.left], [0, 2]);
    assert.equal(readdirSync(join(dir, "new")).length, 2);
  } finally {
    await broken.cleanup();
  }
  const t = await tempStore();
  try {
    const ok = await scanMaildirOnce({ store: t.store, dir });
    assert.deepEqual([ok.stored, ok.storeError], [2, null]);
    assert.deepEqual(readdirSync(join(dir, "new")), []);
  } finally {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file over the size limit is read only up to it and quarantined; malformed mail is quarantined", async () => {
  const dir = maildir();
  const t = await tempStore();
  deliver(dir, Buffer.alloc(50_000, 0x41));
  deliver(dir, Buffer.from("From: a@sender.test\r\nSubject: no report\r\n\r\nhello\r\n"));
  try {
    const result = await scanMaildirOnce({ store: t.store, dir, maxMessageBytes: 10_000 });
    assert.deepEqual([result.quarantined, result.stored], [2, 0]);
    const entries = await t.store.listQuarantine({ includeResolved: false, limit: 10 });
    assert.ok(
      entries.every((e) => e.rawSize <= 10_001),
      JSON.stringify(entries),
    );
    assert.equal(readdirSync(join(dir, "cur")).length, 2);
  } finally {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a folder that is not a Maildir is refused at start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-not-maildir-"));
  const t = await tempStore();
  try {
    await assert.rejects(startMaildirWatch({ store: t.store, dir }), /not a Maildir/);
  } finally {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file's delivery time (its mtime) is when the report was received, not the scan", async () => {
  const dir = maildir();
  const t = await tempStore();
  const name = deliver(dir, await mailFor("phiag-google-2024.json"));
  const when = new Date("2026-03-01T08:30:00Z");
  utimesSync(join(dir, "new", name), when, when);
  try {
    await scanMaildirOnce({ store: t.store, dir });
    const [item] = await t.store.listReports({}, 1);
    assert.equal(item && new Date(item.receivedAt).toISOString(), when.toISOString());
  } finally {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
