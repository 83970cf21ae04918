// The LMTP/SMTP intake as Postfix reaches it, driven by real swaks: every
// sample e-mail, every JSON sample wrapped and DKIM-signed as RFC 8460 §5.3
// describes, keys in the lab DNS; oversize, malformed MIME and a failing store.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createTestCa } from "../../lab/ca.ts";
import { type DnsServer, startDnsServer } from "../../lab/dns-server.ts";
import { createResolver } from "../../src/adapters/dns.ts";
import { createDkimVerifier, dkimTxtResolver } from "../../src/reports/dkim.ts";
import type { IntakeEvent } from "../../src/reports/intake-attempt.ts";
import { type MailIntake, startReportMailIntake } from "../../src/reports/intake-smtp.ts";
import type { DkimVerifier, IngestOptions } from "../../src/reports/types.ts";
import {
  type DkimKey,
  dataReplies,
  keyZone,
  makeDkimKey,
  reportJson,
  reportMail,
  run,
  samples,
  signMail,
  swaks,
  type TempStore,
  tempStore,
  totals,
} from "./intake-fixtures.ts";

let dir: string;
let dns: DnsServer;
let dkim: DkimVerifier;
let key: DkimKey;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mtasts-mail-intake-"));
  key = makeDkimKey("sender.test", "tlsrpt", "rsa");
  dns = await startDnsServer({ zones: [keyZone("sender.test", [key])] });
  dkim = createDkimVerifier({
    resolver: dkimTxtResolver(
      createResolver({
        servers: [{ host: dns.address, port: dns.port }],
        timeoutMs: 2000,
        attempts: 1,
      }),
    ),
  });
});
after(async () => {
  await dns?.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name.replace(/[^A-Za-z0-9._-]/g, "_"));
  writeFileSync(path, bytes);
  return path;
}

async function withMailIntake(
  lmtp: boolean,
  body: (ctx: {
    port: number;
    t: TempStore;
    events: IntakeEvent[];
    intake: MailIntake;
  }) => Promise<void>,
  options: { ingest?: IngestOptions; maxMessageBytes?: number } = {},
): Promise<void> {
  const t = await tempStore();
  const events: IntakeEvent[] = [];
  const intake = await startReportMailIntake({
    store: t.store,
    listen: { host: "127.0.0.1", port: 0 },
    lmtp,
    dkim,
    onEvent: (e) => events.push(e),
    ...options,
  });
  try {
    await body({ port: intake.address().port, t, events, intake });
  } finally {
    await intake.close();
    await t.cleanup();
  }
}

for (const lmtp of [true, false]) {
  const proto = lmtp ? "LMTP" : "SMTP";

  test(`RPT-RCV-02 RPT-DLV-03 every sample e-mail sent by swaks over ${proto} is stored with its expected totals`, async () => {
    for (const sample of samples().filter((s) => s.kind === "eml")) {
      await withMailIntake(lmtp, async ({ port, t }) => {
        const to = lmtp
          ? ["tlsrpt@reports.test", "postmaster@reports.test"]
          : ["tlsrpt@reports.test"];
        const r = await swaks(port, file(sample.file, sample.bytes), { lmtp, to });
        // LMTP: one reply per recipient (RFC 2033 §4.2), the same for each.
        assert.equal(r.replies.length, to.length, r.output);
        for (const reply of r.replies)
          assert.match(reply, /^250 2\.6\.0 Report stored as /, sample.file);
        assert.deepEqual(
          await totals(t.store),
          { successful: sample.successful, failed: sample.failed },
          sample.file,
        );
        // The samples' real signatures cannot be checked offline: recorded, kept, not passed.
        const [item] = await t.store.listReports({}, 10);
        assert.ok(
          item && item.dkim !== "pass" && item.dkim !== "unchecked",
          `${sample.file}: ${item?.dkim}`,
        );
      });
    }
  });

  test(`RPT-DLV-03 RPT-DLV-06 every JSON sample, mailed as a DKIM-signed RFC 8460 report over ${proto}, is stored with DKIM pass`, async () => {
    for (const sample of samples().filter((s) => s.kind !== "eml")) {
      await withMailIntake(lmtp, async ({ port, t }) => {
        const message = await signMail(
          reportMail(await reportJson(sample), {
            submitter: "mail.sender.test",
            policyDomain: "reports.test",
            reportId: sample.reportId,
          }),
          key,
        );
        const r = await swaks(port, file(`${sample.file}.eml`, message), { lmtp });
        assert.match(r.replies[0] ?? "", /^250 /, r.output);
        assert.deepEqual(
          await totals(t.store),
          { successful: sample.successful, failed: sample.failed },
          sample.file,
        );
        const [item] = await t.store.listReports({}, 10);
        assert.ok(item);
        const stored = await t.store.getReport(item.id);
        // The verifier's own detail in the message: a failure here once seen in CI did not recur.
        assert.equal(
          stored?.dkim,
          "pass",
          `${sample.file}: ${JSON.stringify(stored?.dkimDetail)}\n${message.toString("latin1", 0, 1200)}`,
        );
        assert.equal(stored?.dkimDetail?.domain, "sender.test");
        assert.equal(stored?.dkimDetail?.aligned, true);
      });
    }
  });

  test(`RPT-RCV-03 a message over the size limit is refused with 552 over ${proto} and nothing is kept`, async () => {
    await withMailIntake(
      lmtp,
      async ({ port, t }) => {
        const big = reportMail(Buffer.alloc(300_000, 0x20), {
          submitter: "mail.sender.test",
          policyDomain: "reports.test",
          reportId: "big",
          gzip: false,
        });
        const to = lmtp ? ["a@reports.test", "b@reports.test"] : ["a@reports.test"];
        const r = await swaks(port, file(`big-${proto}.eml`, big), { lmtp, to });
        assert.equal(r.replies.length, to.length, r.output);
        for (const reply of r.replies) assert.match(reply, /^552 /);
        const counts = await t.store.counts();
        assert.equal(counts.reports + counts.quarantined, 0);
      },
      { maxMessageBytes: 100_000 },
    );
  });

  test(`RPT-DLV-10 a failing store answers 451 4.3.0 over ${proto} (per recipient in LMTP), so Postfix retries`, async () => {
    await withMailIntake(lmtp, async ({ port, t, events }) => {
      await t.store.close(); // a real failure: the database is gone
      const sample = samples().find((s) => s.kind === "eml");
      assert.ok(sample);
      const to = lmtp ? ["a@reports.test", "b@reports.test"] : ["a@reports.test"];
      const r = await swaks(port, file(`closed-${proto}.eml`, sample.bytes), { lmtp, to });
      assert.equal(r.replies.length, to.length, r.output);
      for (const reply of r.replies) assert.match(reply, /^451 4\.3\.0 /);
      assert.ok(events.some((e) => e.type === "store-error"));
    });
  });
}

test("RPT-RCV-02 malformed MIME is accepted (250) and quarantined with a reason, never bounced", async () => {
  const cases: [string, string][] = [
    ["no-report", "From: a@sender.test\r\nSubject: hello\r\n\r\nNo report here.\r\n"],
    [
      "broken-multipart",
      'From: a@sender.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; boundary="never-closed"\r\n\r\n--never-closed\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!! not base64 ####\r\n',
    ],
    [
      "bad-gzip",
      'From: a@sender.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; boundary="b"\r\n\r\n--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\nH4sIAAAAAAAAA6tWKkktLlGyUlAqS8wpTgUA\r\n--b--\r\n',
    ],
  ];
  await withMailIntake(true, async ({ port, t }) => {
    for (const [name, text] of cases) {
      const r = await swaks(port, file(`${name}.eml`, Buffer.from(text)), { lmtp: true });
      assert.match(
        r.replies[0] ?? "",
        /^250 2\.6\.0 Report received and quarantined \(\S+\)/,
        `${name}: ${r.output}`,
      );
    }
    const counts = await t.store.counts();
    assert.equal(counts.reports, 0);
    assert.equal(counts.quarantined, cases.length);
  });
});

test("RPT-DLV-06 with --unsigned quarantine, a signed report altered in transit is quarantined as a DKIM failure", async () => {
  await withMailIntake(
    false,
    async ({ port, t }) => {
      const sample = samples().find((s) => s.file === "phiag-google-2024.json");
      assert.ok(sample);
      const signed = await signMail(
        reportMail(await reportJson(sample), {
          submitter: "mail.sender.test",
          policyDomain: "reports.test",
          reportId: sample.reportId,
        }),
        key,
      );
      const tampered = Buffer.from(
        signed.toString("latin1").replace("This is an aggregate", "This is a forged"),
        "latin1",
      );
      const r = await swaks(port, file("tampered.eml", tampered), { lmtp: false });
      assert.match(r.replies[0] ?? "", /^250 .*quarantined \(ingest\.dkim\.fail\)/, r.output);
      const ok = await swaks(port, file("intact.eml", signed), { lmtp: false });
      assert.match(ok.replies[0] ?? "", /^250 2\.6\.0 Report stored/, ok.output);
      const counts = await t.store.counts();
      assert.deepEqual([counts.reports, counts.quarantined], [1, 1]);
    },
    { ingest: { unsigned: "quarantine" } },
  );
});

test("with a certificate the SMTP listener offers STARTTLS, and a report sent over TLS is stored", async () => {
  const ca = await createTestCa();
  const cert = await ca.issue({ names: ["reports.test"] });
  const t = await tempStore();
  const intake = await startReportMailIntake({
    store: t.store,
    listen: { host: "127.0.0.1", port: 0 },
    lmtp: false,
    dkim,
    tls: { cert: cert.chainPem, key: cert.keyPem },
  });
  try {
    const sample = samples().find((s) => s.file === "parsedmarc-google-2024.eml");
    assert.ok(sample);
    const r = await run("swaks", [
      "--server",
      "127.0.0.1",
      "--port",
      String(intake.address().port),
      "--tls",
      "--from",
      "noreply@sender.test",
      "--to",
      "tlsrpt@reports.test",
      "--data",
      `@${file("tls.eml", sample.bytes)}`,
    ]);
    const output = r.stdout + r.stderr;
    assert.match(output, /=== TLS started/);
    assert.match(dataReplies(output)[0] ?? "", /^250 2\.6\.0 Report stored/, output);
    assert.equal((await t.store.counts()).reports, 1);
  } finally {
    await intake.close();
    await t.cleanup();
  }
});
