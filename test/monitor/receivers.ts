// Real receivers for alert delivery on loopback: an SMTP server (smtp-server)
// that keeps each message parsed (postal-mime), and a node:http webhook
// receiver that keeps each JSON body and can be switched off and on again on
// the same port.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import PostalMime from "postal-mime";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface MailSink {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

export async function startMailSink(
  tls?: { key: string; cert: string },
  auth?: { user: string; pass: string },
): Promise<MailSink> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    name: "mail-sink.lab.test",
    authOptional: auth === undefined,
    disabledCommands: [...(tls ? [] : ["STARTTLS"]), ...(auth ? [] : ["AUTH"])],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    // AUTH in the clear is refused by smtp-server unless allowed; with TLS it is fine.
    allowInsecureAuth: tls === undefined,
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 1,
    onAuth(a, _session, callback) {
      if (auth && a.username === auth.user && a.password === auth.pass) {
        callback(null, { user: a.username });
      } else callback(new Error("bad credentials"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        PostalMime.parse(Buffer.concat(chunks)).then(
          (email) => {
            messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: email.subject ?? "",
              text: email.text ?? "",
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface WebhookSink {
  url: string;
  bodies: {
    headers: Record<string, string | string[] | undefined>;
    json: Record<string, unknown>;
  }[];
  /** Stops listening (connections are refused) until up() again. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const bodies: WebhookSink["bodies"] = [];
  let server: Server | null = null;
  let port = 0;
  const up = async () => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push({ headers: req.headers, json: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const down = async () => {
    const s = server;
    server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await up();
  return {
    url: `http://127.0.0.1:${port}/hook?token=secret`,
    bodies,
    down,
    up,
    close: down,
  };
}
