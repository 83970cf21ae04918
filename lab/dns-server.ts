// The lab's authoritative DNS server: UDP and TCP on one loopback port, zones
// as data (dns-zone.ts), named faults per owner name, a log of every query.
// Malformed input is dropped or answered FORMERR; nothing a client sends can
// throw out of a socket handler.

import { randomBytes } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { createServer, isIPv6, type Server, type Socket } from "node:net";
import { type Answer, type DecodedPacket, decode, encode, type Packet } from "dns-packet";
import {
  compileZones,
  type Lookup,
  lookup,
  normalizeName,
  type ZoneData,
  type ZoneIndex,
} from "./dns-zone.ts";

export type { NameFault, RecordData, ZoneData } from "./dns-zone.ts";

export interface QueryLogEntry {
  /** Lowercase, without the trailing dot. */
  name: string;
  type: string;
  transport: "udp" | "tcp";
  /** Date.now() when the query arrived. */
  at: number;
}

export interface DnsServer {
  address: string;
  port: number;
  log: QueryLogEntry[];
  /** Replaces every zone (and fault) at once; queries already answered are unaffected. */
  setZones(zones: ZoneData[]): void;
  close(): Promise<void>;
}

export interface DnsServerOptions {
  zones: ZoneData[];
  /** A loopback address; 127.0.0.1 by default. */
  address?: string;
  /** 0 (the default) picks a port free for both UDP and TCP. */
  port?: number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const FLAG = { AA: 1 << 10, TC: 1 << 9, RD: 1 << 8, RA: 1 << 7, AD: 1 << 5, CD: 1 << 4 };
const DO_BIT = 1 << 15;
const CLASSIC_UDP_LIMIT = 512;
const TCP_IDLE_MS = 30_000;

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const address = options.address ?? "127.0.0.1";
  let index: ZoneIndex = compileZones(options.zones);
  const log: QueryLogEntry[] = [];
  const connections = new Set<Socket>();

  const respond = (query: Buffer, transport: "udp" | "tcp"): Buffer | null => {
    try {
      return answer(query, transport, index, log);
    } catch {
      // Something dns-packet cannot re-encode (an odd class, say): still never a crash.
      return query.length >= 2 ? formErr(query.readUInt16BE(0)) : null;
    }
  };

  const { tcp, udp, port } = await bindBoth(address, options.port ?? 0, respond, connections);
  let closing: Promise<void> | undefined;

  return {
    address,
    port,
    log,
    setZones(zones) {
      index = compileZones(zones);
    },
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => tcp.close(() => resolve())),
        new Promise<void>((resolve) => udp.close(() => resolve())),
      ]).then(() => undefined);
      for (const socket of connections) socket.destroy();
      connections.clear();
      return closing;
    },
  };
}

type Respond = (query: Buffer, transport: "udp" | "tcp") => Buffer | null;

/** TCP first (port 0 picks one), then UDP on the same number; retried if UDP's is taken. */
async function bindBoth(
  address: string,
  port: number,
  respond: Respond,
  connections: Set<Socket>,
): Promise<{ tcp: Server; udp: UdpSocket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const tcp = createServer((socket) => serveTcp(socket, respond, connections));
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen({ host: address, port, exclusive: true }, () => {
        tcp.off("error", reject);
        resolve();
      });
    });
    const bound = (tcp.address() as { port: number }).port;
    const udp = createSocket({ type: isIPv6(address) ? "udp6" : "udp4" });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind({ address, port: bound, exclusive: true }, () => {
          udp.off("error", reject);
          resolve();
        });
      });
    } catch (e) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      udp.close();
      if (port !== 0 || attempt >= 20) throw e;
      continue;
    }
    udp.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
      const reply = respond(msg, "udp");
      if (reply) udp.send(reply, rinfo.port, rinfo.address, () => {});
    });
    udp.on("error", () => {}); // e.g. ICMP errors for a client that went away
    return { tcp, udp, port: bound };
  }
}

/** RFC 7766: 2-byte length framing, several queries per connection, answered in order. */
function serveTcp(socket: Socket, respond: Respond, connections: Set<Socket>): void {
  connections.add(socket);
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  socket.on("close", () => connections.delete(socket));
  socket.on("error", () => socket.destroy());
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const query = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const reply = respond(query, "tcp");
      if (reply && !socket.destroyed) {
        const frame = Buffer.alloc(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        reply.copy(frame, 2);
        socket.write(frame);
      }
    }
  });
}

/** The reply to one query message, or null to stay silent. */
function answer(
  query: Buffer,
  transport: "udp" | "tcp",
  index: ZoneIndex,
  log: QueryLogEntry[],
): Buffer | null {
  if (query.length < 12 || (query[2] as number) & 0x80) return null; // not a query
  let packet: DecodedPacket;
  try {
    packet = decode(query);
  } catch {
    return formErr(query.readUInt16BE(0));
  }
  const question = packet.questions?.[0];
  if (!question || packet.questions?.length !== 1) return formErr(packet.id ?? 0);

  const name = normalizeName(question.name);
  const type = String(question.type).toUpperCase();
  log.push({ name, type, transport, at: Date.now() });

  const opt = packet.additionals?.find((a) => a.type === "OPT") as
    | { udpPayloadSize?: number; flags?: number }
    | undefined;
  const dnssecOk = ((opt?.flags ?? 0) & DO_BIT) !== 0;
  const queryFlags = packet.flags ?? 0;
  const reply: Packet = {
    type: "response",
    id: packet.id ?? 0,
    flags: (queryFlags & FLAG.RD) | (queryFlags & FLAG.RD ? FLAG.RA : 0) | (queryFlags & FLAG.CD),
    questions: [question],
    answers: [],
    authorities: [],
    additionals: opt ? [optRecord(dnssecOk)] : [],
  };
  const finish = (rcode: number): Buffer => {
    reply.flags = (reply.flags ?? 0) | rcode;
    return fit(reply, transport, opt?.udpPayloadSize);
  };

  if (((queryFlags >> 11) & 0xf) !== 0) return finish(RCODE.NOTIMP); // opcode other than QUERY
  if (question.class !== undefined && question.class !== "IN" && question.class !== "ANY") {
    return finish(RCODE.REFUSED);
  }

  const found = lookup(index, name, type);
  if (found.kind === "refused") return finish(RCODE.REFUSED);
  if (found.kind === "fault") {
    switch (found.fault) {
      case "timeout":
        return null;
      case "garbage":
        return randomBytes(12 + Math.floor(Math.random() * 52));
      case "servfail":
        return finish(RCODE.SERVFAIL);
      case "refused":
        return finish(RCODE.REFUSED);
      case "nxdomain":
        reply.flags = (reply.flags ?? 0) | FLAG.AA;
        reply.authorities = [found.soa];
        return finish(RCODE.NXDOMAIN);
      case "truncated": {
        if (transport === "udp") {
          reply.flags = (reply.flags ?? 0) | FLAG.AA | FLAG.TC;
          return finish(RCODE.NOERROR);
        }
        // Over TCP the name answers normally.
        const clean = lookup(index, name, type, { ignoreFault: true });
        if (clean.kind !== "answer") return finish(RCODE.SERVFAIL);
        return fill(reply, clean, queryFlags, dnssecOk, finish);
      }
    }
  }
  return fill(reply, found, queryFlags, dnssecOk, finish);
}

function fill(
  reply: Packet,
  found: Extract<Lookup, { kind: "answer" }>,
  queryFlags: number,
  dnssecOk: boolean,
  finish: (rcode: number) => Buffer,
): Buffer {
  reply.flags = (reply.flags ?? 0) | FLAG.AA;
  reply.answers = found.answers;
  reply.authorities = found.authorities;
  // RFC 6840 §5.7/§5.8: AD is only returned to a client that asked with AD or DO.
  if (found.authenticated && (queryFlags & FLAG.AD || dnssecOk)) {
    reply.flags = (reply.flags ?? 0) | FLAG.AD;
  }
  return finish(found.rcode === "NXDOMAIN" ? RCODE.NXDOMAIN : RCODE.NOERROR);
}

function optRecord(dnssecOk: boolean): Answer {
  return {
    type: "OPT",
    name: ".",
    udpPayloadSize: 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: dnssecOk ? DO_BIT : 0,
    flag_do: dnssecOk,
    options: [],
  };
}

/** Encodes the reply; over UDP, one larger than the client can take becomes TC with no records. */
function fit(reply: Packet, transport: "udp" | "tcp", ednsSize: number | undefined): Buffer {
  let bytes = encode(reply);
  const limit = ednsSize === undefined ? CLASSIC_UDP_LIMIT : Math.max(ednsSize, CLASSIC_UDP_LIMIT);
  if ((transport === "udp" && bytes.length > limit) || bytes.length > 0xffff) {
    bytes = encode({
      ...reply,
      flags: (reply.flags ?? 0) | FLAG.TC,
      answers: [],
      authorities: [],
    });
  }
  return bytes;
}

function formErr(id: number): Buffer {
  return encode({ type: "response", id, flags: RCODE.FORMERR, questions: [] });
}
