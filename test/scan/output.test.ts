// Output formats a line at a time, and the progress line a terminal shows.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createWriter, csvField, progressLine, startProgress } from "../../src/scan/index.ts";
import { finding, none, record } from "./records.ts";

function written(format: "ndjson" | "csv" | "json" | "text", records = [record("a.example")]) {
  let out = "";
  const w = createWriter(format, { write: (s: string) => (out += s) });
  for (const r of records) w.write(r);
  const beforeEnd = out;
  w.end();
  return { out, beforeEnd };
}

test("ndjson: one complete line per record, written as it comes", () => {
  const { out, beforeEnd } = written("ndjson", [record("a.example"), none("b.example")]);
  assert.equal(out, beforeEnd, "nothing held back for the end");
  assert.deepEqual(
    out.split("\n").map((l) => (l ? JSON.parse(l).domain : "")),
    ["a.example", "b.example", ""],
  );
});

test("json: a document that is valid once ended, records streamed before that", () => {
  const { out, beforeEnd } = written("json", [record("a.example"), none("b.example")]);
  assert.ok(beforeEnd.includes('"domain":"b.example"'));
  assert.deepEqual(
    JSON.parse(out).domains.map((d: { domain: string }) => d.domain),
    ["a.example", "b.example"],
  );
  assert.deepEqual(JSON.parse(written("json", []).out), { domains: [] });
});

test("csv: RFC 4180 quoting, codes per severity, formulas defused", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField('say "hi", twice'), '"say ""hi"", twice"');
  assert.equal(csvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvField("-1+2"), "'-1+2");
  const { out } = written("csv", [
    record("a.example", {
      status: "error",
      findings: [
        finding("mx.not-covered"),
        finding("mx.not-covered"),
        finding("policy.mode.none", "warning"),
      ],
    }),
  ]);
  assert.equal(
    out.split("\r\n")[1],
    "a.example,error,enforce,1209600,yes,mx.a.example,mx.not-covered,policy.mode.none,10",
  );
});

test("text: control characters in an input never reach the terminal", () => {
  const { out } = written("text", [
    record("evil\u001b[2J\u202e.example", { status: "error", mode: null }),
  ]);
  assert.ok(!out.includes("\u001b"));
  assert.ok(!out.includes("\u202e"));
  assert.match(out, /evil\\u\{1b\}\[2J\\u\{202e\}\.example/);
});

test("progress: done/total, share, rate, ETA and errors; without a total, what is done", () => {
  assert.equal(
    progressLine({ done: 250, total: 1000, errors: 3, elapsedMs: 5000 }, 10),
    "[###-------]  250/1,000  25.0%  50/s  ETA 0:15  errors 3",
  );
  assert.equal(
    progressLine({ done: 1234, total: null, errors: 0, elapsedMs: 2000 }),
    "1,234 done  617/s  errors 0",
  );
  assert.equal(
    progressLine({ done: 10, total: 100_000, errors: 0, elapsedMs: 1000 }, 4),
    "[----]  10/100,000  0.0%  10/s  ETA 2:46:39  errors 0",
  );
});

test("the progress line is drawn only on a terminal, and cleared around notes and at the end", () => {
  let tty = "";
  const shown = startProgress({ isTTY: true, write: (s: string) => (tty += s) }, () => ({
    done: 3,
    total: 10,
    errors: 1,
    elapsedMs: 1000,
  }));
  shown.note("mtasts: read 10 list lines");
  shown.stop();
  assert.equal(
    tty,
    "\r\u001b[Kmtasts: read 10 list lines\n\r[#######-----------------]  3/10  30.0%  3/s  ETA 0:03  errors 1\u001b[K\r\u001b[K",
  );
  let piped = "";
  const quiet = startProgress({ write: (s: string) => (piped += s) }, () => ({
    done: 3,
    total: 10,
    errors: 1,
    elapsedMs: 1000,
  }));
  quiet.note("mtasts: read 10 list lines");
  quiet.stop();
  assert.equal(piped, "mtasts: read 10 list lines\n");
});
