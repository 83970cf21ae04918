// `mtasts reports listen` as an admin runs it (bin/mtasts): one process with every intake
// (HTTP, LMTP, SMTP, IMAP against our dovecot, a Maildir) over one SQLite
// store, fed by curl, swaks, an IMAP APPEND and a Maildir delivery, stopped
// with SIGTERM while a report is still arriving, which must still be kept.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ImapFlow } from "imapflow";
import { openReportStore } from "../../src/reports/store.ts";
import { type Dovecot, dovecotSkip, startDovecot } from "./dovecot.ts";
import { curlPost, reportJson, reportMail, run, samples, swaks } from "./intake-fixtures.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
/** `mtasts reports listen ARGS`, as the admin's shell runs it. */
const listenArgs = (args: string[]) => [bin, "reports", "listen", ...args];

interface Listener {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
  /** `HOST:PORT` each intake logged when it started listening. */
  addresses: Promise<Record<string, string>>;
}

function listen(args: string[], expect: string[]): Listener {
  const child = spawn(process.execPath, listenArgs(args), { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const addresses = new Promise<Record<string, string>>((resolve, reject) => {
    const found: Record<string, string> = {};
    child.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
      for (const m of log.matchAll(/\blistening intake=(\w+) address=(\S+)/g)) {
        found[m[1] as string] = m[2] as string;
      }
      if (/intake=imap/.test(log)) found.imap = "polling";
      if (/intake=maildir/.test(log)) found.maildir = "watching";
      if (expect.every((k) => k in found)) resolve(found);
    });
    void exited.then(() => reject(new Error(`listen exited early:\n${log}`)));
  });
  return { child, log: () => log, exited, addresses };
}

const sample = (file: string) => {
  const s = samples().find((x) => x.file === file);
  assert.ok(s, file);
  return s;
};

test("mtasts reports listen: every intake feeds one store; SIGTERM lets a report in flight finish", {
  skip: dovecotSkip(),
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-listen-"));
  const maildir = join(dir, "Maildir");
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(maildir, sub), { recursive: true });
  const db = join(dir, "reports.db");
  let dovecot: Dovecot | undefined;
  let listener: Listener | undefined;
  try {
    dovecot = await startDovecot();
    writeFileSync(join(dir, "imap-password"), `${dovecot.pass}\n`);
    listener = listen(
      [
        "--db",
        db,
        "--http",
        "127.0.0.1:0",
        "--lmtp",
        "127.0.0.1:0",
        "--smtp",
        "127.0.0.1:0",
        "--imap",
        `imap://${dovecot.user}@${dovecot.host}:${dovecot.port}/INBOX`,
        "--imap-password-file",
        join(dir, "imap-password"),
        "--imap-move",
        "Processed",
        "--imap-interval",
        "3600",
        "--maildir",
        maildir,
        "--resolver",
        "127.0.0.1:9", // nothing answers: DKIM of the samples is a temporary error, kept and flagged
      ],
      ["http", "lmtp", "smtp", "imap", "maildir"],
    );
    const at = await listener.addresses;
    const httpUrl = `http://${at.http}/tlsrpt`;
    const port = (a: string | undefined) => Number(a?.split(":").pop());

    // HTTP: a JSON sample with curl.
    const jsonFile = join(dir, "google.json");
    writeFileSync(jsonFile, sample("phiag-google-2024.json").bytes);
    const posted = await curlPost(httpUrl, jsonFile, "application/tlsrpt+json");
    assert.equal(posted.status, 201, posted.body);

    // LMTP and SMTP: two sample e-mails with swaks.
    const eml1 = join(dir, "a.eml");
    writeFileSync(eml1, sample("parsedmarc-google-2024.eml").bytes);
    const lmtp = await swaks(port(at.lmtp), eml1, { lmtp: true });
    assert.match(lmtp.replies[0] ?? "", /^250 /, lmtp.output);
    const eml2 = join(dir, "b.eml");
    writeFileSync(eml2, sample("stalwart-google-uncompressed.eml").bytes);
    const smtp = await swaks(port(at.smtp), eml2, { lmtp: false });
    assert.match(smtp.replies[0] ?? "", /^250 /, smtp.output);

    // Maildir: a delivery through tmp/.
    const mdMail = reportMail(await reportJson(sample("phiag-microsoft-2024.json")), {
      submitter: "mail.sender.test",
      policyDomain: "reports.test",
      reportId: "md",
    });
    writeFileSync(join(maildir, "tmp", "1700000000.M1P1.test"), mdMail);
    renameSync(
      join(maildir, "tmp", "1700000000.M1P1.test"),
      join(maildir, "new", "1700000000.M1P1.test"),
    );

    // IMAP: an APPEND; the poller's IDLE hears of it, or its next poll finds it.
    const imap = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user: dovecot.user, pass: dovecot.pass },
      logger: false,
    });
    imap.on("error", () => {});
    await imap.connect();
    await imap.append(
      "INBOX",
      reportMail(await reportJson(sample("cryinc-google-2025.json")), {
        submitter: "mail.sender.test",
        policyDomain: "reports.test",
        reportId: "imap",
      }),
    );
    // Waiting for the listener's own log lines, not for time.
    while (!/channel=imap/.test(listener.log()) || !/channel=maildir/.test(listener.log())) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Ingested first, filed after: wait for the move too.
    const filed = async () => {
      const status = await imap.status("Processed", { messages: true }).catch(() => false as const);
      return status ? (status.messages ?? 0) : 0;
    };
    while ((await filed()) < 1) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await filed(), 1);
    await imap.logout();

    // SIGTERM while a report is half sent: it is still received and stored.
    const socket = connect(port(at.http), "127.0.0.1");
    let response = "";
    socket.on("data", (d: Buffer) => {
      response += d.toString("latin1");
    });
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    const body = sample("cryinc-microsoft-tlsa-2025.json").bytes;
    socket.write(
      `POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    while (!response.startsWith("HTTP/1.1 100")) await new Promise((r) => setTimeout(r, 10));
    const pid = listener.child.pid;
    assert.ok(pid);
    process.kill(pid, "SIGTERM");
    while (!/\bstopping signal=/.test(listener.log())) await new Promise((r) => setTimeout(r, 10));
    socket.write(body);
    await closed;
    assert.match(response, /HTTP\/1\.1 201 /);
    assert.equal(await listener.exited, 0, listener.log());

    const store = await openReportStore(db);
    try {
      const counts = await store.counts();
      assert.deepEqual([counts.reports, counts.quarantined], [6, 0], listener.log());
      const channels = (await store.listReports({}, 10)).map((r) => r.channel).sort();
      assert.deepEqual(channels, ["https", "https", "imap", "maildir", "smtp", "smtp"]);
    } finally {
      await store.close();
    }
  } finally {
    if (listener && listener.child.exitCode === null && listener.child.pid) {
      process.kill(listener.child.pid, "SIGKILL");
    }
    await dovecot?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mtasts reports listen: usage errors exit 2 with the reason", async () => {
  const cases: [string[], RegExp][] = [
    [[], /at least one intake/],
    [["--http", "localhost"], /--http expects HOST:PORT/],
    [["--https", "127.0.0.1:0"], /--https needs --cert and --key/],
    [
      ["--http", "127.0.0.1:0", "--unsigned", "maybe"],
      /--unsigned "maybe" must be keep or quarantine/,
    ],
    [["--http", "127.0.0.1:0", "--managed-domain", "not a domain"], /--managed-domain/],
    [["--imap", "imap://host/INBOX"], /user name/],
    [["--imap", "imap://u@host/INBOX", "--imap-keep-unseen"], /needs a password|--imap-move/],
  ];
  // In an empty folder: a usage error must not create the default database.
  const cwd = mkdtempSync(join(tmpdir(), "mtasts-listen-usage-"));
  try {
    for (const [args, message] of cases) {
      const r = await run(process.execPath, listenArgs(args), { cwd });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.deepEqual(readdirSync(cwd), []);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test("mtasts reports listen: an address in use is exit 1, and nothing is left running", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-listen-busy-"));
  const blocker = (await import("node:net")).createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const busy = (blocker.address() as { port: number }).port;
  try {
    const r = await run(
      process.execPath,
      listenArgs([
        "--db",
        join(dir, "r.db"),
        "--http",
        "127.0.0.1:0",
        "--lmtp",
        `127.0.0.1:${busy}`,
      ]),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /EADDRINUSE/);
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
