// A lab MX: a small SMTP responder on loopback that speaks just enough SMTP
// (greeting, EHLO/HELO, STARTTLS, MAIL/RCPT/DATA, RSET, NOOP, QUIT) for probes,
// senders and swaks, and that can carry one named fault. Certificate faults
// come from the certificate you pass. Written by hand rather than on
// smtp-server so that each fault is one branch here, not a monkey patch.

import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";

export type SmtpFault =
  /** EHLO does not offer STARTTLS; the command answers 502. */
  | "no-starttls"
  /** STARTTLS is offered but answers 454. */
  | "starttls-refused"
  /** TLS only as 1.0 or 1.1 (legacy ciphers, security level 0). */
  | "tls-1.0"
  /** Answers EHLO, then closes the connection. */
  | "close-after-ehlo"
  /** Greets with 421 and closes. */
  | "greeting-421"
  /** Accepts the connection and never sends the greeting. */
  | "slow-greeting"
  /** Sends bytes that are not SMTP instead of a greeting. */
  | "garbage";

export interface SmtpHostOptions {
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** The name in the greeting and the EHLO reply. */
  hostname: string;
  /** Key and chain (leaf first) for STARTTLS; without it STARTTLS is not offered. */
  cert?: { keyPem: string; chainPem: string };
  fault?: SmtpFault;
  /** Greeting text lines; more than one makes a multi-line 220 reply. */
  greeting?: string[];
  /** Behave like a pre-ESMTP server: EHLO answers 502, HELO works. */
  heloOnly?: boolean;
  /** Highest TLS version offered (default TLSv1.3); ignored with the "tls-1.0" fault. */
  maxTlsVersion?: "TLSv1.2" | "TLSv1.3";
}

/** What the host saw of one completed TLS handshake. */
export interface TlsSessionSeen {
  /** The SNI the client sent, or null when it sent none. */
  servername: string | null;
  protocol: string | null;
  cipher: string;
}

export interface ReceivedMessage {
  heloName: string;
  from: string;
  to: string[];
  /** The message as received (dot-unstuffed, CRLF line ends). */
  data: string;
  tls: boolean;
}

export interface SmtpHost {
  address: string;
  port: number;
  /** Connections accepted so far. */
  readonly sessions: number;
  readonly tlsSessions: readonly TlsSessionSeen[];
  readonly messages: readonly ReceivedMessage[];
  /** Every command line received (not message content), all sessions, in order. */
  readonly commands: readonly string[];
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

const MAX_LINE = 4096;
const MAX_MESSAGE = 10 * 1024 * 1024;

export async function startSmtpHost(options: SmtpHostOptions): Promise<SmtpHost> {
  const sockets = new Set<Socket>();
  const tlsSessions: TlsSessionSeen[] = [];
  const messages: ReceivedMessage[] = [];
  const commands: string[] = [];
  let sessions = 0;
  const secureContext = contextFor(options);

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // a client that vanishes is normal here
  };

  const server: Server = createServer((socket) => {
    sessions++;
    track(socket);
    serve(socket, {
      options,
      secureContext,
      track,
      onTls: (seen) => tlsSessions.push(seen),
      onMessage: (message) => messages.push(message),
      onCommand: (line) => commands.push(line),
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.address ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("smtp host: no TCP address");

  return {
    address: bound.address,
    port: bound.port,
    get sessions() {
      return sessions;
    },
    tlsSessions,
    messages,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Outermost first: Node 24 crashes (SIGSEGV in SSL_read, later) when a
        // TCP socket is destroyed before the TLS socket wrapping it.
        for (const socket of [...sockets].reverse()) socket.destroy();
      }),
  };
}

function contextFor({ cert, fault, maxTlsVersion }: SmtpHostOptions): SecureContext | undefined {
  if (!cert) return undefined;
  if (fault === "tls-1.0") {
    return createSecureContext({
      key: cert.keyPem,
      cert: cert.chainPem,
      minVersion: "TLSv1",
      maxVersion: "TLSv1.1",
      ciphers: "DEFAULT@SECLEVEL=0",
    });
  }
  return createSecureContext({
    key: cert.keyPem,
    cert: cert.chainPem,
    maxVersion: maxTlsVersion ?? "TLSv1.3",
  });
}

interface SessionContext {
  options: SmtpHostOptions;
  secureContext: SecureContext | undefined;
  track(socket: Socket): void;
  onTls(seen: TlsSessionSeen): void;
  onMessage(message: ReceivedMessage): void;
  onCommand(line: string): void;
}

function serve(raw: Socket, ctx: SessionContext): void {
  const { options } = ctx;
  const fault = options.fault;
  const offersTls = ctx.secureContext !== undefined && fault !== "no-starttls";
  let conn: Socket = raw;
  let secure = false;
  let heloName: string | undefined;
  let from: string | undefined;
  let to: string[] = [];
  let data: string[] | undefined;
  let dataBytes = 0;
  let pending: Buffer = Buffer.alloc(0);

  const reply = (code: number, lines: string[]): undefined => {
    const text = lines.map((line, i) => `${code}${i < lines.length - 1 ? "-" : " "}${line}\r\n`);
    conn.write(text.join(""));
  };
  const resetTransaction = () => {
    from = undefined;
    to = [];
  };

  switch (fault) {
    case "slow-greeting":
      return; // accept, read nothing, say nothing
    case "greeting-421":
      conn.end(`421 4.3.2 ${options.hostname} Service not available, closing channel\r\n`);
      return;
    case "garbage":
      conn.write(Buffer.from("\x00\x15\x03\x01\xff\xfeHTTP/1.1 400 Bad Request\r\n", "latin1"));
      return;
  }
  reply(220, options.greeting ?? [`${options.hostname} ESMTP mtasts-lab`]);

  const onData = (chunk: Buffer) => {
    if (conn.destroyed || conn.writableEnded) return;
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const nl = pending.indexOf(10);
      if (nl < 0) break;
      const line = pending.subarray(0, nl).toString("latin1").replace(/\r$/, "");
      pending = pending.subarray(nl + 1);
      if (conn.destroyed || conn.writableEnded) return;
      if (data !== undefined) onDataLine(line);
      else if (onCommand(line) === "starttls") return;
    }
    if (data === undefined && pending.length > MAX_LINE) {
      reply(500, ["5.5.2 Line too long"]);
      conn.end();
    } else if (pending.length > MAX_MESSAGE) {
      reply(552, ["5.3.4 Message too big"]);
      conn.end();
    }
  };

  const onDataLine = (line: string) => {
    if (line === ".") {
      const body = data ?? [];
      data = undefined;
      if (dataBytes > MAX_MESSAGE) reply(552, ["5.3.4 Message too big"]);
      else {
        ctx.onMessage({
          heloName: heloName ?? "",
          from: from ?? "",
          to,
          data: body.map((l) => `${l}\r\n`).join(""),
          tls: secure,
        });
        reply(250, ["2.0.0 Ok: queued"]);
      }
      resetTransaction();
      return;
    }
    dataBytes += line.length + 2;
    if (dataBytes <= MAX_MESSAGE) data?.push(line.startsWith(".") ? line.slice(1) : line);
  };

  /** Answers one command line; returns "starttls" when the connection is being upgraded. */
  const onCommand = (line: string): "starttls" | undefined => {
    ctx.onCommand(line);
    const [verb = "", ...rest] = line.split(" ");
    const arg = rest.join(" ").trim();
    switch (verb.toUpperCase()) {
      case "EHLO": {
        if (options.heloOnly) return reply(502, ["5.5.1 EHLO not supported, try HELO"]);
        if (!arg) return reply(501, ["5.5.4 Syntax: EHLO hostname"]);
        heloName = arg;
        resetTransaction();
        const keywords = ["PIPELINING", "SIZE 10485760", "8BITMIME"];
        if (offersTls && !secure) keywords.push("STARTTLS");
        keywords.push("ENHANCEDSTATUSCODES", "SMTPUTF8");
        reply(250, [`${options.hostname} greets ${arg}`, ...keywords]);
        if (fault === "close-after-ehlo") conn.end();
        return;
      }
      case "HELO":
        if (!arg) return reply(501, ["5.5.4 Syntax: HELO hostname"]);
        heloName = arg;
        resetTransaction();
        return reply(250, [options.hostname]);
      case "STARTTLS":
        if (secure) return reply(503, ["5.5.1 TLS already active"]);
        if (!offersTls || !ctx.secureContext) return reply(502, ["5.5.1 Command not implemented"]);
        if (arg) return reply(501, ["5.5.4 Syntax: STARTTLS"]);
        if (fault === "starttls-refused") return reply(454, ["4.7.0 TLS not available"]);
        reply(220, ["2.0.0 Ready to start TLS"]);
        upgrade(ctx.secureContext);
        return "starttls";
      case "MAIL":
        if (!heloName) return reply(503, ["5.5.1 EHLO/HELO first"]);
        if (!/^FROM:/i.test(arg)) return reply(501, ["5.5.4 Syntax: MAIL FROM:<address>"]);
        from = addressOf(arg.slice(5));
        to = [];
        return reply(250, ["2.1.0 Ok"]);
      case "RCPT":
        if (from === undefined) return reply(503, ["5.5.1 MAIL first"]);
        if (!/^TO:/i.test(arg)) return reply(501, ["5.5.4 Syntax: RCPT TO:<address>"]);
        to.push(addressOf(arg.slice(3)));
        return reply(250, ["2.1.5 Ok"]);
      case "DATA":
        if (to.length === 0) return reply(503, ["5.5.1 RCPT first"]);
        data = [];
        dataBytes = 0;
        return reply(354, ["End data with <CR><LF>.<CR><LF>"]);
      case "RSET":
        resetTransaction();
        return reply(250, ["2.0.0 Ok"]);
      case "NOOP":
        return reply(250, ["2.0.0 Ok"]);
      case "QUIT":
        reply(221, ["2.0.0 Bye"]);
        conn.end();
        return;
      default:
        return reply(502, ["5.5.2 Command not recognized"]);
    }
  };

  const upgrade = (secureContext: SecureContext) => {
    // RFC 3207 §4.2 and the STARTTLS injection bugs: whatever the client sent
    // after STARTTLS, before the handshake, is discarded, never executed.
    raw.off("data", onData);
    pending = Buffer.alloc(0);
    const tls = new TLSSocket(raw, { isServer: true, secureContext });
    ctx.track(tls);
    conn = tls;
    tls.on("secure", () => {
      secure = true;
      heloName = undefined;
      resetTransaction();
      ctx.onTls({
        servername: typeof tls.servername === "string" ? tls.servername : null,
        protocol: tls.getProtocol(),
        cipher: tls.getCipher()?.name ?? "",
      });
      tls.on("data", onData);
    });
  };

  raw.on("data", onData);
}

function addressOf(text: string): string {
  const trimmed = text.trim();
  const angle = /^<([^>]*)>/.exec(trimmed);
  return angle ? (angle[1] ?? "") : (trimmed.split(" ")[0] ?? "");
}
