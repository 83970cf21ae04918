// Bad and strange input through the one ingest path, on both stores: each is
// quarantined with a specific code and reason, bytes kept, memory and time
// bounded, nothing else lost (issue 7 "Bad input"); re-ingest after a fix;
// the DKIM policy for mailed reports (RPT-DLV-06).

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { createDkimVerifier } from "../../src/reports/dkim.ts";
import { ingestReport } from "../../src/reports/ingest.ts";
import { reingestQuarantined } from "../../src/reports/reingest.ts";
import type { ReportStore } from "../../src/reports/store.ts";
import type { IngestOptions, IngestOutcome } from "../../src/reports/types.ts";
import { backends, freshStore, sampleBytes } from "./backends.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function report(over: Record<string, unknown> = {}, policy: Record<string, unknown> = {}) {
  return {
    "organization-name": "Sender Ltd",
    "date-range": {
      "start-datetime": "2026-03-01T00:00:00Z",
      "end-datetime": "2026-03-01T23:59:59Z",
    },
    "contact-info": "tlsrpt@sender.example",
    "report-id": `bad-input-${Math.random().toString(36).slice(2)}`,
    policies: [
      {
        policy: { "policy-type": "no-policy-found", "policy-domain": "example.net" },
        summary: { "total-successful-session-count": 5, "total-failure-session-count": 0 },
        ...policy,
      },
    ],
    ...over,
  };
}

const json = (v: unknown) => enc(JSON.stringify(v));

/** gzip members concatenated inflate as one stream: 1 KiB of input per MiB of zeros. */
function gzipBomb(mib: number): Uint8Array {
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  return new Uint8Array(Buffer.concat(Array.from({ length: mib }, () => member)));
}

const MALFORMED_MIME = enc(
  "From: reports@sender.example\r\nSubject: TLS report\r\nContent-Type: multipart/report; report-type=tlsrpt\r\n\r\n--nowhere\r\nContent-Type: application/tlsrpt+gzip\r\n\r\n",
);

/** The cases of issue 7's "Bad input", with the code each must be quarantined with. */
const BAD: [name: string, bytes: () => Uint8Array, code: string, options?: IngestOptions][] = [
  ["empty input", () => new Uint8Array(), "input.empty"],
  [
    "truncated gzip",
    () => gzipSync(JSON.stringify(report())).subarray(0, 40),
    "input.gzip.truncated",
  ],
  [
    "corrupt gzip",
    () => Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff),
    "input.gzip.corrupt",
  ],
  ["nested gzip", () => gzipSync(gzipSync(JSON.stringify(report()))), "ingest.gzip.nested"],
  ["gzip bomb: 1 GiB of zeros in 1 MiB", () => gzipBomb(1024), "input.gzip.too-large"],
  [
    "binary garbage",
    () => Uint8Array.from({ length: 512 }, (_, i) => (i * 7919) % 256),
    "input.binary",
  ],
  ["plain text, not JSON", () => enc("hello, this is not a report\n"), "input.unrecognised"],
  ["JSON syntax error", () => enc('{"organization-name": "x", '), "report.json.syntax"],
  ["JSON nested too deep", () => enc(`${"[".repeat(40)}${"]".repeat(40)}`), "report.json.too-deep"],
  ["a JSON array", () => enc("[1, 2, 3]"), "report.json.not-object"],
  [
    "wrong types: policies is a string",
    () => json(report({ policies: "all good" })),
    "report.field.type",
  ],
  [
    "wrong types: date-range is a number",
    () => json(report({ "date-range": 20260301 })),
    "report.field.type",
  ],
  [
    "a date that does not exist",
    () =>
      json(
        report({
          "date-range": {
            "start-datetime": "2026-02-30T00:00:00Z",
            "end-datetime": "2026-03-01T00:00:00Z",
          },
        }),
      ),
    "report.date.invalid",
  ],
  ["no report-id", () => json(report({ "report-id": "" })), "report.field.missing"],
  [
    "negative count",
    () =>
      json(
        report(
          {},
          { summary: { "total-successful-session-count": -5, "total-failure-session-count": 0 } },
        ),
      ),
    "report.count.invalid",
  ],
  [
    "astronomic count (1e300)",
    () =>
      json(
        report(
          {},
          {
            summary: { "total-successful-session-count": 1e300, "total-failure-session-count": 0 },
          },
        ),
      ),
    "report.count.invalid",
  ],
  [
    "RPT-JSON-03 safe but implausible count (2^53-1)",
    () =>
      json(
        report(
          {},
          {
            summary: {
              "total-successful-session-count": Number.MAX_SAFE_INTEGER,
              "total-failure-session-count": 0,
            },
          },
        ),
      ),
    "ingest.count.implausible",
  ],
  [
    "a date before 1970",
    () =>
      json(
        report({
          "date-range": {
            "start-datetime": "1969-12-31T00:00:00Z",
            "end-datetime": "1970-01-01T00:00:00Z",
          },
        }),
      ),
    "ingest.date.out-of-range",
  ],
  [
    "a megabyte organization-name",
    () => json(report({ "organization-name": "x".repeat(1 << 20) })),
    "ingest.field.too-long",
  ],
  [
    "a megabyte additional-information",
    () =>
      json(
        report(
          {},
          {
            summary: { "total-successful-session-count": 0, "total-failure-session-count": 1 },
            "failure-details": [
              {
                "result-type": "validation-failure",
                "failed-session-count": 1,
                "additional-information": "y".repeat(1 << 20),
              },
            ],
          },
        ),
      ),
    "ingest.field.too-long",
  ],
  ["input over 10 MiB", () => enc(`{"pad": "${"z".repeat(10 * 1024 * 1024)}"}`), "input.too-large"],
  ["malformed MIME: a multipart with no parts", () => MALFORMED_MIME, "input.mail.no-report-part"],
  [
    "a report for a domain not managed here",
    () => json(report()),
    "ingest.domain.unmanaged",
    { domains: new Set(["example.com"]) },
  ],
];

// Probed before any suite is declared: node:test starts running once the file's body yields.
const skips = await Promise.all(backends.map((b) => b.skip()));

for (const [i, backend] of backends.entries()) {
  const skip = skips[i] ?? false;

  describe(`ingest of bad input: ${backend.name}`, { skip }, () => {
    let store: ReportStore;
    let done: () => Promise<void>;
    before(async () => {
      ({ store, done } = await freshStore(backend));
    });
    after(() => done());

    for (const [name, make, code, options] of BAD) {
      test(`RPT-RCV-03 RPT-RCV-06 ${name} is quarantined as ${code}, bytes kept`, async () => {
        const bytes = new Uint8Array(make());
        const before = await store.counts();
        const rssBefore = process.memoryUsage().rss;
        const o = await ingestReport(store, { bytes, channel: "https", origin: name }, options);
        assert.equal(o.status, "quarantined", JSON.stringify(o).slice(0, 300));
        assert.ok(o.status === "quarantined");
        assert.equal(o.code, code, o.reason);
        assert.ok(o.reason.length > 10 && o.reason.length < 2000, o.reason);
        // Memory stays bounded: a 1 GiB bomb or a 10 MiB input costs tens of MiB, not their size.
        assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024);
        const entry = await store.getQuarantine(o.quarantineId);
        assert.equal(entry?.code, code);
        assert.equal(entry?.origin, name);
        const raw = await store.getQuarantineRaw(o.quarantineId);
        if (bytes.length > 10 * 1024 * 1024) {
          assert.equal(entry?.rawTruncated, true);
          assert.deepEqual(raw, bytes.subarray(0, 10 * 1024 * 1024));
        } else {
          assert.equal(entry?.rawTruncated, false);
          assert.deepEqual(raw, bytes);
        }
        const after = await store.counts();
        assert.equal(after.reports, before.reports, "no report row");
        assert.equal(after.policies, before.policies, "no partial rows");
        assert.equal(after.quarantined, before.quarantined + 1);
      });
    }

    test("the same bad bytes again update their entry instead of adding one", async () => {
      const bytes = enc("still not a report");
      const a = await ingestReport(store, { bytes, channel: "https" });
      const b = await ingestReport(store, { bytes, channel: "smtp" });
      assert.ok(a.status === "quarantined" && b.status === "quarantined");
      assert.equal(b.quarantineId, a.quarantineId);
      assert.equal((await store.getQuarantine(a.quarantineId))?.attempts, 2);
    });

    test("nothing else is lost: good reports around bad ones are stored whole", async () => {
      const good = report();
      const outcomes: IngestOutcome[] = [];
      for (const bytes of [
        json(good),
        gzipBomb(64),
        enc("garbage"),
        sampleBytes("stalwart-rfc8460-email.eml"),
      ]) {
        outcomes.push(await ingestReport(store, { bytes, channel: "file" }));
      }
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ["stored", "quarantined", "quarantined", "stored"],
      );
      const first = outcomes[0];
      assert.ok(first?.status === "stored");
      const got = await store.getReport(first.id);
      assert.equal(got?.successful, 5);
      assert.equal(got?.report.policies.length, 1);
    });

    test("reingest after a fix: stored, entry resolved by the report; again: already resolved", async () => {
      const bytes = json(report({ "report-id": "reingest-me" }));
      const q = await ingestReport(
        store,
        { bytes, channel: "maildir", origin: "new/1" },
        { domains: new Set(["example.com"]) },
      );
      assert.ok(q.status === "quarantined");
      const open = await store.listQuarantine({ includeResolved: false, limit: 0 });
      assert.ok(open.some((e) => e.id === q.quarantineId));
      // Still unmanaged: stays in quarantine, same entry.
      const still = await reingestQuarantined(store, q.quarantineId, {
        domains: new Set(["example.com"]),
      });
      assert.equal(still.status, "quarantined");
      assert.equal(still.quarantineId, q.quarantineId);
      // The fix: example.net is managed now.
      const fixed = await reingestQuarantined(store, q.quarantineId, {
        domains: new Set(["example.net"]),
      });
      assert.equal(fixed.status, "stored");
      assert.ok(fixed.status === "stored");
      const entry = await store.getQuarantine(q.quarantineId);
      assert.equal(entry?.resolvedReport, fixed.id);
      assert.ok(entry?.resolvedAt);
      const got = await store.getReport(fixed.id);
      assert.equal(got?.channel, "maildir");
      assert.equal(got?.origin, "new/1");
      const again = await reingestQuarantined(store, q.quarantineId, {});
      assert.deepEqual(again, {
        quarantineId: q.quarantineId,
        status: "already-resolved",
        resolvedReport: fixed.id,
      });
      assert.deepEqual(await reingestQuarantined(store, "987654", {}), {
        quarantineId: "987654",
        status: "missing",
      });
      assert.ok(
        !(await store.listQuarantine({ includeResolved: false, limit: 0 })).some(
          (e) => e.id === q.quarantineId,
        ),
      );
      assert.ok(
        (await store.listQuarantine({ includeResolved: true, limit: 0 })).some(
          (e) => e.id === q.quarantineId,
        ),
      );
    });

    test("a report-id already stored from other bytes resolves its quarantine entry as a duplicate", async () => {
      const r = report({ "report-id": "dup-after-fix" });
      const q = await ingestReport(
        store,
        { bytes: json(r), channel: "https" },
        { domains: new Set(["example.com"]) },
      );
      assert.ok(q.status === "quarantined");
      const s = await ingestReport(store, {
        bytes: enc(JSON.stringify(r, null, 2)),
        channel: "https",
      });
      assert.ok(s.status === "stored");
      const re = await reingestQuarantined(store, q.quarantineId, {});
      assert.equal(re.status, "duplicate");
      assert.equal((await store.getQuarantine(q.quarantineId))?.resolvedReport, s.id);
    });

    test("the same bytes arriving again after a fix resolve their quarantine entry", async () => {
      const bytes = json(report({ "report-id": "retried-by-sender" }));
      const q = await ingestReport(
        store,
        { bytes, channel: "https" },
        { domains: new Set(["example.com"]) },
      );
      assert.ok(q.status === "quarantined");
      const s = await ingestReport(store, { bytes, channel: "https" });
      assert.ok(s.status === "stored");
      assert.equal((await store.getQuarantine(q.quarantineId))?.resolvedReport, s.id);
    });

    test("a failing store makes ingest reject, for good and bad input alike (the sender retries)", async () => {
      const broken = await freshStore(backend);
      await broken.store.close();
      try {
        await assert.rejects(
          ingestReport(broken.store, { bytes: json(report()), channel: "https" }),
        );
        await assert.rejects(
          ingestReport(broken.store, { bytes: enc("garbage"), channel: "https" }),
        );
      } finally {
        await broken.done();
      }
    });

    test("RPT-DLV-06 unsigned: quarantine keeps out mail without an aligned DKIM pass; keep stores and flags it", async () => {
      const key = generateKeyPairSync("ed25519");
      const raw = key.publicKey
        .export({ type: "spki", format: "der" })
        .subarray(-32)
        .toString("base64");
      const keys = new Map([
        ["sel._domainkey.sender.example", `v=DKIM1; k=ed25519; p=${raw}`],
        ["sel._domainkey.elsewhere.example", `v=DKIM1; k=ed25519; p=${raw}`],
      ]);
      // Our DNS for the verifier: the keys above, NXDOMAIN for anything else.
      const dkim = createDkimVerifier({
        resolver: async (name: string) => {
          const record = keys.get(name.toLowerCase());
          if (record === undefined)
            throw Object.assign(new Error("NXDOMAIN"), { code: "ENOTFOUND" });
          return [[record]];
        },
      });
      const privateKey = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      const mail = async (id: string, signer: string | null) => {
        const body = gzipSync(JSON.stringify(report({ "report-id": id })));
        const message = Buffer.from(
          [
            "From: TLS reports <tlsrpt@sender.example>",
            "To: tlsrpt@example.net",
            `Subject: Report Domain: example.net Submitter: sender.example Report-ID: <${id}@sender.example>`,
            "TLS-Report-Domain: example.net",
            "TLS-Report-Submitter: sender.example",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type="tlsrpt"; boundary="b"',
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "A report.",
            "--b",
            "Content-Type: application/tlsrpt+gzip",
            "Content-Transfer-Encoding: base64",
            "",
            body.toString("base64"),
            "--b--",
            "",
          ].join("\r\n"),
        );
        if (signer === null) return new Uint8Array(message);
        const data = {
          signingDomain: signer,
          selector: "sel",
          privateKey,
          algorithm: "ed25519-sha256",
        };
        // mailauth signs with signatureData; its types only declare the flat fields.
        // signTime: one t= for the signed copy and the header (see signMail in intake-fixtures.ts).
        const signed = await dkimSign(message, {
          ...data,
          signatureData: [data],
          signTime: new Date(),
        } as typeof data);
        return new Uint8Array(Buffer.concat([Buffer.from(signed.signatures), message]));
      };
      const strict: IngestOptions = { dkim, unsigned: "quarantine" };
      const pass = await ingestReport(
        store,
        { bytes: await mail("dkim-pass", "sender.example"), channel: "smtp" },
        strict,
      );
      assert.equal(pass.status, "stored", JSON.stringify(pass));
      assert.ok(pass.status === "stored");
      const got = await store.getReport(pass.id);
      assert.deepEqual(
        [got?.dkim, got?.dkimDetail?.domain, got?.dkimDetail?.aligned],
        ["pass", "sender.example", true],
      );
      const unaligned = await ingestReport(
        store,
        { bytes: await mail("dkim-other", "elsewhere.example"), channel: "smtp" },
        strict,
      );
      assert.deepEqual(
        [unaligned.status, unaligned.status === "quarantined" && unaligned.code],
        ["quarantined", "ingest.dkim.unaligned"],
      );
      const unsigned = await ingestReport(
        store,
        { bytes: await mail("dkim-none", null), channel: "imap" },
        strict,
      );
      assert.deepEqual(
        [unsigned.status, unsigned.status === "quarantined" && unsigned.code],
        ["quarantined", "ingest.dkim.none"],
      );
      const noVerifier = await ingestReport(
        store,
        { bytes: await mail("dkim-unchecked", null), channel: "imap" },
        { unsigned: "quarantine" },
      );
      assert.deepEqual(
        [noVerifier.status, noVerifier.status === "quarantined" && noVerifier.code],
        ["quarantined", "ingest.dkim.unchecked"],
      );
      // The default policy keeps the unsigned report and flags it.
      const kept = await ingestReport(
        store,
        { bytes: await mail("dkim-none", null), channel: "imap" },
        { dkim },
      );
      assert.ok(kept.status === "stored");
      assert.equal((await store.getReport(kept.id))?.dkim, "none");
      // A JSON body (HTTPS) is not mail: DKIM does not apply.
      const https = await ingestReport(store, { bytes: json(report()), channel: "https" }, strict);
      assert.equal(https.status, "stored");
    });
  });
}
