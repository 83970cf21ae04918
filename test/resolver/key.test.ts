import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeKey } from "../../src/resolver/key.ts";

const domain = (d: string) => ({ kind: "domain", domain: d });
const skip = (reason: "parent" | "ip-literal" | "invalid") => ({ kind: "skip", reason });

test("SM-PMSR-06 reference keys that look up good.loc", () => {
  for (const key of ["good.loc", "[good.loc]", "[good.loc]:123", "good.loc:123", "good.loc."]) {
    assert.deepEqual(normalizeKey(key), domain("good.loc"), key);
  }
});

test("SM-PMSR-06 reference keys answered without lookup", () => {
  assert.deepEqual(normalizeKey(".good.loc"), skip("parent"));
  assert.deepEqual(normalizeKey(".no-record.loc"), skip("parent"));
  assert.deepEqual(normalizeKey("[1.2.3.4]"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("[a:bb:ccc::dddd]:123"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("[no-record.loc]"), domain("no-record.loc"));
});

test("SM-PMSR-04 lowercases, trims and strips every trailing dot", () => {
  assert.deepEqual(normalizeKey("Good.LOC"), domain("good.loc"));
  assert.deepEqual(normalizeKey("  good.loc  "), domain("good.loc"));
  assert.deepEqual(normalizeKey("\tgood.loc\n"), domain("good.loc"));
  assert.deepEqual(normalizeKey("good.loc..."), domain("good.loc"));
  assert.deepEqual(normalizeKey("[Good.Loc.]:25"), domain("good.loc"));
  assert.deepEqual(normalizeKey("[[good.loc]"), domain("good.loc"));
  // Text after the first `]` is ignored, like PMSR.
  assert.deepEqual(normalizeKey("[good.loc]junk]"), domain("good.loc"));
  // Only the last colon starts a port.
  assert.deepEqual(normalizeKey("good.loc:1:2"), skip("invalid"));
});

test("SM-PMSR-05 a leading dot is a parent-domain lookup", () => {
  assert.deepEqual(normalizeKey("..good.loc"), skip("parent"));
  assert.deepEqual(normalizeKey(" .good.loc"), skip("parent"));
  assert.deepEqual(normalizeKey("[.good.loc]"), skip("parent"));
});

test("SM-PMSR-05 IPv4 and IPv6 literals are not looked up", () => {
  assert.deepEqual(normalizeKey("1.2.3.4"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("[1.2.3.4]:25"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("[::1]"), skip("ip-literal"));
  // inet_aton forms, which PMSR's getaddrinfo(AI_NUMERICHOST) takes as addresses.
  assert.deepEqual(normalizeKey("127.1"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("1.2.3.4.5"), skip("invalid"));
});

test("SM-WEAK-10 Postfix's [ipv6:…] form and bare IPv6 are IP literals", () => {
  assert.deepEqual(normalizeKey("[ipv6:2001:db8::1]"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("[IPv6:2001:db8::1]:25"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("2001:db8::1"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("[ipv6:not-an-address]"), skip("invalid"));
});

test("SM-WEAK-10 syntactically invalid names are skipped, not crashed on", () => {
  assert.deepEqual(normalizeKey("good..loc"), skip("invalid"));
  assert.deepEqual(normalizeKey(`${"a".repeat(64)}.loc`), skip("invalid"));
  assert.deepEqual(normalizeKey(`${"a".repeat(63)}.loc`), domain(`${"a".repeat(63)}.loc`));
  const long = `${"abcdefghi.".repeat(25)}abc`; // 253 characters
  assert.equal(long.length, 253);
  assert.deepEqual(normalizeKey(long), domain(long));
  assert.deepEqual(normalizeKey(`a${long}`), skip("invalid"));
  assert.deepEqual(normalizeKey(""), skip("invalid"));
  assert.deepEqual(normalizeKey("   "), skip("invalid"));
  assert.deepEqual(normalizeKey("."), skip("invalid"));
  assert.deepEqual(normalizeKey("[]"), skip("invalid"));
  assert.deepEqual(normalizeKey("good loc"), skip("invalid"));
  assert.deepEqual(normalizeKey("good.loc/x"), skip("invalid"));
  assert.deepEqual(normalizeKey("good\u0000.loc"), skip("invalid"));
  assert.deepEqual(normalizeKey("\u0000\u00ff\ufffd\ud800"), skip("invalid"));
  assert.deepEqual(normalizeKey("☃ snow.example"), skip("invalid"));
});

test("SM-WEAK-10 hyphens and underscores are allowed", () => {
  assert.deepEqual(normalizeKey("mta-sts.good_loc.example"), domain("mta-sts.good_loc.example"));
});

test("SM-WEAK-10 U-labels become A-labels", () => {
  assert.deepEqual(normalizeKey("bücher.example"), domain("xn--bcher-kva.example"));
  assert.deepEqual(normalizeKey("BÜCHER.example."), domain("xn--bcher-kva.example"));
  assert.deepEqual(normalizeKey("[bücher.example]:25"), domain("xn--bcher-kva.example"));
  assert.deepEqual(normalizeKey("xn--bcher-kva.example"), domain("xn--bcher-kva.example"));
  // IDNA mapping folds full-width forms and the ideographic full stop.
  assert.deepEqual(normalizeKey("ｇｏｏｄ。loc"), domain("good.loc"));
  assert.deepEqual(normalizeKey("１.２.３.４"), skip("ip-literal"));
  assert.deepEqual(normalizeKey("。good.loc"), skip("parent"));
});

test("SM-WEAK-10 never throws on arbitrary input", () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const alphabet = "aZ09.-_:[]  \t\u00fc\u3002\ud83d\ude00\u0000\uffff\ud800";
  for (let i = 0; i < 2000; i++) {
    let s = "";
    const len = rand() % 40;
    for (let j = 0; j < len; j++) s += alphabet[rand() % alphabet.length];
    const r = normalizeKey(s);
    assert.ok(r.kind === "domain" || r.kind === "skip", s);
    if (r.kind === "domain") assert.match(r.domain, /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, s);
  }
});
