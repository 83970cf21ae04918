// The bytes of an RFC 2136 UPDATE and of its reply. dns-packet encodes the
// header and sections, but not a delete (class ANY, TTL 0, *empty* rdata) for
// CNAME or A, and not TSIG; the message is small enough to write here whole,
// uncompressed, so every byte the MAC covers is one we chose.

import { ipFamily } from "./ip.ts";

export type RecordType = "TXT" | "CNAME" | "A" | "AAAA";

export interface WireChange {
  name: string;
  type: RecordType;
  ttl: number;
  value: string;
}

export interface WireUpdate {
  zone: string;
  /** RRsets to delete (RFC 2136 §2.5.2); written before the additions. */
  deletes: { name: string; type: RecordType }[];
  adds: WireChange[];
}

export interface WireReply {
  id: number;
  isResponse: boolean;
  opcode: number;
  rcode: number;
  truncated: boolean;
  /** The last additional record when it is a TSIG. */
  tsig?: TsigRecord;
}

/** The TSIG fields of a message (RFC 8945 §4.2). */
export interface TsigRecord {
  /** Where the TSIG RR starts: the MAC covers everything before it. */
  offset: number;
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

const TYPE = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, TSIG: 250 } as const;
const CLASS_IN = 1;
const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;
const MAX_TTL = 2 ** 31 - 1;

/** Uncompressed wire form of an absolute name, or why it cannot be one. */
export function encodeName(name: string): Buffer | string {
  const bare = name.replace(/\.$/, "");
  if (bare === "") return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of bare.split(".")) {
    const bytes = Buffer.from(label, "utf8");
    if (bytes.length === 0) return `"${name}" has an empty label`;
    if (bytes.length > 63) return `"${name}": the label "${label}" is longer than 63 bytes`;
    if (/[\s\\"();]/.test(label))
      return `"${name}": the label "${label}" holds a space or one of \\ " ( ) ;`;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  return wire.length > 255 ? `"${name}" is longer than 255 bytes` : wire;
}

export function encodeUpdate(
  update: WireUpdate,
  id: number,
): { ok: true; bytes: Buffer } | { ok: false; message: string } {
  const zone = encodeName(update.zone);
  if (typeof zone === "string") return { ok: false, message: `zone: ${zone}` };
  const records: Buffer[] = [];
  for (const [i, del] of update.deletes.entries()) {
    const name = encodeName(del.name);
    if (typeof name === "string") return { ok: false, message: `delete ${i + 1}: ${name}` };
    if (!(del.type in TYPE))
      return { ok: false, message: `delete ${i + 1}: unsupported type "${del.type}"` };
    records.push(name, fixed(TYPE[del.type], CLASS_ANY, 0, 0));
  }
  for (const [i, add] of update.adds.entries()) {
    const where = `add ${i + 1} (${add.name} ${add.type})`;
    const name = encodeName(add.name);
    if (typeof name === "string") return { ok: false, message: `${where}: ${name}` };
    if (!Number.isInteger(add.ttl) || add.ttl < 0 || add.ttl > MAX_TTL) {
      return {
        ok: false,
        message: `${where}: ttl ${add.ttl} is not a whole number of seconds from 0 to ${MAX_TTL}`,
      };
    }
    const rdata = encodeRdata(add.type, add.value);
    if (typeof rdata === "string") return { ok: false, message: `${where}: ${rdata}` };
    records.push(name, fixed(TYPE[add.type], CLASS_IN, add.ttl, rdata.length), rdata);
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4); // ZOCOUNT
  header.writeUInt16BE(0, 6); // PRCOUNT
  header.writeUInt16BE(update.deletes.length + update.adds.length, 8); // UPCOUNT
  const zoneQuestion = Buffer.alloc(4);
  zoneQuestion.writeUInt16BE(TYPE.SOA, 0);
  zoneQuestion.writeUInt16BE(CLASS_IN, 2);
  const bytes = Buffer.concat([header, zone, zoneQuestion, ...records]);
  if (bytes.length > 65_000)
    return {
      ok: false,
      message: `the update is ${bytes.length} bytes, more than one DNS message holds`,
    };
  return { ok: true, bytes };
}

function encodeRdata(type: RecordType, value: string): Buffer | string {
  switch (type) {
    case "TXT":
      return encodeTxt(value);
    case "CNAME": {
      const target = encodeName(value);
      return typeof target === "string" ? `target ${target}` : target;
    }
    case "A":
      return ipFamily(value) === 4
        ? Buffer.from(value.split(".").map(Number))
        : `"${value}" is not an IPv4 address`;
    case "AAAA":
      return ipFamily(value) === 6 ? ipv6Bytes(value) : `"${value}" is not an IPv6 address`;
    default:
      return `unsupported type "${type}"`;
  }
}

/** RFC 1035 §3.3.14: character-strings of at most 255 bytes, never splitting a UTF-8 character. */
function encodeTxt(text: string): Buffer | string {
  const bytes = Buffer.from(text, "utf8");
  const parts: Buffer[] = [];
  let at = 0;
  do {
    let end = Math.min(at + 255, bytes.length);
    // A continuation byte (10xxxxxx) must stay with the character it continues.
    if (end < bytes.length) while (end > at && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    parts.push(Buffer.from([end - at]), bytes.subarray(at, end));
    at = end;
  } while (at < bytes.length);
  const rdata = Buffer.concat(parts);
  return rdata.length > 65_000
    ? `the text is ${bytes.length} bytes, too long for one record`
    : rdata;
}

function ipv6Bytes(text: string): Buffer {
  let address = text.replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  if (v4 !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split(".").map(Number);
    address = `${address.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = address.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  const out = Buffer.alloc(16);
  for (const [i, group] of all.entries()) out.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  return out;
}

function fixed(type: number, klass: number, ttl: number, rdlength: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(klass, 2);
  b.writeUInt32BE(ttl, 4);
  b.writeUInt16BE(rdlength, 8);
  return b;
}

/** Reads a reply's header and its TSIG, or says what is wrong with the bytes. Never throws. */
export function readReply(bytes: Buffer): WireReply | { error: string } {
  try {
    return parseReply(bytes);
  } catch (error) {
    return {
      error:
        error instanceof RangeError || error instanceof Malformed ? error.message : String(error),
    };
  }
}

class Malformed extends Error {}

function parseReply(bytes: Buffer): WireReply {
  if (bytes.length < 12)
    throw new Malformed(`the reply is ${bytes.length} bytes, shorter than a DNS header`);
  const flags = bytes.readUInt16BE(2);
  const reply: WireReply = {
    id: bytes.readUInt16BE(0),
    isResponse: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
  };
  const [qd, an, ns, ar] = [4, 6, 8, 10].map((at) => bytes.readUInt16BE(at)) as [
    number,
    number,
    number,
    number,
  ];
  let at = 12;
  for (let i = 0; i < qd; i++) at = readName(bytes, at).end + 4;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const start = at;
    const owner = readName(bytes, at);
    at = owner.end;
    const type = need(bytes, at, 10).readUInt16BE(at);
    const rdlength = bytes.readUInt16BE(at + 8);
    at += 10;
    need(bytes, at, rdlength);
    if (type === TYPE.TSIG) {
      if (i !== total - 1)
        throw new Malformed("the reply has a TSIG record that is not the last record");
      reply.tsig = readTsig(bytes, start, owner.name, at, at + rdlength);
    }
    at += rdlength;
  }
  // Bytes past the last record are ignored, as resolvers do.
  return reply;
}

function readTsig(
  bytes: Buffer,
  offset: number,
  keyName: string,
  from: number,
  end: number,
): TsigRecord {
  const algorithm = readName(bytes, from);
  let at = algorithm.end;
  const within = (n: number) => {
    if (at + n > end) throw new Malformed("the reply's TSIG record is cut short");
  };
  within(10);
  const timeSigned = bytes.readUIntBE(at, 6);
  const fudge = bytes.readUInt16BE(at + 6);
  const macSize = bytes.readUInt16BE(at + 8);
  at += 10;
  within(macSize + 6);
  const mac = Buffer.from(bytes.subarray(at, at + macSize));
  at += macSize;
  const originalId = bytes.readUInt16BE(at);
  const error = bytes.readUInt16BE(at + 2);
  const otherLength = bytes.readUInt16BE(at + 4);
  at += 6;
  within(otherLength);
  const otherData = Buffer.from(bytes.subarray(at, at + otherLength));
  return {
    offset,
    keyName,
    algorithm: algorithm.name,
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    otherData,
  };
}

/** A name with compression pointers followed (each must point backwards, so no loops). */
function readName(bytes: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = start;
  let end = -1;
  for (;;) {
    const len = need(bytes, at, 1)[at] ?? 0;
    if ((len & 0xc0) === 0xc0) {
      const target = need(bytes, at, 2).readUInt16BE(at) & 0x3fff;
      if (target >= at)
        throw new Malformed(
          "the reply has a name compression pointer that does not point backwards",
        );
      if (end < 0) end = at + 2;
      at = target;
    } else if (len & 0xc0) {
      throw new Malformed(`the reply has an unknown label type 0x${len.toString(16)}`);
    } else if (len === 0) {
      return { name: labels.join("."), end: end < 0 ? at + 1 : end };
    } else {
      labels.push(need(bytes, at + 1, len).toString("latin1", at + 1, at + 1 + len));
      at += len + 1;
    }
  }
}

function need(bytes: Buffer, at: number, n: number): Buffer {
  if (at + n > bytes.length) throw new Malformed("the reply is cut short");
  return bytes;
}
