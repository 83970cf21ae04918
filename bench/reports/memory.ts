// Memory while ingesting 10 MiB reports (the input cap), in a fresh process:
// RSS before, after each of RUNS ingests (after a GC), the live heap, and the
// peak. Flat means RSS levels off instead of growing with every report, and the
// live heap goes back to where it was: nothing is retained.
// Run by bench.ts as `node bench/reports/memory.ts`; prints one JSON line.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_INPUT_BYTES } from "../../src/adapters/report-source.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import { openReportStore } from "../../src/reports/store.ts";

/** Ingests of a 10 MiB report, each a different report of the same size. */
const RUNS = Number(process.env.MTASTS_BENCH_MEMORY_RUNS ?? 10);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
const rss = () => {
  gc();
  return mib(process.memoryUsage().rss);
};

/** One policy whose failure details fill the report to just under the 10 MiB cap. */
function bigReport(n: number): Uint8Array {
  const details = [];
  let size = 0;
  for (let i = 0; size < MAX_INPUT_BYTES - 4096; i++) {
    const d = {
      "result-type": "certificate-expired",
      "sending-mta-ip": `192.0.2.${i % 250}`,
      "receiving-mx-hostname": `mx${i % 7}.example.net`,
      "receiving-ip": `198.51.100.${i % 250}`,
      "failed-session-count": 1,
      "additional-information": `https://reports.sender.example/info?id=${n}-${i}&pad=${"x".repeat(40)}`,
    };
    size += JSON.stringify(d).length + 1;
    details.push(d);
  }
  const text = JSON.stringify({
    "organization-name": "Big Sender",
    "date-range": {
      "start-datetime": "2026-01-01T00:00:00Z",
      "end-datetime": "2026-01-01T23:59:59Z",
    },
    "contact-info": "tlsrpt@big.example",
    "report-id": `big-${n}`,
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": [
            "version: STSv1",
            "mode: enforce",
            "mx: *.example.net",
            "max_age: 86400",
          ],
          "policy-domain": "example.net",
        },
        summary: {
          "total-successful-session-count": 0,
          "total-failure-session-count": details.length,
        },
        "failure-details": details,
      },
    ],
  });
  return new TextEncoder().encode(text);
}

const given = process.argv[2];
if (given === undefined) {
  // Parent: write the inputs to files, then measure in a child whose memory never held the generator's objects.
  const dir = mkdtempSync(join(tmpdir(), "mtasts-bench-mem-"));
  try {
    for (let n = 0; n < RUNS; n++) writeFileSync(join(dir, `big-${n}.json`), bigReport(n));
    const out = execFileSync(process.execPath, ["--expose-gc", import.meta.filename, dir], {
      encoding: "utf8",
    });
    process.stdout.write(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const store = await openReportStore(join(given, "reports.db"));
  const start = rss();
  const after: number[] = [];
  const heap: number[] = [];
  const heapStart = mib(process.memoryUsage().heapUsed);
  let size = 0;
  for (let n = 0; n < RUNS; n++) {
    const input = new Uint8Array(readFileSync(join(given, `big-${n}.json`)));
    size = input.length;
    const o = await ingestReport(store, { bytes: input, channel: "https" });
    if (o.status !== "stored") throw new Error(JSON.stringify(o));
    after.push(rss());
    heap.push(mib(process.memoryUsage().heapUsed));
  }
  const details = (await store.counts()).failureDetails / RUNS;
  await store.close();
  console.log(
    JSON.stringify({
      reportBytes: size,
      failureDetails: details,
      rssStartMiB: start,
      rssAfterEachMiB: after,
      heapUsedStartMiB: heapStart,
      heapUsedAfterEachMiB: heap,
      peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    }),
  );
}
