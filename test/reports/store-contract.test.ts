// The ReportStore contract, run against SQLite and PostgreSQL over real
// connections, through the one ingest path: every sample stored with the
// totals of expected.json, dedup (RPT-RCV-05), the normalised view and the raw
// bytes, the questions (summary, list), retention and migrations.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { extractReport } from "../../src/adapters/report-source.ts";
import {
  parseTlsrptReport,
  type ReportPolicy,
  type TlsrptReport,
} from "../../src/core/tlsrpt-report.ts";
import { openReportReader } from "../../src/reports/dashboard-reader.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import { sha256Hex } from "../../src/reports/raw.ts";
import { openReportStore, type ReportStore, StoreError } from "../../src/reports/store.ts";
import type { IngestOutcome } from "../../src/reports/types.ts";
import {
  backends,
  type ExpectedSample,
  expectedSamples,
  freshStore,
  sampleBytes,
} from "./backends.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A store input for `report`, filed under `id` by one reporter, with `bytes` as its raw form. */
const storeInput = (report: TlsrptReport, id: string, bytes: Uint8Array) => ({
  report,
  reporterKey: "sender ltd",
  reportKey: id,
  contentSha256: sha256Hex(bytes),
  receivedAt: new Date(),
  channel: "file" as const,
  origin: null,
  dkim: null,
  raw: bytes,
  warnings: [],
});

function report(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "organization-name": "Sender Ltd",
    "date-range": {
      "start-datetime": "2026-03-01T00:00:00Z",
      "end-datetime": "2026-03-01T23:59:59Z",
    },
    "contact-info": "tlsrpt@sender.example",
    "report-id": "2026-03-01_contract",
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": [
            "version: STSv1",
            "mode: enforce",
            "mx: mx.example.net",
            "max_age: 86400",
          ],
          "policy-domain": "example.net",
          "mx-host": ["mx.example.net"],
        },
        summary: { "total-successful-session-count": 10, "total-failure-session-count": 2 },
        "failure-details": [
          {
            "result-type": "certificate-expired",
            "receiving-mx-hostname": "MX.example.net",
            "failed-session-count": 2,
          },
        ],
      },
    ],
    ...over,
  };
}

const distinctKey = (s: ExpectedSample) =>
  `${s["organization-name"].trim().toLowerCase()}\n${s["report-id"].replace(/^<(.*)>$/, "$1")}`;

function stored(o: IngestOutcome): Extract<IngestOutcome, { status: "stored" | "duplicate" }> {
  assert.ok(o.status === "stored" || o.status === "duplicate", `not stored: ${JSON.stringify(o)}`);
  return o;
}

// Probed before any suite is declared: node:test starts running once the file's body yields.
const skips = await Promise.all(backends.map((b) => b.skip()));

for (const [i, backend] of backends.entries()) {
  const skip = skips[i] ?? false;

  describe(`report store contract: ${backend.name}`, { skip }, () => {
    describe("all samples in one store", () => {
      let store: ReportStore;
      let done: () => Promise<void>;
      const outcomes = new Map<string, IngestOutcome>();

      before(async () => {
        ({ store, done } = await freshStore(backend));
        for (const s of expectedSamples) {
          outcomes.set(
            s.file,
            await ingestReport(store, {
              bytes: sampleBytes(s.file),
              channel: "file",
              origin: s.file,
            }),
          );
        }
      });
      after(() => done());

      test("RPT-RCV-01 RPT-RCV-02 RPT-RCV-06 every sample is stored with the totals in expected.json", async () => {
        for (const s of expectedSamples) {
          const o = stored(outcomes.get(s.file) as IngestOutcome);
          const got = await store.getReport(o.id);
          assert.ok(got, s.file);
          assert.equal(got.organization, s["organization-name"], s.file);
          assert.equal(got.reportId, s["report-id"], s.file);
          assert.equal(got.start, s["start-datetime"], s.file);
          assert.equal(got.end, s["end-datetime"], s.file);
          assert.equal(got.successful, s["total-successful-session-count"], s.file);
          assert.equal(got.failed, s["total-failure-session-count"], s.file);
          assert.equal(got.report.policies.length, s.policies, s.file);
          assert.deepEqual(got.domains, s["policy-domains"], s.file);
          const types = new Set(
            got.report.policies.flatMap((p) => p["failure-details"].map((d) => d["result-type"])),
          );
          assert.deepEqual([...types].sort(), s["result-types"], s.file);
        }
      });

      test("RPT-RCV-05 samples that carry the same report are stored once", async () => {
        const distinct = new Set(expectedSamples.map(distinctKey));
        const counts = await store.counts();
        assert.equal(counts.reports, distinct.size);
        const statuses = [...outcomes.values()].map((o) => o.status);
        assert.equal(statuses.filter((s) => s === "stored").length, distinct.size);
        assert.equal(
          statuses.filter((s) => s === "duplicate").length,
          expectedSamples.length - distinct.size,
        );
        // Each copy points at the one stored report.
        const byKey = new Map<string, string>();
        for (const s of expectedSamples) {
          const id = stored(outcomes.get(s.file) as IngestOutcome).id;
          const seen = byKey.get(distinctKey(s));
          if (seen !== undefined) assert.equal(id, seen, s.file);
          byKey.set(distinctKey(s), id);
        }
      });

      test("summary total is the sum over distinct reports; every grouping agrees", async () => {
        const distinct = new Map(expectedSamples.map((s) => [distinctKey(s), s]));
        const want = { successful: 0, failed: 0 };
        for (const s of distinct.values()) {
          want.successful += s["total-successful-session-count"];
          want.failed += s["total-failure-session-count"];
        }
        for (const by of ["day", "reporter", "domain"] as const) {
          const sum = await store.summary({}, by);
          assert.deepEqual(sum.total, want, by);
          assert.equal(sum.reports, distinct.size, by);
          const rows = sum.rows.reduce(
            (t, r) => ({
              successful: t.successful + (r.successful ?? 0),
              failed: t.failed + r.failed,
            }),
            { successful: 0, failed: 0 },
          );
          if (by !== "domain") assert.deepEqual(rows, want, by);
        }
        const byReporter = await store.summary({}, "reporter");
        const companyX = byReporter.rows.find((r) => r.key === "Company-X");
        assert.deepEqual(companyX, {
          key: "Company-X",
          reports: 2,
          successful: 10652,
          failed: 606,
        });
      });

      test("RPT-RES-01 summary by result-type keeps types verbatim; by mx groups failure details", async () => {
        const byType = await store.summary({}, "result-type");
        const keys = byType.rows.map((r) => r.key).sort();
        const want = [...new Set(expectedSamples.flatMap((s) => s["result-types"]))].sort();
        assert.deepEqual(keys, want);
        for (const r of byType.rows) assert.equal(r.successful, undefined);
        const expired = byType.rows.find((r) => r.key === "certificate-expired");
        // RFC example (Company-X, twice under two report-ids) 100 each, plus isseis' 2.
        assert.deepEqual(expired, { key: "certificate-expired", reports: 3, failed: 202 });
        const byMx = await store.summary({ domain: "company-y.example" }, "mx");
        assert.deepEqual(
          byMx.rows.map((r) => [r.key, r.failed]),
          [
            ["mx2.mail.company-y.example", 200],
            ["mx1.mail.company-y.example", 100],
            ["mx-backup.mail.company-y.example", 3],
          ],
        );
        assert.deepEqual(byMx.total, { successful: 5326, failed: 303 });
      });

      test("summary --domain counts only that domain's policies; periods overlap half-open", async () => {
        const example = expectedSamples.filter((s) => s["policy-domains"].includes("example.com"));
        const distinct = new Map(example.map((s) => [distinctKey(s), s]));
        const sum = await store.summary({ domain: "example.com" }, "day");
        assert.equal(sum.reports, distinct.size);
        assert.equal(
          sum.total.successful,
          [...distinct.values()].reduce((n, s) => n + s["total-successful-session-count"], 0),
        );
        // cryinc-no-contact-null: 2026-01-11T00:00:00Z … 2026-01-12T00:00:00Z.
        const at = (d: string) => new Date(d);
        const within = await store.summary(
          { since: at("2026-01-11T12:00:00Z"), until: at("2026-01-11T13:00:00Z") },
          "day",
        );
        assert.equal(within.reports, 1);
        const endsAtSince = await store.summary(
          { since: at("2026-01-12T00:00:00Z"), until: at("2026-01-13T00:00:00Z") },
          "day",
        );
        assert.equal(endsAtSince.reports, 0, "a period ending at --since is not selected");
        const startsAtUntil = await store.summary(
          { since: at("2026-01-10T00:00:00Z"), until: at("2026-01-11T00:00:00Z") },
          "day",
        );
        assert.equal(startsAtUntil.reports, 0, "a period starting at --until is not selected");
      });

      test("list: newest period end first, filtered by domain, limited", async () => {
        const all = await store.listReports({}, 0);
        assert.equal(all.length, (await store.counts()).reports);
        const ends = all.map((r) => r.end);
        assert.deepEqual(ends, [...ends].sort().reverse());
        const two = await store.listReports({}, 2);
        assert.deepEqual(two, all.slice(0, 2));
        const org = await store.listReports({ domain: "example.org" }, 0);
        assert.deepEqual(
          org.map((r) => [r.organization, r.domains]),
          [["Example LLC.", ["example.org"]]],
        );
      });

      test("show: the normalised report equals the parser's; raw bytes come back exactly", async () => {
        for (const s of expectedSamples) {
          const o = stored(outcomes.get(s.file) as IngestOutcome);
          if (o.status !== "stored") continue;
          const got = await store.getReport(o.id);
          const extracted = await extractReport(sampleBytes(s.file));
          assert.ok(extracted.ok);
          const parsed = parseTlsrptReport(extracted.json);
          assert.ok(parsed.ok);
          // Policy domains are stored in their lowercase key form.
          const want = structuredClone(parsed.value);
          for (const p of want.policies) {
            const d = p.policy["policy-domain"];
            if (d !== null) p.policy["policy-domain"] = d.toLowerCase();
          }
          assert.deepEqual(got?.report, want, s.file);
          assert.deepEqual(
            got?.warnings.map((w) => w.code),
            [...extracted.diagnostics, ...parsed.diagnostics].map((w) => w.code),
            s.file,
          );
          assert.deepEqual(await store.getReportRaw(o.id), sampleBytes(s.file), s.file);
        }
        assert.equal(await store.getReport("999999"), null);
        assert.equal(await store.getReport("nope"), null);
        assert.equal(await store.getReportRaw("-1"), null);
      });

      test("an e-mail file records DKIM as unchecked when no verifier is given; JSON and gzip record none", async () => {
        for (const s of expectedSamples) {
          const o = stored(outcomes.get(s.file) as IngestOutcome);
          if (o.status !== "stored") continue;
          const got = await store.getReport(o.id);
          assert.equal(got?.channel, "file");
          if (s.file.endsWith(".eml")) assert.equal(got?.dkim, "unchecked", s.file);
          else assert.deepEqual([got?.dkim, got?.dkimDetail], [null, null], s.file);
        }
      });
    });

    test("RPT-RCV-02 every .eml sample arriving as mail (smtp, imap, maildir) is stored with its expected totals", async () => {
      const { store, done } = await freshStore(backend);
      try {
        const channels = ["smtp", "imap", "maildir"] as const;
        const mails = expectedSamples.filter((s) => s.file.endsWith(".eml"));
        assert.ok(mails.length >= 6);
        for (const [i, s] of mails.entries()) {
          const channel = channels[i % channels.length] as (typeof channels)[number];
          const o = stored(await ingestReport(store, { bytes: sampleBytes(s.file), channel }));
          const got = await store.getReport(o.id);
          assert.ok(got, s.file);
          assert.deepEqual(
            [got.organization, got.reportId, got.successful, got.failed, got.domains],
            [
              s["organization-name"],
              s["report-id"],
              s["total-successful-session-count"],
              s["total-failure-session-count"],
              s["policy-domains"],
            ],
            s.file,
          );
          if (o.status === "stored") {
            assert.equal(got.channel, channel);
            assert.equal(got.dkim, "unchecked");
          }
        }
      } finally {
        await done();
      }
    });

    describe("dedup", () => {
      let store: ReportStore;
      let done: () => Promise<void>;
      before(async () => {
        ({ store, done } = await freshStore(backend));
      });
      after(() => done());

      test("RPT-RCV-05 the same bytes twice: duplicate, same id, nothing changes", async () => {
        const bytes = enc(JSON.stringify(report({ "report-id": "same-bytes" })));
        const first = stored(await ingestReport(store, { bytes, channel: "https" }));
        const before = await store.counts();
        const again = await ingestReport(store, { bytes, channel: "file" });
        assert.deepEqual(again, { ...first, status: "duplicate" });
        assert.deepEqual(await store.counts(), before);
        assert.equal((await store.getReport(first.id))?.channel, "https");
      });

      test("RPT-RCV-05 the same reporter and report-id in other bytes (reformatted, gzipped, in <>) is a duplicate", async () => {
        const r = report({ "report-id": "reformatted" });
        const first = stored(
          await ingestReport(store, { bytes: enc(JSON.stringify(r)), channel: "https" }),
        );
        const before = await store.counts();
        const { gzipSync } = await import("node:zlib");
        const variants = [
          enc(JSON.stringify(r, null, 2)),
          new Uint8Array(gzipSync(JSON.stringify(r))),
          enc(JSON.stringify({ ...r, "report-id": "<reformatted>" })),
          enc(JSON.stringify({ ...r, "organization-name": "  sender LTD " })),
        ];
        for (const bytes of variants) {
          const o = await ingestReport(store, { bytes, channel: "file" });
          assert.equal(o.status, "duplicate");
          assert.equal(stored(o).id, first.id);
        }
        assert.deepEqual(await store.counts(), before);
      });

      test("RPT-RCV-05 the same report-id from another reporter is another report", async () => {
        const a = stored(
          await ingestReport(store, {
            bytes: enc(JSON.stringify(report({ "report-id": "shared-id" }))),
            channel: "file",
          }),
        );
        const b = stored(
          await ingestReport(store, {
            bytes: enc(
              JSON.stringify(
                report({ "report-id": "shared-id", "organization-name": "Other Org" }),
              ),
            ),
            channel: "file",
          }),
        );
        assert.equal(a.status, "stored");
        assert.equal(b.status, "stored");
        assert.notEqual(a.id, b.id);
      });

      test("the same bytes count once even when they would no longer parse (content hash first)", async () => {
        // A report stored under the hash of bytes today's parser refuses, as if parsing changed since.
        const refused = enc("{ this was a report once }");
        const parsed = parseTlsrptReport(JSON.stringify(report({ "report-id": "parser-changed" })));
        assert.ok(parsed.ok);
        const put = await store.insertReport(storeInput(parsed.value, "parser-changed", refused));
        const o = await ingestReport(store, { bytes: refused, channel: "file" });
        assert.deepEqual(o, {
          status: "duplicate",
          id: put.id,
          reportId: "parser-changed",
          organization: "Sender Ltd",
        });
        assert.equal((await store.counts()).quarantined, 0);
      });

      test("RPT-RCV-05 the same report arriving on many intakes at once is stored once", async () => {
        const bytes = enc(JSON.stringify(report({ "report-id": "concurrent" })));
        const reformatted = enc(JSON.stringify(report({ "report-id": "concurrent" }), null, 1));
        const before = await store.counts();
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            ingestReport(store, { bytes: i % 2 ? bytes : reformatted, channel: "https" }),
          ),
        );
        assert.equal(outcomes.filter((o) => o.status === "stored").length, 1);
        assert.equal(new Set(outcomes.map((o) => stored(o).id)).size, 1);
        const after = await store.counts();
        assert.equal(after.reports, before.reports + 1);
        assert.equal(after.policies, before.policies + 1);
        assert.equal(after.failureDetails, before.failureDetails + 1);
      });
    });

    describe("group commit", () => {
      test("reports handed in together are committed together; one failing report fails alone", async () => {
        const { store, done } = await freshStore(backend);
        try {
          const make = (id: string, successful: number) => {
            const parsed = parseTlsrptReport(JSON.stringify(report({ "report-id": id })));
            assert.ok(parsed.ok);
            const value = structuredClone(parsed.value);
            const policy = value.policies[0];
            assert.ok(policy);
            // The schema's CHECK refuses a negative count, as a store fault would refuse a report.
            policy.summary["total-successful-session-count"] = successful;
            return storeInput(value, id, enc(JSON.stringify(value)));
          };
          const settled = await Promise.allSettled([
            store.insertReport(make("group-1", 1)),
            store.insertReport(make("group-2", -1)),
            store.insertReport(make("group-3", 3)),
            store.insertReport(make("group-1", 1)),
          ]);
          assert.deepEqual(
            settled.map((s) => (s.status === "fulfilled" ? s.value.status : "rejected")),
            ["stored", "rejected", "stored", "duplicate"],
          );
          const counts = await store.counts();
          assert.equal(counts.reports, 2);
          assert.equal(counts.policies, 2);
        } finally {
          await done();
        }
      });
    });

    describe("group commit, many at once", () => {
      test("a dozen reports handed in together: each stored with its own policies and details, duplicates and a failing one apart", async () => {
        const { store, done } = await freshStore(backend);
        try {
          const make = (id: string, successful: number, details: number) => {
            const text = JSON.stringify(
              report({
                "report-id": id,
                policies: Array.from({ length: 1 + (details % 3) }, (_, k) => ({
                  policy: {
                    "policy-type": "sts",
                    "policy-string": ["version: STSv1", "mode: enforce", `mx: mx${k}.example.net`],
                    "policy-domain": `d${k}.example.net`,
                    "mx-host": [`mx${k}.example.net`],
                  },
                  summary: {
                    "total-successful-session-count": Math.max(successful, 0) + k,
                    "total-failure-session-count": details,
                  },
                  "failure-details": Array.from({ length: details }, (_, j) => ({
                    "result-type": "certificate-expired",
                    "receiving-mx-hostname": `mx${k}-${j}.example.net`,
                    "failed-session-count": 1,
                  })),
                })),
              }),
            );
            const parsed = parseTlsrptReport(text);
            assert.ok(parsed.ok, id);
            const value = structuredClone(parsed.value);
            // The schema's CHECK refuses a negative count, as a store fault would refuse a report.
            if (successful < 0)
              (value.policies[0] as ReportPolicy).summary["total-successful-session-count"] = -1;
            const bytes = enc(text);
            return {
              input: storeInput(value, id, bytes),
              parsed: parsed.value,
              bytes,
            };
          };
          const first = make("many-0", 5, 2);
          const stored = await store.insertReport(first.input);
          assert.equal(stored.status, "stored");
          // Handed in together: the first few go alone while the rest queue, then
          // the queued ones are written as one group (PostgreSQL: one statement).
          const batch = [
            ...Array.from({ length: 10 }, (_, i) => make(`many-${i + 1}`, i, i % 4)),
            make("many-0", 5, 2),
          ];
          const settled = await Promise.all(batch.map((b) => store.insertReport(b.input)));
          assert.deepEqual(
            settled.map((s) => s.status),
            [...Array.from({ length: 10 }, () => "stored"), "duplicate"],
          );
          assert.equal(settled[10]?.id, stored.id);
          for (const [i, s] of settled.slice(0, 10).entries()) {
            const got = await store.getReport(s.id);
            assert.deepEqual(got?.report, batch[i]?.parsed, `many-${i + 1}`);
            assert.deepEqual(await store.getReportRaw(s.id), batch[i]?.bytes);
          }
          // A group with a report the store refuses: only that one fails.
          const mixed = [
            ...Array.from({ length: 6 }, (_, i) => make(`mixed-${i}`, i, 1)),
            make("many-bad", -1, 1),
            make("mixed-7", 7, 3),
          ];
          const outcomes = await Promise.allSettled(mixed.map((b) => store.insertReport(b.input)));
          assert.deepEqual(
            outcomes.map((s) => (s.status === "fulfilled" ? s.value.status : "rejected")),
            [...Array.from({ length: 6 }, () => "stored"), "rejected", "stored"],
          );
          assert.equal((await store.counts()).reports, 18);
        } finally {
          await done();
        }
      });
    });

    describe("copies handed in together", () => {
      test("RPT-RCV-05 copies of one report handed to the store at once: one stored, the rest duplicates of it", async () => {
        const { store, done } = await freshStore(backend);
        try {
          const parsed = parseTlsrptReport(JSON.stringify(report({ "report-id": "copies" })));
          assert.ok(parsed.ok);
          // Others first, so the store's writers are busy and the copies queue up
          // together; then copies with one dedup key, some with other bytes (as a
          // report re-sent by mail and by HTTPS is), some exact.
          const inputs = Array.from({ length: 16 }, (_, i) => {
            if (i < 8) {
              const other = parseTlsrptReport(
                JSON.stringify(report({ "report-id": `other-${i}` })),
              );
              assert.ok(other.ok);
              return storeInput(other.value, `other-${i}`, enc(`other ${i}`));
            }
            return storeInput(parsed.value, "copies", enc(i % 2 ? "copy A" : `copy B${i}`));
          });
          const results = await Promise.all(inputs.map((x) => store.insertReport(x)));
          const copies = results.slice(8);
          assert.equal(copies.filter((r) => r.status === "stored").length, 1);
          assert.equal(new Set(copies.map((r) => r.id)).size, 1);
          assert.equal((await store.counts()).reports, 8 + 1);
        } finally {
          await done();
        }
      });
    });

    describe("raw bytes", () => {
      const input = (id: string, end: string, pad = 0) => {
        const value = report({
          "report-id": id,
          "date-range": { "start-datetime": "2026-03-01T00:00:00Z", "end-datetime": end },
          // Real senders' padding and extensions make reports differ in size.
          ...(pad > 0 ? { "x-padding": "ab".repeat(pad) } : {}),
        });
        const text = JSON.stringify(value, null, (pad % 3) + 1);
        const parsed = parseTlsrptReport(text);
        assert.ok(parsed.ok, id);
        return {
          bytes: enc(text),
          input: (bytes: Uint8Array) => storeInput(parsed.value, id, bytes),
        };
      };

      test("reports stored together come back byte for byte: small, gzip, over 64 KiB, alone", async () => {
        const { store, db, done } = await freshStore(backend);
        try {
          const small = Array.from({ length: 40 }, (_, i) =>
            input(`raw-${i}`, "2026-03-01T23:59:59Z", i * 7),
          );
          const zipped = input("raw-gz", "2026-03-01T23:59:59Z");
          const gz = new Uint8Array(gzipSync(zipped.bytes));
          const big = input("raw-big", "2026-03-01T23:59:59Z", 40_000);
          assert.ok(big.bytes.length > 64 * 1024);
          const all = [
            ...small.map((r) => ({ bytes: r.bytes, put: r.input(r.bytes) })),
            { bytes: gz, put: zipped.input(gz) },
            { bytes: big.bytes, put: big.input(big.bytes) },
          ];
          const ids = await Promise.all(all.map((r) => store.insertReport(r.put)));
          for (const [i, r] of all.entries()) {
            const id = ids[i]?.id as string;
            assert.deepEqual(await store.getReportRaw(id), r.bytes, `report ${i}`);
            assert.equal((await store.getReport(id))?.rawSize, r.bytes.length);
          }
          // The small ones handed in together share packs: SQLite writes them as one
          // transaction; PostgreSQL sends the first alone and groups the rest.
          const reader = await openReportReader(db);
          const [packs] = await reader.sql.all(
            `SELECT (SELECT count(*) FROM tlsrpt_raw_packs) AS packs,
               (SELECT count(*) FROM tlsrpt_reports WHERE raw_pack IS NOT NULL) AS packed`,
          );
          await reader.close();
          const [n, packed] = [Number(packs?.packs), Number(packs?.packed)];
          if (backend.name === "sqlite") assert.equal(n, 1);
          else assert.ok(n >= 1, `${n} packs`);
          assert.ok(packed >= 30, `${packed} reports packed in ${n} packs`);
          const alone = input("raw-alone", "2026-03-01T23:59:59Z", 3);
          const one = await store.insertReport(alone.input(alone.bytes));
          assert.deepEqual(await store.getReportRaw(one.id), alone.bytes);
        } finally {
          await done();
        }
      });

      test("pruning some reports stored together keeps the others' raw bytes; the last one takes them all", async () => {
        const { store, db, done } = await freshStore(backend);
        const reader = await openReportReader(db);
        try {
          const mixed = Array.from({ length: 12 }, (_, i) =>
            input(`prune-${i}`, i % 2 ? "2026-03-01T23:59:59Z" : "2026-01-01T23:59:59Z", i),
          );
          const ids = await Promise.all(mixed.map((r) => store.insertReport(r.input(r.bytes))));
          const pruned = await store.prune(new Date("2026-02-01T00:00:00Z"), { dryRun: false });
          assert.equal(pruned.reports, 6);
          for (const [i, r] of mixed.entries()) {
            const raw = await store.getReportRaw(ids[i]?.id as string);
            assert.deepEqual(raw, i % 2 ? r.bytes : null, `prune-${i}`);
          }
          await store.prune(new Date("2026-04-01T00:00:00Z"), { dryRun: false });
          assert.equal((await store.counts()).reports, 0);
          const [left] = await reader.sql.all("SELECT count(*) AS n FROM tlsrpt_raw_packs");
          assert.equal(Number(left?.n), 0, "no pack outlives its reports");
        } finally {
          await reader.close();
          await done();
        }
      });
    });

    describe("failure details", () => {
      test("a report with dozens of failure details over two policies reads back as parsed, in order", async () => {
        const { store, done } = await freshStore(backend);
        try {
          const details = (n: number, mx: string) =>
            Array.from({ length: n }, (_, i) => ({
              "result-type": i % 2 === 0 ? "certificate-expired" : "starttls-not-supported",
              "sending-mta-ip": `192.0.2.${i + 1}`,
              "receiving-mx-hostname": `${mx}${i}.example.net`,
              "failed-session-count": i + 1,
              ...(i % 3 === 0 ? { "additional-information": `https://example.net/${i}` } : {}),
            }));
          const sum = (n: number) => (n * (n + 1)) / 2;
          const base = report();
          const policy = (base.policies as Record<string, unknown>[])[0] as Record<string, unknown>;
          const text = JSON.stringify({
            ...base,
            "report-id": "many-details",
            policies: [
              {
                ...policy,
                summary: {
                  "total-successful-session-count": 1,
                  "total-failure-session-count": sum(37),
                },
                "failure-details": details(37, "a"),
              },
              {
                ...policy,
                summary: {
                  "total-successful-session-count": 2,
                  "total-failure-session-count": sum(16),
                },
                "failure-details": details(16, "b"),
              },
            ],
          });
          const parsed = parseTlsrptReport(text);
          assert.ok(parsed.ok);
          const o = await ingestReport(store, { bytes: enc(text), channel: "file" });
          assert.ok(o.status === "stored");
          const got = await store.getReport(o.id);
          assert.deepEqual(got?.report, parsed.value);
          assert.equal(got?.failed, sum(37) + sum(16));
          assert.deepEqual(await store.getReportRaw(o.id), enc(text));
        } finally {
          await done();
        }
      });
    });

    describe("retention and migrations", () => {
      test("prune deletes reports that ended before the cutoff, with their rows; --dry-run only counts", async () => {
        const { store, done } = await freshStore(backend);
        try {
          const old = report({ "report-id": "old" });
          const recent = report({
            "report-id": "recent",
            "date-range": {
              "start-datetime": "2026-06-01T00:00:00Z",
              "end-datetime": "2026-06-01T23:59:59Z",
            },
          });
          const oldId = stored(
            await ingestReport(store, { bytes: enc(JSON.stringify(old)), channel: "file" }),
          ).id;
          stored(
            await ingestReport(store, { bytes: enc(JSON.stringify(recent)), channel: "file" }),
          );
          // A quarantine entry received long ago, and one received now.
          await ingestReport(store, {
            bytes: enc("not a report"),
            channel: "file",
            receivedAt: new Date("2025-01-01T00:00:00Z"),
          });
          await ingestReport(store, { bytes: enc("not a report either"), channel: "file" });
          const cutoff = new Date("2026-04-01T00:00:00Z");
          const before = await store.counts();
          assert.deepEqual(await store.prune(cutoff, { dryRun: true }), {
            reports: 1,
            quarantine: 1,
          });
          assert.deepEqual(await store.counts(), before);
          assert.deepEqual(await store.prune(cutoff, { dryRun: false }), {
            reports: 1,
            quarantine: 1,
          });
          const after = await store.counts();
          assert.deepEqual(after, {
            reports: 1,
            policies: 1,
            failureDetails: 1,
            quarantined: 1,
            resolved: 0,
          });
          assert.equal(await store.getReport(oldId), null);
          assert.equal(await store.getReportRaw(oldId), null);
          // The pruned report may come again: it is a new report then, not a duplicate.
          assert.equal(
            (await ingestReport(store, { bytes: enc(JSON.stringify(old)), channel: "file" }))
              .status,
            "stored",
          );
        } finally {
          await done();
        }
      });

      test("migrations: concurrent first opens agree; a reopen keeps the data; a newer schema is refused", async () => {
        const { db, cleanup } = await backend.fresh();
        try {
          const [a, b] = await Promise.all([openReportStore(db), openReportStore(db)]);
          stored(await ingestReport(a, { bytes: enc(JSON.stringify(report())), channel: "file" }));
          assert.equal((await b.counts()).reports, 1);
          await Promise.all([a.close(), b.close()]);
          const again = await openReportStore(db);
          assert.equal((await again.counts()).reports, 1);
          await again.close();
          await bumpSchema(backend.name, db);
          await assert.rejects(openReportStore(db), (err: Error) => {
            assert.ok(err instanceof StoreError);
            assert.match(err.message, /newer than this mtasts knows/);
            return true;
          });
        } finally {
          await cleanup();
        }
      });
    });
  });
}

/** Pretends a later mtasts migrated the store. */
async function bumpSchema(kind: string, db: string): Promise<void> {
  if (kind === "sqlite") {
    const { DatabaseSync } = await import("node:sqlite");
    const s = new DatabaseSync(db);
    s.exec("UPDATE tlsrpt_schema SET version = 99");
    s.close();
    return;
  }
  const { Client } = await import("pg");
  const url = new URL(db);
  const schema = url.searchParams.get("schema");
  url.searchParams.delete("schema");
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`UPDATE "${schema}".tlsrpt_schema SET version = 99`);
  } finally {
    await client.end();
  }
}
