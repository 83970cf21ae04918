// Reading the reply to an UPDATE: the header, and the TSIG record that must
// close it when the request was signed. Only what deciding the outcome needs
// is read; every length is checked against the bytes that arrived.

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

const TYPE_TSIG = 250;

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
    if (type === TYPE_TSIG) {
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
  // Each pointer must land before where the last jump landed, so jumps
  // strictly descend and a loop is impossible.
  let floor = start;
  for (;;) {
    const len = need(bytes, at, 1)[at] ?? 0;
    if ((len & 0xc0) === 0xc0) {
      const target = need(bytes, at, 2).readUInt16BE(at) & 0x3fff;
      if (target >= floor) {
        throw new Malformed(
          "the reply has a name compression pointer that does not point backwards",
        );
      }
      if (end < 0) end = at + 2;
      at = floor = target;
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
