// When each managed domain is next checked. Each domain's next check is its
// last run plus the interval, stretched or shrunk by up to 10% at random, so
// domains checked together at start drift apart and a fleet of monitors does
// not hit shared MX hosts in step. Domains never checked are due at once.

const JITTER = 0.1;

export class CheckSchedule {
  private readonly due = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly random: () => number;

  constructor(intervalMs: number, random: () => number) {
    this.intervalMs = intervalMs;
    this.random = random;
  }

  /** Records a run of `domain` at `at` and draws its next due time. */
  ran(domain: string, at: Date): void {
    const factor = 1 - JITTER + 2 * JITTER * this.random();
    this.due.set(domain, at.getTime() + Math.round(this.intervalMs * factor));
  }

  /** The domains due at `now`, in the order given. */
  dueAt(domains: readonly string[], now: Date): string[] {
    return domains.filter((d) => (this.due.get(d) ?? 0) <= now.getTime());
  }

  /** Milliseconds from `now` until the next domain is due (0 when one is due already). */
  untilNext(domains: readonly string[], now: Date): number {
    let next = Number.POSITIVE_INFINITY;
    for (const d of domains) next = Math.min(next, this.due.get(d) ?? 0);
    return Math.max(0, next - now.getTime());
  }
}
