import assert from "node:assert/strict";
import { test } from "node:test";
import { HotSet } from "../../src/resolver/hot-set.ts";
import { fresh, type Known } from "../../src/resolver/known.ts";

const record = (domain: string): Known =>
  fresh({ domain, id: "1", text: "", mode: "enforce", fetchedAt: 0, expiresAt: 1 }, 0);

const order = (set: HotSet) => [...set.byAge()].map((k) => k.domain);

test("least recently used first: admit and touch make a record the newest", () => {
  const set = new HotSet();
  const [a, b, c] = ["a", "b", "c"].map(record) as [Known, Known, Known];
  for (const k of [a, b, c]) set.admit(k, 10);
  assert.deepEqual(order(set), ["a", "b", "c"]);
  set.touch(a);
  assert.deepEqual(order(set), ["b", "c", "a"]);
  set.touch(a); // already the newest
  set.touch(c);
  assert.deepEqual(order(set), ["b", "a", "c"]);
  // A new record for a held domain replaces the old one in place of newest.
  const b2 = record("b");
  set.admit(b2, 10);
  assert.deepEqual(order(set), ["a", "c", "b"]);
  assert.equal(set.get("b"), b2);
  assert.equal(set.size, 3);
  // The replaced record is out of the list: touching it changes nothing.
  set.touch(b);
  assert.deepEqual(order(set), ["a", "c", "b"]);
});

test("admit evicts the least recently used beyond max; delete and clear unlink", () => {
  const set = new HotSet();
  for (const d of ["a", "b", "c"]) set.admit(record(d), 3);
  set.touch(set.get("a") as Known);
  set.admit(record("d"), 3);
  assert.deepEqual(order(set), ["c", "a", "d"]);
  assert.equal(set.get("b"), undefined);
  assert.equal(set.delete("a"), true);
  assert.equal(set.delete("a"), false);
  assert.deepEqual(order(set), ["c", "d"]);
  const d = set.get("d") as Known;
  set.clear();
  assert.equal(set.size, 0);
  assert.deepEqual(order(set), []);
  set.touch(d); // no longer held: ignored
  assert.deepEqual(order(set), []);
  set.admit(record("e"), 0);
  assert.equal(set.size, 0);
});

test("random operations keep the same order and contents as a Map re-inserted on use", () => {
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const set = new HotSet();
  const model = new Map<string, Known>();
  const max = 20;
  for (let step = 0; step < 20_000; step++) {
    const domain = `d${random(40)}`;
    const op = random(10);
    if (op < 4) {
      const k = record(domain);
      set.admit(k, max);
      model.delete(domain);
      model.set(domain, k);
      while (model.size > max) model.delete(model.keys().next().value as string);
    } else if (op < 9) {
      const k = set.get(domain);
      assert.equal(k, model.get(domain));
      if (k) {
        set.touch(k);
        model.delete(domain);
        model.set(domain, k);
      }
    } else {
      assert.equal(set.delete(domain), model.delete(domain));
    }
    assert.equal(set.size, model.size);
    if (step % 500 === 0) assert.deepEqual(order(set), [...model.keys()]);
  }
  assert.deepEqual(order(set), [...model.keys()]);
  assert.deepEqual(new Set(set.values()), new Set(model.values()));
});
