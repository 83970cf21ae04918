import assert from "node:assert/strict";
import { test } from "node:test";
import {
  encodeNetstring,
  frameNetstring,
  NetstringDecoder,
  type NetstringError,
} from "../../src/resolver/netstring.ts";

type Item = string | NetstringError;

/** Everything the decoder yields for `chunks`, payloads as latin1 strings. */
function decodeAll(chunks: (Buffer | string)[], maxLength?: number): Item[] {
  const d = new NetstringDecoder(maxLength === undefined ? {} : { maxLength });
  const out: Item[] = [];
  for (const c of chunks) {
    d.push(typeof c === "string" ? Buffer.from(c, "latin1") : c);
    for (;;) {
      const r = d.next();
      if (r === null) break;
      out.push(r instanceof Uint8Array ? r.toString("latin1") : r);
    }
  }
  return out;
}

test("SM-NET-01 encodes a payload as <length>:<bytes>,", () => {
  assert.equal(encodeNetstring("test good.loc").toString(), "13:test good.loc,");
  assert.equal(encodeNetstring("").toString(), "0:,");
  assert.equal(encodeNetstring("X").toString(), "1:X,");
  assert.equal(
    encodeNetstring("OK secure match=mail.loc servername=hostname").toString(),
    "44:OK secure match=mail.loc servername=hostname,",
  );
});

test("SM-NET-01 the length counts UTF-8 bytes, not characters", () => {
  const b = encodeNetstring("ü€😀");
  assert.equal(b.toString("utf8"), "9:ü€😀,");
  assert.equal(b.length, 2 + 9 + 1);
  assert.equal(frameNetstring("bücher"), "7:bücher,");
});

test("SM-NET-02 writers emit the shortest decimal length", () => {
  assert.equal(encodeNetstring("a".repeat(10)).subarray(0, 3).toString(), "10:");
  assert.equal(encodeNetstring("a".repeat(100)).subarray(0, 4).toString(), "100:");
});

test("SM-NET-01 decodes valid netstrings", () => {
  assert.deepEqual(decodeAll(["13:test good.loc,"]), ["test good.loc"]);
  assert.deepEqual(decodeAll(["0:,"]), [""]);
  assert.deepEqual(decodeAll(["17:5:Hello,6:World!,,"]), ["5:Hello,6:World!,"]);
  assert.deepEqual(decodeAll([""]), []);
});

test("SM-NET-02 readers accept leading zeros", () => {
  assert.deepEqual(decodeAll(["00:,"]), [""]);
  assert.deepEqual(decodeAll(["01:X,"]), ["X"]);
  assert.deepEqual(decodeAll(["00:,1:X,"]), ["", "X"]);
  assert.deepEqual(decodeAll(["01:X,1:X,"]), ["X", "X"]);
  assert.deepEqual(decodeAll(["0000000013:test good.loc,"]), ["test good.loc"]);
});

test("SM-NET-01 rejects a bad terminator", () => {
  assert.deepEqual(decodeAll(["13:test good.loc!"]), [{ error: "bad-terminator" }]);
  assert.deepEqual(decodeAll(["0:_"]), [{ error: "bad-terminator" }]);
  assert.deepEqual(decodeAll(["3:aaa_"]), [{ error: "bad-terminator" }]);
});

test("SM-NET-01 rejects a non-digit or empty length", () => {
  assert.deepEqual(decodeAll(["x:abc,"]), [{ error: "bad-length" }]);
  assert.deepEqual(decodeAll(["aaa:aaa"]), [{ error: "bad-length" }]);
  assert.deepEqual(decodeAll([":abc,"]), [{ error: "bad-length" }]);
  assert.deepEqual(decodeAll([":,"]), [{ error: "bad-length" }]);
  assert.deepEqual(decodeAll(["1 :X,"]), [{ error: "bad-length" }]);
  assert.deepEqual(decodeAll(["-1:X,"]), [{ error: "bad-length" }]);
});

test("SM-NET-01 an error is reported once and the decoder then stays silent", () => {
  const d = new NetstringDecoder();
  d.push(Buffer.from("1:X,1:Y!2:ok,"));
  assert.equal((d.next() as Buffer).toString(), "X");
  assert.deepEqual(d.next(), { error: "bad-terminator" });
  assert.equal(d.next(), null);
  d.push(Buffer.from("1:Z,"));
  assert.equal(d.next(), null);
});

test("SM-NET-02 a netstring split at every byte position decodes the same", () => {
  const whole = Buffer.from("13:test good.loc,0:,5:ab:c,,10:bücher.de,");
  const expected = decodeAll([whole]);
  assert.deepEqual(expected, [
    "test good.loc",
    "",
    "ab:c,",
    Buffer.from("bücher.de").toString("latin1"),
  ]);
  for (let i = 0; i <= whole.length; i++) {
    assert.deepEqual(
      decodeAll([whole.subarray(0, i), whole.subarray(i)]),
      expected,
      `split at ${i}`,
    );
    for (let j = i; j <= whole.length; j++) {
      const parts = [whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)];
      assert.deepEqual(decodeAll(parts), expected, `split at ${i} and ${j}`);
    }
  }
  const bytes = [...whole].map((b) => Buffer.from([b]));
  assert.deepEqual(decodeAll(bytes), expected, "one byte at a time");
});

test("SM-NET-02 errors are found the same at every split", () => {
  const whole = Buffer.from("1:X,13:test good.loc!");
  for (let i = 0; i <= whole.length; i++) {
    assert.deepEqual(
      decodeAll([whole.subarray(0, i), whole.subarray(i)]),
      ["X", { error: "bad-terminator" }],
      `split at ${i}`,
    );
  }
});

test("SM-NET-02 several netstrings in one chunk, and partial ones across chunks", () => {
  assert.deepEqual(decodeAll(["1:X,3:abc,2:ok,"]), ["X", "abc", "ok"]);
  assert.deepEqual(decodeAll(["1:", "X,3:abc,2:", "ok,"]), ["X", "abc", "ok"]);
  assert.deepEqual(decodeAll(["1:", "X,9:123", "456", "789", ",2:", "ok,"]), [
    "X",
    "123456789",
    "ok",
  ]);
  assert.deepEqual(decodeAll(["0", ":", ","]), [""]);
});

test("SM-NET-02 payloads survive later pushes (no buffer reuse)", () => {
  const d = new NetstringDecoder();
  d.push(Buffer.from("3:abc,3:d"));
  const first = d.next() as Buffer;
  assert.equal(d.next(), null);
  d.push(Buffer.from("ef,"));
  const second = d.next() as Buffer;
  assert.equal(first.toString(), "abc");
  assert.equal(second.toString(), "def");
});

test("SM-NET-02 unread netstrings wait in the decoder until pulled", () => {
  const d = new NetstringDecoder();
  d.push(Buffer.from("1:a,1:b,1:"));
  assert.equal((d.next() as Buffer).toString(), "a");
  // The caller stopped pulling (backpressure) and more bytes arrived.
  d.push(Buffer.from("c,"));
  assert.equal((d.next() as Buffer).toString(), "b");
  assert.equal((d.next() as Buffer).toString(), "c");
  assert.equal(d.next(), null);
});

test("SM-NET-03 a declared length over the limit is rejected before its bytes arrive", () => {
  assert.deepEqual(decodeAll(["6:123456,"], 5), [{ error: "too-long" }]);
  assert.deepEqual(decodeAll(["5:12345,"], 5), ["12345"]);
  assert.deepEqual(decodeAll(["9999:aaa"], 1024), [{ error: "too-long" }]);
  assert.deepEqual(decodeAll(["9999:"], 1024), [{ error: "too-long" }]);
  // Before the colon: the digits alone already exceed the limit.
  assert.deepEqual(decodeAll(["9999"], 1024), [{ error: "too-long" }]);
  assert.deepEqual(decodeAll(["1025"], 1024), [{ error: "too-long" }]);
  assert.deepEqual(decodeAll(["1024"], 1024), []);
  // Leading zeros do not count against the limit, only the value does.
  assert.deepEqual(decodeAll(["0001024:"], 1024), []);
});

test("SM-NET-03 a length prefix of more than ten digits is rejected without a colon", () => {
  assert.deepEqual(decodeAll(["0000000000"]), []);
  assert.deepEqual(decodeAll(["00000000000"]), [{ error: "bad-length" }]);
  assert.deepEqual(decodeAll(["0".repeat(5), "0".repeat(6)]), [{ error: "bad-length" }]);
});

test("SM-NET-02 pending reports an unfinished netstring", () => {
  const d = new NetstringDecoder();
  assert.equal(d.pending, false);
  d.push(Buffer.from("3:ab"));
  assert.equal(d.next(), null);
  assert.equal(d.pending, true);
  d.push(Buffer.from("c,"));
  assert.equal((d.next() as Buffer).toString(), "abc");
  assert.equal(d.pending, false);
});

test("SM-NET-02 advance leaves each payload in place: whole in the chunk, or assembled across chunks", () => {
  const d = new NetstringDecoder();
  const chunk = Buffer.from("3:abc,4:de");
  d.push(chunk);
  assert.equal(d.advance(), true);
  // A whole payload is the pushed chunk itself, not a copy.
  assert.equal(d.source, chunk);
  assert.equal(d.source.toString("latin1", d.start, d.end), "abc");
  assert.equal(d.advance(), null);
  // Nothing is held for the caller while a payload is incomplete.
  assert.equal(d.source.length, 0);
  d.push(Buffer.from("fg,"));
  assert.equal(d.advance(), true);
  assert.notEqual(d.source, chunk);
  assert.equal(d.source.toString("latin1", d.start, d.end), "defg");
  assert.equal(d.advance(), null);
  d.push(Buffer.from("1:x;"));
  assert.deepEqual(d.advance(), { error: "bad-terminator" });
  assert.equal(d.source.length, 0);
});
