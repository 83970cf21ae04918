// Raw bytes as kept: compressed with brotli, given back byte-exact, and rows
// written by earlier versions (gzip) or other tools still read.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { compressRaw, decompressRaw, packable, sha256Hex, unpack } from "../../src/reports/raw.ts";
import { generateReport } from "./report-generator.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("reports are kept as brotli, smaller than sent, and read back byte-exact", () => {
  for (let i = 0; i < 50; i++) {
    const bytes = enc(generateReport(3, i).json);
    const raw = compressRaw(bytes);
    assert.equal(raw.encoding, "br");
    assert.equal(raw.size, bytes.length);
    assert.ok(raw.bytes.length < bytes.length);
    assert.deepEqual(decompressRaw(raw.encoding, raw.bytes), bytes);
  }
  const large = enc(generateReport(3, 1).json.repeat(3000)); // ~2 MB: a wide window
  const raw = compressRaw(large);
  assert.equal(raw.encoding, "br");
  assert.deepEqual(decompressRaw(raw.encoding, raw.bytes), large);
});

test("gzip input and bytes that do not compress are kept as they came", () => {
  const gz = gzipSync(enc(generateReport(3, 0).json));
  assert.deepEqual(compressRaw(gz), { encoding: "identity", size: gz.length, bytes: gz });
  const noise = new Uint8Array(randomBytes(64));
  assert.equal(compressRaw(noise).encoding, "identity");
  assert.deepEqual(decompressRaw("identity", noise), noise);
  assert.deepEqual(decompressRaw("identity", new Uint8Array()), new Uint8Array());
});

test("rows of every encoding ever written still read: gzip (earlier versions), br, identity", () => {
  const bytes = enc(generateReport(3, 7).json);
  assert.deepEqual(decompressRaw("gzip", new Uint8Array(gzipSync(bytes))), bytes);
  assert.deepEqual(decompressRaw("br", new Uint8Array(brotliCompressSync(bytes))), bytes);
  assert.throws(() => decompressRaw("lz4", bytes), /unknown raw encoding "lz4"/);
});

test("the content hash is the hex SHA-256 of the bytes as received", () => {
  const bytes = enc(generateReport(3, 2).json);
  assert.equal(sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"));
  assert.equal(
    sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

test("packs: small non-gzip input is packable; a row pointing outside its pack is an error, not a short read", () => {
  assert.equal(packable(new Uint8Array(100)), true);
  assert.equal(packable(new Uint8Array(64 * 1024 + 1)), false);
  assert.equal(packable(new Uint8Array([0x1f, 0x8b, 8, 0])), false);
  const pack = new TextEncoder().encode("aaaabbbbcc");
  assert.deepEqual(unpack(pack, 4, 4), new TextEncoder().encode("bbbb"));
  assert.deepEqual(unpack(pack, 10, 0), new Uint8Array());
  assert.throws(() => unpack(pack, 8, 3), /outside its pack \(8\+3 of 10\)/);
  assert.throws(() => unpack(pack, -1, 2), /outside its pack/);
});
