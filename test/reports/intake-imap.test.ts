// The IMAP intake against a real dovecot of our own: reports APPENDed with
// imapflow, polled, ingested; flags and moves checked on the server; a
// failing store leaves mail unseen; the poller reconnects after dovecot
// restarts.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ImapFlow } from "imapflow";
import {
  type ImapIntakeOptions,
  pollImapOnce,
  startImapPoller,
} from "../../src/reports/intake-imap.ts";
import { type Dovecot, dovecotSkip, startDovecot } from "./dovecot.ts";
import {
  makeDkimKey,
  reportJson,
  reportMail,
  samples,
  signMail,
  type TempStore,
  tempStore,
  totals,
} from "./intake-fixtures.ts";

const skip = dovecotSkip();
let dovecot: Dovecot;
let admin: ImapFlow;

before(async () => {
  if (skip) return;
  dovecot = await startDovecot();
  admin = await client();
});
after(async () => {
  await admin?.logout().catch(() => {});
  await dovecot?.close();
});

async function client(): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: dovecot.host,
    port: dovecot.port,
    secure: false,
    auth: { user: dovecot.user, pass: dovecot.pass },
    logger: false,
  });
  c.on("error", () => {});
  await c.connect();
  return c;
}

function options(t: TempStore, more: Partial<ImapIntakeOptions> = {}): ImapIntakeOptions {
  return {
    store: t.store,
    imap: { host: dovecot.host, port: dovecot.port, user: dovecot.user, pass: dovecot.pass },
    ...more,
  };
}

/** A fresh, empty mailbox per test, so tests do not see each other's mail. */
async function freshMailbox(name: string): Promise<string> {
  await admin.mailboxDelete(name).catch(() => {});
  await admin.mailboxCreate(name);
  return name;
}

/** \Seen per message, oldest first, read over a connection of its own (no stale view). */
async function flagsIn(mailbox: string): Promise<boolean[]> {
  const c = await client();
  try {
    const box = await c.mailboxOpen(mailbox, { readOnly: true });
    if (box.exists === 0) return [];
    const messages = await c.fetchAll("1:*", { uid: true, flags: true });
    return messages.sort((a, b) => a.uid - b.uid).map((m) => m.flags?.has("\\Seen") ?? false);
  } finally {
    await c.logout().catch(() => {});
  }
}

const mailFor = async (file: string) => {
  const sample = samples().find((s) => s.file === file);
  assert.ok(sample);
  return reportMail(await reportJson(sample), {
    submitter: "mail.sender.test",
    policyDomain: "reports.test",
    reportId: sample.reportId,
  });
};

test("RPT-RCV-02 every sample, APPENDed to dovecot (e-mails as they are, JSON wrapped as a report mail), is ingested and marked \\Seen", {
  skip,
}, async () => {
  const mailbox = await freshMailbox("Samples");
  const key = makeDkimKey("sender.test", "imap", "rsa");
  for (const sample of samples()) {
    const t = await tempStore();
    try {
      const message =
        sample.kind === "eml"
          ? sample.bytes
          : await signMail(
              reportMail(await reportJson(sample), {
                submitter: "mail.sender.test",
                policyDomain: "reports.test",
                reportId: sample.reportId,
              }),
              key,
            );
      await admin.append(mailbox, message);
      const result = await pollImapOnce(options(t, { mailbox }));
      assert.deepEqual(
        {
          unseen: result.unseen,
          stored: result.stored,
          error: result.error,
          storeError: result.storeError,
        },
        { unseen: 1, stored: 1, error: null, storeError: null },
        sample.file,
      );
      assert.deepEqual(
        await totals(t.store),
        { successful: sample.successful, failed: sample.failed },
        sample.file,
      );
      const [item] = await t.store.listReports({}, 1);
      assert.equal(item?.channel, "imap");
    } finally {
      await t.cleanup();
    }
  }
  const flags = await flagsIn(mailbox);
  assert.equal(flags.length, samples().length);
  assert.ok(flags.every((seen) => seen));
});

test("each poll takes at most maxMessages, oldest first; the rest stay unseen for the next", {
  skip,
}, async () => {
  const mailbox = await freshMailbox("Bounded");
  const files = [
    "phiag-google-2024.json",
    "phiag-microsoft-2024.json",
    "cryinc-google-2025.json",
    "robalexdev-no-policy-2025.json",
    "parsedmarc-mailru-2024.json",
  ];
  for (const f of files) await admin.append(mailbox, await mailFor(f));
  const t = await tempStore();
  try {
    const first = await pollImapOnce(options(t, { mailbox, maxMessages: 2 }));
    assert.deepEqual([first.unseen, first.stored, first.left], [5, 2, 3]);
    assert.deepEqual(await flagsIn(mailbox), [true, true, false, false, false]);
    const second = await pollImapOnce(options(t, { mailbox, maxMessages: 10 }));
    assert.deepEqual([second.unseen, second.stored, second.left], [3, 3, 0]);
    assert.equal((await t.store.counts()).reports, 5);
  } finally {
    await t.cleanup();
  }
});

test("moveTo files ingested mail in a processed folder (created when missing), seen or left unseen", {
  skip,
}, async () => {
  const mailbox = await freshMailbox("MoveIn");
  await admin.mailboxDelete("MoveOut").catch(() => {});
  await admin.append(mailbox, await mailFor("phiag-google-2024.json"));
  const t = await tempStore();
  try {
    const result = await pollImapOnce(options(t, { mailbox, moveTo: "MoveOut" }));
    assert.equal(result.stored, 1);
    assert.deepEqual(await flagsIn(mailbox), []);
    assert.deepEqual(await flagsIn("MoveOut"), [true]);
    // Moved but not marked: the admin still sees it as unread there.
    await admin.append(mailbox, await mailFor("phiag-microsoft-2024.json"));
    const unseen = await pollImapOnce(options(t, { mailbox, moveTo: "MoveOut", markSeen: false }));
    assert.equal(unseen.stored, 1);
    assert.deepEqual(await flagsIn("MoveOut"), [true, false]);
  } finally {
    await t.cleanup();
  }
});

test("RPT-DLV-10 a failing store leaves the mail unseen and in place, and a later poll takes it", {
  skip,
}, async () => {
  const mailbox = await freshMailbox("StoreDown");
  await admin.append(mailbox, await mailFor("phiag-google-2024.json"));
  await admin.append(mailbox, await mailFor("phiag-microsoft-2024.json"));
  const broken = await tempStore();
  await broken.store.close(); // a real failure: the database is closed
  const failed = await pollImapOnce(options(broken, { mailbox, moveTo: "StoreDownDone" }));
  assert.ok(failed.storeError);
  assert.deepEqual([failed.stored, failed.left], [0, 2]);
  assert.deepEqual(await flagsIn(mailbox), [false, false]);
  await broken.cleanup();
  const t = await tempStore();
  try {
    const ok = await pollImapOnce(options(t, { mailbox, moveTo: "StoreDownDone" }));
    assert.deepEqual([ok.stored, ok.storeError], [2, null]);
    assert.deepEqual(await flagsIn(mailbox), []);
  } finally {
    await t.cleanup();
  }
});

test("a message over the size limit is read only up to it, quarantined, and filed like the others", {
  skip,
}, async () => {
  const mailbox = await freshMailbox("Oversize");
  const big = reportMail(Buffer.alloc(60_000, 0x41), {
    submitter: "mail.sender.test",
    policyDomain: "reports.test",
    reportId: "big",
    gzip: false,
  });
  await admin.append(mailbox, big);
  const t = await tempStore();
  try {
    const result = await pollImapOnce(options(t, { mailbox, maxMessageBytes: 10_000 }));
    assert.deepEqual([result.quarantined, result.stored], [1, 0]);
    const [entry] = await t.store.listQuarantine({ includeResolved: false, limit: 10 });
    assert.ok(entry && entry.rawSize <= 10_001, JSON.stringify(entry));
    assert.deepEqual(await flagsIn(mailbox), [true]);
  } finally {
    await t.cleanup();
  }
});

test("the poller keeps one connection, reports a dead server, and reconnects when it is back", {
  skip,
  timeout: 60_000,
}, async () => {
  const mailbox = await freshMailbox("Poller");
  await admin.append(mailbox, await mailFor("phiag-google-2024.json"));
  const t = await tempStore();
  const poller = startImapPoller({
    ...options(t, { mailbox }),
    intervalMs: 3_600_000,
    backoff: { minMs: 3_600_000, maxMs: 3_600_000 },
  });
  try {
    await poller.pollNow();
    assert.equal((await t.store.counts()).reports, 1);
    await admin.logout().catch(() => {});
    await dovecot.stop();
    const down = await poller.pollNow();
    assert.ok(down.error, "a poll against a stopped server reports an error");
    await dovecot.start();
    admin = await client();
    await admin.append(mailbox, await mailFor("phiag-microsoft-2024.json"));
    const back = await poller.pollNow();
    assert.deepEqual([back.error, back.stored], [null, 1]);
    assert.equal((await t.store.counts()).reports, 2);
  } finally {
    await poller.close();
    await t.cleanup();
  }
});

test("a report polled later keeps the time the server received it (INTERNALDATE)", {
  skip,
}, async () => {
  const mailbox = await freshMailbox("Dated");
  const when = new Date("2026-03-01T08:30:00Z");
  await admin.append(mailbox, await mailFor("phiag-google-2024.json"), [], when);
  const t = await tempStore();
  try {
    await pollImapOnce(options(t, { mailbox }));
    const [item] = await t.store.listReports({}, 1);
    assert.equal(item && new Date(item.receivedAt).toISOString(), when.toISOString());
  } finally {
    await t.cleanup();
  }
});
