// Raw report bytes as kept: hashed for dedup, compressed for storage, and given
// back exactly as received. Brotli at quality 2, with a window no larger than
// the input: reports are mostly under a few KiB, where the per-call setup of a
// compressor costs more than compressing, and brotli's setup is the cheapest of
// Node's codecs (measured on the benchmark's ~750-byte reports: ~16 µs and 51%
// kept, against gzip level 6 at ~25 µs and 50%, zstd at ~22 µs and 51%). Input
// that is already gzip is kept as it came, since compressing it again saves
// nothing. Every encoding ever written is read: "gzip" rows from earlier
// versions, "br", and "identity"; the store's encoding column says which.
// Both stores keep the small reports written together as one pack (the same
// compression over their concatenation): the per-call setup is paid once and
// alike reports compress far better together.

import { hash } from "node:crypto";
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from "node:zlib";
import type { StoredRaw } from "./store.ts";

/** Stored bytes are ours, but a damaged row must not inflate without bound either. */
const MAX_RAW_BYTES = 64 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return hash("sha256", bytes, "hex");
}

export function compressRaw(bytes: Uint8Array): StoredRaw {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return { encoding: "identity", size: bytes.length, bytes };
  }
  // A window no larger than the input: the same output, far less to set up per call.
  const window = Math.max(
    constants.BROTLI_MIN_WINDOW_BITS,
    Math.min(constants.BROTLI_MAX_WINDOW_BITS, Math.ceil(Math.log2(bytes.length + 1))),
  );
  const packed = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 2,
      [constants.BROTLI_PARAM_LGWIN]: window,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  return packed.length < bytes.length
    ? { encoding: "br", size: bytes.length, bytes: packed }
    : { encoding: "identity", size: bytes.length, bytes };
}

/** Reports up to this size are packed with the others written with them (both stores). */
const PACK_ITEM_MAX = 64 * 1024;
/** Input bytes per pack at most: reading one report back inflates its whole pack. */
export const PACK_MAX = 1024 * 1024;

/** Small and not already gzip: worth compressing together with others rather than alone. */
export function packable(bytes: Uint8Array): boolean {
  return bytes.length <= PACK_ITEM_MAX && !(bytes[0] === 0x1f && bytes[1] === 0x8b);
}

/** One report's bytes out of an inflated pack, bounds checked: a damaged row must not read beyond it. */
export function unpack(pack: Uint8Array, offset: number, length: number): Uint8Array {
  if (!(offset >= 0 && length >= 0 && offset + length <= pack.length)) {
    throw new Error(
      `a raw pack row points outside its pack (${offset}+${length} of ${pack.length})`,
    );
  }
  return pack.subarray(offset, offset + length);
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
