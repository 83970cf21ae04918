// The policies the lookup path answers from, in least-recently-used order.
// A Map finds a record; the order is a doubly linked list threaded through
// the records themselves (Known.newer/older). A hit then moves a record with
// a few field writes, where re-inserting it into a Map (the usual JS LRU)
// costs a delete and an insert, ~90 ns per hit with 1,000 records and ~300
// with 100,000, and leaves holes that make V8 rebuild the whole table now
// and then.

import type { Known } from "./known.ts";

export class HotSet {
  readonly #records = new Map<string, Known>();
  #newest: Known | null = null;
  #oldest: Known | null = null;

  get size(): number {
    return this.#records.size;
  }

  get(domain: string): Known | undefined {
    return this.#records.get(domain);
  }

  /** Makes a record held here the most recently used; ignores any other. */
  touch(known: Known): void {
    if (known === this.#newest || !this.#holds(known)) return;
    this.#unlink(known);
    this.#link(known);
  }

  /**
   * Stores `known` as the newest record for its domain, replacing the one held
   * before, then evicts the least recently used beyond `max`.
   */
  admit(known: Known, max: number): void {
    const domain = known.domain;
    const before = this.#records.get(domain);
    if (before !== undefined) this.#unlink(before);
    this.#records.set(domain, known);
    this.#link(known);
    while (this.#records.size > max && this.#oldest !== null) {
      this.delete(this.#oldest.domain);
    }
  }

  delete(domain: string): boolean {
    const known = this.#records.get(domain);
    if (known === undefined) return false;
    this.#records.delete(domain);
    this.#unlink(known);
    return true;
  }

  clear(): void {
    for (const known of this.#records.values()) known.newer = known.older = null;
    this.#records.clear();
    this.#newest = this.#oldest = null;
  }

  /** The records, in no particular order; deleting while iterating is allowed. */
  values(): IterableIterator<Known> {
    return this.#records.values();
  }

  /** Least recently used first. */
  *byAge(): Generator<Known> {
    for (let k = this.#oldest; k !== null; k = k.newer) yield k;
  }

  #holds(known: Known): boolean {
    return known.newer !== null || known.older !== null || this.#oldest === known;
  }

  #link(known: Known): void {
    known.older = this.#newest;
    known.newer = null;
    if (this.#newest !== null) this.#newest.newer = known;
    this.#newest = known;
    if (this.#oldest === null) this.#oldest = known;
  }

  #unlink(known: Known): void {
    const { newer, older } = known;
    if (newer !== null) newer.older = older;
    else if (this.#newest === known) this.#newest = older;
    if (older !== null) older.newer = newer;
    else if (this.#oldest === known) this.#oldest = newer;
    known.newer = known.older = null;
  }
}
