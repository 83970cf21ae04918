// The duplicate filter: exact for what it remembers, bounded when asked.

import assert from "node:assert/strict";
import { test } from "node:test";
import { SeenSet } from "../../src/scan/index.ts";

test("add reports new names once; has sees them; growth keeps every name", () => {
  const s = new SeenSet({ initialSlots: 16 });
  for (let i = 0; i < 50_000; i++) assert.equal(s.add(`d${i}.example`), true, `d${i}`);
  assert.equal(s.size, 50_000);
  for (let i = 0; i < 50_000; i++) assert.equal(s.add(`d${i}.example`), false, `d${i} again`);
  assert.ok(s.has("d49999.example"));
  assert.ok(!s.has("d50000.example"));
  assert.equal(s.resets, 0);
});

test("names differing by one character, or only in order, are different names", () => {
  const s = new SeenSet();
  const names = [
    "ab.example",
    "ba.example",
    "a.bexample",
    "ab.exampl",
    "ab.example.",
    "AB.example",
  ];
  for (const n of names) assert.equal(s.add(n), true, n);
  assert.equal(s.size, names.length);
});

test("a bounded set forgets everything when full, and counts it, instead of growing", () => {
  const s = new SeenSet({ initialSlots: 16, maxSlots: 64 });
  for (let i = 0; i < 48; i++) s.add(`n${i}.example`);
  assert.equal(s.resets, 0);
  assert.ok(s.has("n0.example"));
  s.add("n48.example");
  assert.equal(s.resets, 1);
  assert.equal(s.size, 1);
  assert.ok(!s.has("n0.example"), "forgotten after the reset");
  assert.ok(s.has("n48.example"));
});
