// Raw report bytes as kept: hashed for dedup, compressed for storage, and given
// back exactly as received. gzip (zlib level 6): measured on generated reports
// of ~750 bytes it costs ~30 µs and keeps 50%, where brotli quality 5 keeps 43%
// for twice the time and a large per-call setup; at ingest rates of thousands a
// second the time matters more. Input that is already gzip is kept as it came,
// since compressing it again saves nothing. "br" is still read, for stores
// written by other tools or later versions.

import { createHash } from "node:crypto";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import type { StoredRaw } from "./store.ts";

/** Stored bytes are ours, but a damaged row must not inflate without bound either. */
const MAX_RAW_BYTES = 64 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function compressRaw(bytes: Uint8Array): StoredRaw {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return { encoding: "identity", size: bytes.length, bytes };
  }
  // A window no larger than the input: same output, far less to allocate per call.
  const windowBits = Math.max(9, Math.min(15, Math.ceil(Math.log2(bytes.length + 1))));
  const packed = gzipSync(bytes, { windowBits });
  return packed.length < bytes.length
    ? { encoding: "gzip", size: bytes.length, bytes: packed }
    : { encoding: "identity", size: bytes.length, bytes };
}

export function decompressRaw(encoding: string, bytes: Uint8Array): Uint8Array {
  if (encoding === "identity") return bytes;
  if (encoding === "gzip")
    return new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_RAW_BYTES }));
  if (encoding === "br") {
    return new Uint8Array(brotliDecompressSync(bytes, { maxOutputLength: MAX_RAW_BYTES }));
  }
  throw new Error(`unknown raw encoding ${JSON.stringify(encoding)} in the store`);
}
