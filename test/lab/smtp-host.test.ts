// The lab MX, spoken to by a bare client (no probe), each fault by name, and
// by Debian's swaks when it is installed.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { createTestCa } from "../../lab/ca.ts";
import { type SmtpHost, type SmtpHostOptions, startSmtpHost } from "../../lab/smtp-host.ts";

const MX = "mx.lab.test";
const ca = await createTestCa();
const good = await ca.issue({ names: [MX] });
const cert = { keyPem: good.keyPem, chainPem: good.chainPem };

interface Reply {
  code: number;
  lines: string[];
}

/** A bare SMTP client: send a line, read a reply; every wait bounded. */
class Client {
  socket: Socket;
  #buffer = "";
  #waiters: (() => void)[] = [];
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    this.#listen(socket);
  }

  static async open(host: SmtpHost): Promise<Client> {
    const socket = connect(host.port, host.address);
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new Client(socket);
  }

  #listen(socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.#buffer += d;
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves when a full reply is buffered, the socket closes, or after `ms`. */
  async reply(ms = 2000): Promise<Reply | null> {
    const until = Date.now() + ms;
    for (;;) {
      const lines = this.#buffer.split("\r\n");
      const end = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (end >= 0) {
        const taken = lines.slice(0, end + 1);
        this.#buffer = lines.slice(end + 1).join("\r\n");
        return { code: Number(taken[0]?.slice(0, 3)), lines: taken.map((l) => l.slice(4)) };
      }
      const left = until - Date.now();
      if (this.closed || left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  raw(): string {
    return this.#buffer;
  }

  async command(line: string): Promise<Reply | null> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async startTls(options: { minVersion?: "TLSv1" | "TLSv1.2"; ciphers?: string } = {}) {
    this.socket.removeAllListeners("data");
    this.#buffer = "";
    const tls = tlsConnect({
      socket: this.socket,
      servername: MX,
      ca: [ca.rootPem],
      ...options,
    });
    await new Promise((resolve, reject) =>
      tls.once("secureConnect", resolve).once("error", reject),
    );
    this.socket = tls;
    this.#listen(tls);
    return tls;
  }

  close() {
    this.socket.destroy();
  }
}

async function withHost(
  t: { after(fn: () => Promise<void>): void },
  options: Partial<SmtpHostOptions> = {},
): Promise<SmtpHost> {
  const host = await startSmtpHost({ hostname: MX, cert, ...options });
  t.after(() => host.close());
  return host;
}

async function session(t: { after(fn: () => void): void }, host: SmtpHost): Promise<Client> {
  const client = await Client.open(host);
  t.after(() => client.close());
  return client;
}

test("listens on 127.0.0.1 and a free port by default, counts sessions", async (t) => {
  const host = await withHost(t);
  assert.equal(host.address, "127.0.0.1");
  assert.ok(host.port > 0);
  assert.equal(host.sessions, 0);
  const c = await session(t, host);
  assert.deepEqual(await c.reply(), { code: 220, lines: [`${MX} ESMTP mtasts-lab`] });
  assert.equal(host.sessions, 1);
  const ehlo = await c.command("EHLO client.test");
  assert.equal(ehlo?.code, 250);
  assert.equal(ehlo?.lines[0], `${MX} greets client.test`);
  assert.ok(ehlo?.lines.includes("STARTTLS"));
  assert.equal((await c.command("NOOP"))?.code, 250);
  assert.equal((await c.command("RSET"))?.code, 250);
  assert.equal((await c.command("VRFY x"))?.code, 502);
  assert.equal((await c.command("QUIT"))?.code, 221);
});

test("a mail transaction over STARTTLS is received, dot-unstuffed, and the SNI recorded", async (t) => {
  const host = await withHost(t);
  const c = await session(t, host);
  await c.reply();
  await c.command("EHLO client.test");
  assert.equal((await c.command("STARTTLS"))?.code, 220);
  const tls = await c.startTls();
  assert.equal(tls.authorized, true);
  const ehlo = await c.command("EHLO client.test");
  assert.equal(ehlo?.code, 250);
  assert.ok(!ehlo?.lines.includes("STARTTLS"), "STARTTLS is not offered twice");
  assert.equal((await c.command("STARTTLS"))?.code, 503);
  assert.equal((await c.command("MAIL FROM:<a@sender.test>"))?.code, 250);
  assert.equal((await c.command("RCPT TO:<b@lab.test>"))?.code, 250);
  assert.equal((await c.command("DATA"))?.code, 354);
  assert.equal((await c.command("Subject: hi\r\n\r\n..dot\r\nbody\r\n."))?.code, 250);
  await c.command("QUIT");
  assert.deepEqual(host.messages, [
    {
      heloName: "client.test",
      from: "a@sender.test",
      to: ["b@lab.test"],
      data: "Subject: hi\r\n\r\n.dot\r\nbody\r\n",
      tls: true,
    },
  ]);
  assert.equal(host.tlsSessions.length, 1);
  assert.equal(host.tlsSessions[0]?.servername, MX);
  assert.equal(host.tlsSessions[0]?.protocol, "TLSv1.3");
});

test("commands pipelined behind STARTTLS are discarded, not run after the handshake", async (t) => {
  const host = await withHost(t);
  const c = await session(t, host);
  await c.reply();
  await c.command("EHLO client.test");
  c.socket.write("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
  assert.equal((await c.reply())?.code, 220);
  await c.startTls();
  // Had the injected MAIL run after the handshake, its reply would come first.
  assert.equal((await c.command("NOOP"))?.code, 250);
  assert.equal((await c.command("MAIL FROM:<a@b.test>"))?.code, 503, "EHLO is required again");
});

test("maxTlsVersion TLSv1.2 caps the handshake at TLS 1.2", async (t) => {
  const host = await withHost(t, { maxTlsVersion: "TLSv1.2" });
  const c = await session(t, host);
  await c.reply();
  await c.command("EHLO client.test");
  await c.command("STARTTLS");
  const tls = await c.startTls();
  assert.equal(tls.getProtocol(), "TLSv1.2");
});

test("without a certificate STARTTLS is neither offered nor accepted", async (t) => {
  const host = await startSmtpHost({ hostname: MX });
  t.after(() => host.close());
  const c = await session(t, host);
  await c.reply();
  assert.ok(!(await c.command("EHLO client.test"))?.lines.includes("STARTTLS"));
  assert.equal((await c.command("STARTTLS"))?.code, 502);
});

test("greeting lines make a multi-line 220; heloOnly refuses EHLO and accepts HELO", async (t) => {
  const host = await withHost(t, { greeting: ["first line", "second", "last"], heloOnly: true });
  const c = await session(t, host);
  assert.deepEqual(await c.reply(), { code: 220, lines: ["first line", "second", "last"] });
  assert.equal((await c.command("EHLO client.test"))?.code, 502);
  assert.deepEqual(await c.command("HELO client.test"), { code: 250, lines: [MX] });
});

test("a command line over 4 KiB is answered 500 and the connection closed", async (t) => {
  const host = await withHost(t);
  const c = await session(t, host);
  await c.reply();
  c.socket.write("x".repeat(10_000));
  assert.equal((await c.reply())?.code, 500);
  assert.equal(await c.reply(), null);
  assert.ok(c.closed);
});

test("fault no-starttls: EHLO lacks STARTTLS and the command is refused", async (t) => {
  const host = await withHost(t, { fault: "no-starttls" });
  const c = await session(t, host);
  await c.reply();
  const ehlo = await c.command("EHLO client.test");
  assert.equal(ehlo?.code, 250);
  assert.ok(!ehlo?.lines.includes("STARTTLS"));
  assert.equal((await c.command("STARTTLS"))?.code, 502);
});

test("fault starttls-refused: STARTTLS is offered, then answered 454", async (t) => {
  const host = await withHost(t, { fault: "starttls-refused" });
  const c = await session(t, host);
  await c.reply();
  assert.ok((await c.command("EHLO client.test"))?.lines.includes("STARTTLS"));
  assert.equal((await c.command("STARTTLS"))?.code, 454);
});

test("fault tls-1.0: only TLS 1.0/1.1 handshakes succeed", async (t) => {
  const host = await withHost(t, { fault: "tls-1.0" });
  const modern = await session(t, host);
  await modern.reply();
  await modern.command("EHLO client.test");
  await modern.command("STARTTLS");
  await assert.rejects(modern.startTls({ minVersion: "TLSv1.2" }), /protocol version/i);

  const legacy = await session(t, host);
  await legacy.reply();
  await legacy.command("EHLO client.test");
  await legacy.command("STARTTLS");
  const tls = await legacy.startTls({ minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" });
  assert.match(tls.getProtocol() ?? "", /^TLSv1(\.1)?$/);
});

test("fault close-after-ehlo: the EHLO reply arrives, then the connection closes", async (t) => {
  const host = await withHost(t, { fault: "close-after-ehlo" });
  const c = await session(t, host);
  await c.reply();
  assert.equal((await c.command("EHLO client.test"))?.code, 250);
  assert.equal(await c.reply(), null);
  assert.ok(c.closed);
});

test("fault greeting-421: a 421 greeting, then close", async (t) => {
  const host = await withHost(t, { fault: "greeting-421" });
  const c = await session(t, host);
  assert.equal((await c.reply())?.code, 421);
  assert.equal(await c.reply(), null);
  assert.ok(c.closed);
});

test("fault slow-greeting: no greeting ever comes", async (t) => {
  const host = await withHost(t, { fault: "slow-greeting" });
  const c = await session(t, host);
  assert.equal(await c.reply(300), null);
  assert.equal(c.raw(), "");
  assert.ok(!c.closed);
});

test("fault garbage: the first bytes are not an SMTP reply", async (t) => {
  const host = await withHost(t, { fault: "garbage" });
  const c = await session(t, host);
  await c.reply(300);
  assert.ok(c.raw().length > 0);
  assert.doesNotMatch(c.raw(), /^\d{3}[ -]/);
});

test("close() destroys open connections, including TLS ones, and resolves", async () => {
  const host = await startSmtpHost({ hostname: MX, cert });
  const plain = await Client.open(host);
  const secure = await Client.open(host);
  await plain.reply();
  await secure.reply();
  await secure.command("EHLO client.test");
  await secure.command("STARTTLS");
  await secure.startTls();
  await host.close();
  assert.equal(await plain.reply(), null);
  assert.equal(await secure.reply(), null);
  assert.ok(plain.closed && secure.closed);
});

const swaks = await new Promise<boolean>((resolve) =>
  execFile("swaks", ["--version"], (error) => resolve(!error)),
);

test("swaks delivers a message over STARTTLS to the lab MX", {
  skip: swaks ? false : "swaks is not installed (apt-get install swaks)",
}, async (t) => {
  const host = await withHost(t);
  const dir = mkdtempSync(join(tmpdir(), "mtasts-swaks-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = ca.writeCaFile(dir);
  const args = [
    ...["--server", host.address, "--port", String(host.port)],
    ...["--from", "sender@swaks.test", "--to", "rcpt@lab.test", "--helo", "swaks.test"],
    ...["--tls", "--tls-verify", "--tls-ca-path", caFile],
    ...["--timeout", "5", "--body", "hello from swaks"],
  ];
  // Asynchronous on purpose: the server runs in this process.
  const out = await new Promise<string>((resolve, reject) =>
    execFile("swaks", args, { timeout: 10_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );
  assert.match(out, /<- {2}220 .*Ready to start TLS/);
  assert.match(out, /=== TLS started with cipher TLSv1\.[23]/);
  assert.match(out, /<~ {2}221 /);
  assert.equal(host.messages.length, 1);
  assert.equal(host.messages[0]?.tls, true);
  assert.deepEqual(host.messages[0]?.to, ["rcpt@lab.test"]);
  assert.match(host.messages[0]?.data ?? "", /hello from swaks/);
});
