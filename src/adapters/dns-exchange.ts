// One DNS message out, one reply back, over UDP or TCP, within a deadline.
// Only a reply from the server we asked, carrying our ID and the QR bit, is
// taken; anything else on the UDP socket is ignored. Never throws.

import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { ipFamily } from "./ip.ts";

export interface ExchangeServer {
  host: string;
  port: number;
}

export type Exchanged =
  | { ok: true; bytes: Buffer }
  | { ok: false; kind: "timeout" | "refused" | "network"; message: string };

/** A TCP reply is length-prefixed with 16 bits, so this is also the ceiling. */
const MAX_TCP_REPLY = 65_535;

export function exchange(
  message: Buffer,
  server: ExchangeServer,
  transport: "udp" | "tcp",
  timeoutMs: number,
): Promise<Exchanged> {
  return transport === "udp"
    ? overUdp(message, server, timeoutMs)
    : overTcp(message, server, timeoutMs);
}

function overUdp(message: Buffer, server: ExchangeServer, timeoutMs: number): Promise<Exchanged> {
  return new Promise((resolve) => {
    const family = ipFamily(server.host);
    if (family === 0) {
      resolve({ ok: false, kind: "network", message: `"${server.host}" is not an IP address` });
      return;
    }
    const socket = createSocket(family === 6 ? "udp6" : "udp4");
    const id = message.readUInt16BE(0);
    let done = false;
    const finish = (outcome: Exchanged) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({ ok: false, kind: "timeout", message: `no reply over UDP within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on("error", (error: NodeJS.ErrnoException) => finish(failure(error, "UDP")));
    socket.on("message", (bytes) => {
      // A connected socket only receives from the server; the ID and QR bit
      // keep a stray or spoofed datagram from ending the wait.
      if (bytes.length >= 12 && bytes.readUInt16BE(0) === id && (bytes[2] ?? 0) & 0x80) {
        finish({ ok: true, bytes });
      }
    });
    // Connecting lets the kernel report ICMP port-unreachable as ECONNREFUSED.
    socket.connect(server.port, server.host, () => {
      socket.send(message, (error) => {
        if (error) finish(failure(error, "UDP"));
      });
    });
  });
}

function overTcp(message: Buffer, server: ExchangeServer, timeoutMs: number): Promise<Exchanged> {
  return new Promise((resolve) => {
    const socket = connect({ host: server.host, port: server.port });
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (outcome: Exchanged) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({ ok: false, kind: "timeout", message: `no reply over TCP within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on("error", (error: NodeJS.ErrnoException) => finish(failure(error, "TCP")));
    socket.on("connect", () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 2) return;
      const all = Buffer.concat(chunks);
      const want = all.readUInt16BE(0);
      if (received - 2 >= want) finish({ ok: true, bytes: Buffer.from(all.subarray(2, 2 + want)) });
      else if (received > MAX_TCP_REPLY + 2)
        finish({ ok: false, kind: "network", message: "the TCP reply overran its length" });
    });
    socket.on("end", () =>
      finish({
        ok: false,
        kind: "network",
        message: "the server closed the TCP connection without a whole reply",
      }),
    );
  });
}

function failure(error: NodeJS.ErrnoException, transport: string): Exchanged {
  if (error.code === "ECONNREFUSED") {
    return {
      ok: false,
      kind: "refused",
      message: `nothing is listening there (${transport} connection refused)`,
    };
  }
  return { ok: false, kind: "network", message: `${transport}: ${error.message}` };
}
