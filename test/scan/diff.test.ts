// `scan diff`: two real ndjson files, compared domain by domain.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { diffScans, renderDiffText, type ScanRecord } from "../../src/scan/index.ts";
import { finding, none, record } from "./records.ts";

const dir = mkdtempSync(join(tmpdir(), "mtasts-scan-diff-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, records: ScanRecord[], extra = ""): string {
  const path = join(dir, name);
  writeFileSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join("") + extra);
  return path;
}

const broken = (d: string, code: string) =>
  record(d, { status: "error", mode: null, findings: [finding(code)] });

test("adopted, dropped, mode changes, newly broken, fixed; domains in one scan only are counted", async () => {
  const old = write("old.ndjson", [
    none("adopts.example"),
    record("drops.example", { mode: "testing" }),
    record("tightens.example", { mode: "testing" }),
    record("breaks.example"),
    broken("heals.example", "fetch.redirect"),
    record("same.example"),
    record("gone.example"),
  ]);
  const now = write(
    "new.ndjson",
    [
      record("same.example"),
      record("adopts.example", { mode: "testing" }),
      none("drops.example"),
      record("tightens.example"),
      broken("breaks.example", "fetch.certificate.expired"),
      record("heals.example", { status: "warning" }),
      record("fresh.example"),
    ],
    'not json\n{"half": \n',
  );
  const d = await diffScans(old, now);
  assert.equal(d.compared, 6);
  assert.equal(d.onlyOld, 1);
  assert.equal(d.onlyNew, 1);
  assert.equal(d.foreign, 2);
  assert.deepEqual(d.adopted, [{ domain: "adopts.example", mode: "testing", status: "ok" }]);
  assert.deepEqual(d.dropped, [{ domain: "drops.example", was: "testing" }]);
  assert.deepEqual(d.modeChanged, [{ domain: "tightens.example", from: "testing", to: "enforce" }]);
  assert.deepEqual(d.broken, [{ domain: "breaks.example", errors: ["fetch.certificate.expired"] }]);
  assert.deepEqual(d.fixed, [{ domain: "heals.example", was: ["fetch.redirect"] }]);
  const text = renderDiffText(d);
  assert.match(text, /Adopted MTA-STS \(1\):\n {2}adopts\.example {2}testing {2}ok/);
  assert.match(text, /Mode changed \(1\):\n {2}tightens\.example {2}testing → enforce/);
  assert.match(text, /Newly broken \(1\):\n {2}breaks\.example {2}fetch\.certificate\.expired/);
  assert.match(text, /2 lines were not scan results/);
});

test("identical scans differ in nothing", async () => {
  const records = [record("a.example"), none("b.example"), broken("c.example", "mx.not-covered")];
  const d = await diffScans(write("a.ndjson", records), write("b.ndjson", [...records].reverse()));
  assert.equal(d.compared, 3);
  for (const list of [d.adopted, d.dropped, d.modeChanged, d.broken, d.fixed])
    assert.deepEqual(list, []);
});
