// Prometheus text exposition (version 0.0.4) for the resolver, written by
// hand: a handful of counters and one histogram do not justify a dependency.

import type { DiscoveryEvent } from "./discovery.ts";
import type { ReplyKind } from "./lookup.ts";

const BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface ResolverMetrics {
  lookup(kind: ReplyKind, ms: number): void;
  discovery(e: DiscoveryEvent): void;
  connection(delta: 1 | -1): void;
  badRequest(reason: string): void;
  /** The exposition text; `gauges` are sampled at scrape time. */
  render(gauges: Record<string, number>): string;
}

/**
 * Counts by label value. Every lookup bumps two of these, and one label value
 * usually follows another of the same (a run of cache hits), so the cell last
 * used is kept: a string compare instead of two hash-map probes per count.
 */
class Labelled {
  readonly cells = new Map<string, { n: number }>();
  #lastKey: string | null = null;
  #last: { n: number } = { n: 0 };

  inc(key: string): void {
    if (key !== this.#lastKey) {
      let cell = this.cells.get(key);
      if (cell === undefined) {
        cell = { n: 0 };
        this.cells.set(key, cell);
      }
      this.#lastKey = key;
      this.#last = cell;
    }
    this.#last.n++;
  }
}

export function createMetrics(): ResolverMetrics {
  const lookups = new Labelled();
  const cache = new Labelled();
  const fetches = new Labelled();
  const txt = new Labelled();
  const bad = new Labelled();
  const dane = new Labelled();
  const buckets = new Array<number>(BUCKETS_MS.length).fill(0);
  let sumMs = 0;
  let count = 0;
  let open = 0;
  let storeErrors = 0;

  return {
    lookup(kind, ms) {
      lookups.inc(kind);
      sumMs += ms;
      count++;
      for (let i = 0; i < BUCKETS_MS.length; i++) {
        if (ms <= (BUCKETS_MS[i] as number)) {
          buckets[i] = (buckets[i] as number) + 1;
          break;
        }
      }
    },
    discovery(e) {
      if (e.type === "cache") cache.inc(e.result);
      else if (e.type === "fetch") fetches.inc(e.ok ? "ok" : e.kind);
      else if (e.type === "txt") txt.inc(e.outcome);
      else if (e.type === "dane") dane.inc(e.verdict);
      else if (e.type === "store-error") storeErrors++;
    },
    connection(delta) {
      open += delta;
    },
    badRequest(reason) {
      bad.inc(reason);
    },
    render(gauges) {
      const out: string[] = [];
      const family = (name: string, type: string, help: string) =>
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      const labelled = (name: string, label: string, m: Labelled) => {
        for (const [k, v] of m.cells) out.push(`${name}{${label}="${k}"} ${v.n}`);
      };
      family("mtasts_resolver_lookups_total", "counter", "Socketmap lookups by reply.");
      labelled("mtasts_resolver_lookups_total", "reply", lookups);
      family("mtasts_resolver_cache_total", "counter", "Policy cache results per lookup.");
      labelled("mtasts_resolver_cache_total", "result", cache);
      family("mtasts_resolver_txt_lookups_total", "counter", "_mta-sts TXT lookups by outcome.");
      labelled("mtasts_resolver_txt_lookups_total", "outcome", txt);
      family("mtasts_resolver_fetches_total", "counter", "Policy fetches: ok or failure kind.");
      labelled("mtasts_resolver_fetches_total", "result", fetches);
      family("mtasts_resolver_dane_total", "counter", "Destinations answered with DANE.");
      labelled("mtasts_resolver_dane_total", "verdict", dane);
      family("mtasts_resolver_bad_requests_total", "counter", "Requests refused by reason.");
      labelled("mtasts_resolver_bad_requests_total", "reason", bad);
      family("mtasts_resolver_store_errors_total", "counter", "Persistent cache errors.");
      out.push(`mtasts_resolver_store_errors_total ${storeErrors}`);
      family("mtasts_resolver_connections", "gauge", "Open socketmap connections.");
      out.push(`mtasts_resolver_connections ${open}`);
      for (const [name, value] of Object.entries(gauges)) {
        family(`mtasts_resolver_${name}`, "gauge", name.replaceAll("_", " "));
        out.push(`mtasts_resolver_${name} ${value}`);
      }
      const h = "mtasts_resolver_lookup_duration_seconds";
      family(h, "histogram", "Socketmap lookup latency.");
      let cumulative = 0;
      BUCKETS_MS.forEach((le, i) => {
        cumulative += buckets[i] as number;
        out.push(`${h}_bucket{le="${le / 1000}"} ${cumulative}`);
      });
      out.push(
        `${h}_bucket{le="+Inf"} ${count}`,
        `${h}_sum ${sumMs / 1000}`,
        `${h}_count ${count}`,
      );
      return `${out.join("\n")}\n`;
    },
  };
}

/**
 * The process's memory as gauges, so a fleet's dashboards can tell cached
 * policies (heap) from V8/allocator slack (resident minus heap) without /proc.
 */
export function memoryGauges(): Record<string, number> {
  const m = process.memoryUsage();
  return {
    memory_resident_bytes: m.rss,
    memory_heap_total_bytes: m.heapTotal,
    memory_heap_used_bytes: m.heapUsed,
    memory_external_bytes: m.external,
  };
}
