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

const TYPE = { A: 1, CNAME: 5, TXT: 16, AAAA: 28 } as const;
const TYPE_SOA = 6;
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
    // Names go on the wire as A-labels (RFC 5890); UTF-8 here would be a different name.
    if (/[^\x21-\x7e]/.test(label)) {
      return `"${name}" holds a character outside ASCII or a space: give IDNs in A-label form (xn--…)`;
    }
    const bytes = Buffer.from(label, "ascii");
    if (bytes.length === 0) return `"${name}" has an empty label`;
    if (bytes.length > 63) return `"${name}": the label "${label}" is longer than 63 bytes`;
    if (/[\\"();]/.test(label)) return `"${name}": the label "${label}" holds one of \\ " ( ) ;`;
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
    if (!Object.hasOwn(TYPE, del.type))
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
  zoneQuestion.writeUInt16BE(TYPE_SOA, 0);
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
