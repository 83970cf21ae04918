// A set of domain names kept as 64-bit hashes in typed arrays: 16 bytes a slot
// instead of a string and a Map entry (~100 bytes), so remembering a million
// names costs ~20 MB. Two different names share a hash with probability about
// n²/2⁶⁵ (3·10⁻⁸ for a million): then the second is taken for a duplicate.
//
// With `maxSlots`, the set never grows past it: when full it forgets
// everything and starts again (`resets` counts how often), which bounds
// memory at the cost of rescanning duplicates that are far apart.

const EMPTY = 0;

export class SeenSet {
  #hi: Uint32Array;
  #lo: Uint32Array;
  #size = 0;
  readonly #maxSlots: number;
  resets = 0;

  constructor(options: { initialSlots?: number; maxSlots?: number } = {}) {
    this.#maxSlots = options.maxSlots ?? Number.POSITIVE_INFINITY;
    const slots = Math.min(powerOfTwo(options.initialSlots ?? 1 << 12), this.#maxSlots);
    this.#hi = new Uint32Array(slots);
    this.#lo = new Uint32Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  has(name: string): boolean {
    const [hi, lo] = hash(name);
    return this.#find(hi, lo) >= 0;
  }

  /** Adds the name; false when it was already there. */
  add(name: string): boolean {
    const [hi, lo] = hash(name);
    if (this.#find(hi, lo) >= 0) return false;
    if ((this.#size + 1) * 4 > this.#hi.length * 3) {
      if (this.#hi.length * 2 <= this.#maxSlots) this.#grow();
      else {
        this.#hi.fill(0);
        this.#lo.fill(0);
        this.#size = 0;
        this.resets++;
      }
    }
    this.#insert(hi, lo);
    return true;
  }

  #find(hi: number, lo: number): number {
    const mask = this.#hi.length - 1;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      const h = this.#hi[i] as number;
      const l = this.#lo[i] as number;
      if (h === EMPTY && l === EMPTY) return -1;
      if (h === hi && l === lo) return i;
    }
  }

  #insert(hi: number, lo: number): void {
    const mask = this.#hi.length - 1;
    let i = (hi ^ lo) & mask;
    while (this.#hi[i] !== EMPTY || this.#lo[i] !== EMPTY) i = (i + 1) & mask;
    this.#hi[i] = hi;
    this.#lo[i] = lo;
    this.#size++;
  }

  #grow(): void {
    const [oldHi, oldLo] = [this.#hi, this.#lo];
    this.#hi = new Uint32Array(oldHi.length * 2);
    this.#lo = new Uint32Array(oldLo.length * 2);
    this.#size = 0;
    for (let i = 0; i < oldHi.length; i++) {
      const h = oldHi[i] as number;
      const l = oldLo[i] as number;
      if (h !== EMPTY || l !== EMPTY) this.#insert(h, l);
    }
  }
}

function powerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/** Two independent 32-bit FNV-1a hashes, each finished with murmur3's mixer. */
function hash(name: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  a = mix(a ^ name.length);
  b = mix(b + 0x9e3779b9);
  // (0, 0) marks an empty slot.
  return a === EMPTY && b === EMPTY ? [0, 1] : [a >>> 0, b >>> 0];
}

function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
