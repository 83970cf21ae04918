// A one-line progress bar on standard error, only when it is a terminal and
// the run is long enough to need one; redrawn at most ten times a second.

const MIN_INPUTS = 20;
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  readonly #out: { write(s: string): unknown };
  readonly #total: number;
  readonly #on: boolean;
  #done = 0;
  #counts = new Map<string, number>();
  #drawnAt = 0;
  #visible = false;

  constructor(out: { write(s: string): unknown; isTTY?: boolean }, total: number) {
    this.#out = out;
    this.#total = total;
    this.#on = Boolean(out.isTTY) && total >= MIN_INPUTS && process.env.TERM !== "dumb";
  }

  step(status: string): void {
    this.#done++;
    this.#counts.set(status, (this.#counts.get(status) ?? 0) + 1);
    const now = Date.now();
    if (
      this.#on &&
      (!this.#visible || now - this.#drawnAt >= REDRAW_MS || this.#done === this.#total)
    ) {
      this.#drawnAt = now;
      this.#draw();
    }
  }

  /** Takes the bar off the line, so an outcome line can be written cleanly. */
  clear(): void {
    if (this.#visible) this.#out.write("\r\x1b[K");
    this.#visible = false;
  }

  done(): void {
    this.clear();
  }

  #draw(): void {
    const filled = Math.round((BAR_WIDTH * this.#done) / this.#total);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const counts = [...this.#counts].map(([k, v]) => `${v} ${k}`).join(", ");
    this.#out.write(`\r\x1b[K${bar} ${this.#done}/${this.#total}  ${counts}`);
    this.#visible = true;
  }
}
