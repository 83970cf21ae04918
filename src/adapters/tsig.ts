// TSIG (RFC 8945): the shared-secret signature on a DNS message. We sign the
// UPDATE we send and verify the server's signed reply, whose MAC covers our
// request MAC, so a forged or replayed answer cannot claim success.

import { createHmac, timingSafeEqual } from "node:crypto";
import type { TsigRecord } from "./dns-update-reply.ts";
import { encodeName } from "./dns-update-wire.ts";

export interface TsigKey {
  name: string;
  algorithm: "hmac-sha256" | "hmac-sha512";
  /** Base64. */
  secret: string;
}

export type TsigVerdict = { ok: true } | { ok: false; code: string; message: string };

/** RFC 8945 §5.2.3: 300 s is the recommended fudge. */
export const FUDGE_SECONDS = 300;
const CLASS_ANY = 255;
const TYPE_TSIG = 250;
const ALGORITHMS = { "hmac-sha256": "sha256", "hmac-sha512": "sha512" } as const;
const MAC_LENGTH = { "hmac-sha256": 32, "hmac-sha512": 64 } as const;

/**
 * Signs a finished message: appends the TSIG RR and bumps ARCOUNT. Returns the
 * signed bytes and the MAC, which the reply's MAC must cover.
 */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  now: Date,
): { bytes: Buffer; mac: Buffer } {
  const timeSigned = Math.floor(now.getTime() / 1000);
  const vars = variables(key, timeSigned, 0, Buffer.alloc(0));
  const mac = hmac(key, [message, vars]);
  const keyName = wireName(key.name);
  const algorithm = wireName(key.algorithm);
  const rdata = Buffer.concat([
    algorithm,
    time48(timeSigned),
    u16(FUDGE_SECONDS),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    u16(0), // error
    u16(0), // other len
  ]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(TYPE_TSIG, 0);
  head.writeUInt16BE(CLASS_ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  const bytes = Buffer.concat([message, keyName, head, rdata]);
  bytes.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { bytes, mac };
}

/**
 * RFC 8945 §5.3: checks the signed reply to a request we signed with `key`.
 * `reply` is the whole message; `tsig` its last additional record.
 */
export function verifyReply(
  reply: Buffer,
  tsig: TsigRecord,
  key: TsigKey,
  requestMac: Buffer,
  now: Date,
): TsigVerdict {
  if (normalize(tsig.keyName) !== normalize(key.name)) {
    return fail("BADKEY", `the reply is signed with key "${tsig.keyName}", not "${key.name}"`);
  }
  if (normalize(tsig.algorithm) !== key.algorithm) {
    return fail("BADKEY", `the reply is signed with ${tsig.algorithm}, not ${key.algorithm}`);
  }
  // §5.2.2.1: a truncated MAC is allowed down to half the hash, at least 10 bytes.
  const full = MAC_LENGTH[key.algorithm];
  if (tsig.mac.length > full || tsig.mac.length < Math.max(10, full / 2)) {
    return fail("BADSIG", `the reply's TSIG MAC is ${tsig.mac.length} bytes long, not ${full}`);
  }
  // The MAC covers the message as it was before TSIG was added: the original
  // ID and one additional record fewer.
  const unsigned = Buffer.from(reply.subarray(0, tsig.offset));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const vars = variables(key, tsig.timeSigned, tsig.error, tsig.otherData, tsig.fudge);
  const expected = hmac(key, [u16(requestMac.length), requestMac, unsigned, vars]);
  if (!timingSafeEqual(expected.subarray(0, tsig.mac.length), tsig.mac)) {
    return fail(
      "BADSIG",
      "the server's reply carries a TSIG signature that does not verify with our key: " +
        "the reply was altered on the way, or it does not come from the server holding the key",
    );
  }
  const skew = Math.floor(now.getTime() / 1000) - tsig.timeSigned;
  if (Math.abs(skew) > tsig.fudge) {
    return fail(
      "BADTIME",
      `the server's reply was signed ${Math.abs(skew)} s ${skew > 0 ? "ago" : "in the future"} ` +
        `(allowed: ${tsig.fudge} s): check the clocks of this machine and the DNS server (NTP)`,
    );
  }
  return { ok: true };
}

/** RFC 8945 §4.3.3: the TSIG variables that follow the message in the MAC input. */
function variables(
  key: TsigKey,
  timeSigned: number,
  error: number,
  otherData: Buffer,
  fudge = FUDGE_SECONDS,
): Buffer {
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS_ANY, 0);
  return Buffer.concat([
    wireName(key.name),
    classTtl,
    wireName(key.algorithm),
    time48(timeSigned),
    u16(fudge),
    u16(error),
    u16(otherData.length),
    otherData,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const mac = createHmac(ALGORITHMS[key.algorithm], Buffer.from(key.secret, "base64"));
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Canonical form (§4.3.3): lowercase, uncompressed. Names were validated when the key was parsed. */
function wireName(name: string): Buffer {
  const encoded = encodeName(normalize(name));
  if (typeof encoded === "string") throw new Error(`TSIG name "${name}": ${encoded}`);
  return encoded;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

function time48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function fail(code: string, message: string): TsigVerdict {
  return { ok: false, code, message };
}
