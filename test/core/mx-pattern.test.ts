import assert from "node:assert/strict";
import { test } from "node:test";
import { catalogue } from "../../src/core/catalogue.ts";
import type { Diagnostic } from "../../src/core/diagnostic.ts";
import {
  type MxPattern,
  matchMx,
  normalizeHost,
  parseMxPattern,
  scanMxPattern,
} from "../../src/core/mx-pattern.ts";

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => d.code);

function pattern(text: string): MxPattern {
  const r = parseMxPattern(text);
  assert.ok(r.ok, `${text}: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
}

function rejects(text: string, code: string) {
  const r = parseMxPattern(text);
  assert.equal(r.ok, false, `${JSON.stringify(text)} should be rejected`);
  assert.deepEqual(codes(r.diagnostics), [code], JSON.stringify(text));
}

const patterns = (...texts: string[]) => texts.map(pattern);

// STS-POL-09: the ✓ and ✗ examples of the checklist.

test("STS-POL-09 accepts mail.example.com", () => {
  const p = pattern("mail.example.com");
  assert.deepEqual(p, {
    text: "mail.example.com",
    wildcard: false,
    domain: "mail.example.com",
    numeric: false,
  });
  assert.deepEqual(parseMxPattern("mail.example.com").diagnostics, []);
});

test("STS-POL-09 accepts *.example.net as a wildcard over example.net", () => {
  assert.deepEqual(pattern("*.example.net"), {
    text: "*.example.net",
    wildcard: true,
    domain: "example.net",
    numeric: false,
  });
});

test("STS-POL-09 accepts the A-label xn--bcher-kva.example", () => {
  assert.equal(pattern("xn--bcher-kva.example").domain, "xn--bcher-kva.example");
});

test("STS-POL-09 lowercases the pattern (domains compare case-insensitively)", () => {
  assert.deepEqual(pattern("*.MAIL.Example.NET"), {
    text: "*.mail.example.net",
    wildcard: true,
    domain: "mail.example.net",
    numeric: false,
  });
});

test("STS-POL-09 rejects *example.com (wildcard not a whole label)", () => {
  rejects("*example.com", "policy.mx.wildcard");
});

test("STS-POL-09 rejects mail.*.example.com (wildcard not left-most)", () => {
  rejects("mail.*.example.com", "policy.mx.wildcard");
});

test("STS-POL-09 rejects a bare *", () => {
  rejects("*", "policy.mx.wildcard");
  rejects("*.", "policy.mx.wildcard");
  rejects("*.*.example.com", "policy.mx.wildcard");
});

test("STS-POL-09 rejects mail.example.com. (trailing dot)", () => {
  rejects("mail.example.com.", "policy.mx.trailing-dot");
  const r = parseMxPattern("mail.example.com.");
  assert.match(r.diagnostics[0]?.message ?? "", /`mx: mail\.example\.com`/);
});

test("STS-POL-09 rejects the U-label bücher.example and names the A-label", () => {
  rejects("bücher.example", "policy.mx.u-label");
  const r = parseMxPattern("*.bücher.example");
  assert.equal(r.diagnostics[0]?.code, "policy.mx.u-label");
  assert.match(r.diagnostics[0]?.message ?? "", /mx: \*\.xn--bcher-kva\.example/);
  assert.deepEqual(r.diagnostics[0]?.at, { column: 4 });
});

test("STS-POL-09 rejects mx_1.example.com (underscore)", () => {
  rejects("mx_1.example.com", "policy.mx.invalid");
  assert.deepEqual(parseMxPattern("mx_1.example.com").diagnostics[0]?.at, { column: 3 });
});

test("STS-POL-09 rejects two names on one line: mx1.example.com, mx2.example.com", () => {
  rejects("mx1.example.com, mx2.example.com", "policy.mx.list");
  rejects("mx1.example.com mx2.example.com", "policy.mx.list");
  rejects("mx1.example.com;mx2.example.com", "policy.mx.list");
});

test("STS-POL-09 rejects empty labels and an empty value", () => {
  rejects("mail..example.com", "policy.mx.empty-label");
  rejects(".example.com", "policy.mx.empty-label");
  rejects("*..example.com", "policy.mx.empty-label");
  rejects("", "policy.mx.invalid");
});

test("STS-POL-09 rejects labels starting or ending with a hyphen", () => {
  rejects("-mail.example.com", "policy.mx.invalid");
  rejects("mail-.example.com", "policy.mx.invalid");
  rejects("mail.example.com-", "policy.mx.invalid");
  assert.equal(pattern("mail-1.ex-ample.com").text, "mail-1.ex-ample.com");
});

test("STS-POL-09 labels are at most 63 characters and names at most 253", () => {
  const l63 = "a".repeat(63);
  assert.ok(parseMxPattern(`${l63}.example`).ok);
  rejects(`${"a".repeat(64)}.example`, "policy.mx.label-too-long");
  rejects(`mail.${"a".repeat(64)}`, "policy.mx.label-too-long");
  const name253 = `${l63}.${l63}.${l63}.${"b".repeat(61)}`;
  assert.equal(name253.length, 253);
  assert.ok(parseMxPattern(name253).ok);
  assert.ok(parseMxPattern(`*.${name253}`).ok);
  rejects(`${name253}b`, "policy.mx.too-long");
});

test("STS-POL-09 rejects other characters, whitespace and control characters", () => {
  rejects("mail.example.com/", "policy.mx.invalid");
  rejects("user@example.com", "policy.mx.invalid");
  rejects(" mail.example.com", "policy.mx.invalid");
  rejects("mail.example.com ", "policy.mx.invalid");
  rejects("mail\u0000.example.com", "policy.control-char");
});

// STS-POL-10: all-numeric patterns.

test("STS-POL-10 accepts 192.0.2.1 with a warning and flags it numeric", () => {
  const r = parseMxPattern("192.0.2.1");
  assert.ok(r.ok);
  assert.equal(r.value.numeric, true);
  assert.deepEqual(codes(r.diagnostics), ["policy.mx.numeric"]);
  assert.equal(r.diagnostics[0]?.severity, "warning");
});

test("STS-POL-10 a numeric pattern never matches, even the same address", () => {
  const p = pattern("192.0.2.1");
  assert.equal(matchMx("192.0.2.1", [p]), null);
  assert.equal(matchMx("192.0.2.1", patterns("*.0.2.1")), null);
});

test("STS-POL-10 IPv6 text is invalid under STS-POL-09", () => {
  rejects("2001:db8::1", "policy.mx.invalid");
  rejects("[192.0.2.1]", "policy.mx.invalid");
});

test("STS-POL-09 places findings in a larger input through line and column", () => {
  const out: Diagnostic[] = [];
  assert.equal(scanMxPattern("mail.*.example.com", out, 4, 5), null);
  assert.deepEqual(out[0]?.at, { line: 4, column: 10 });
});

// STS-MX-01..04: matching.

test("STS-MX-01 a host is valid when it matches at least one pattern", () => {
  const ps = patterns("mx1.example.com", "*.example.net");
  assert.equal(matchMx("mx1.example.com", ps)?.text, "mx1.example.com");
  assert.equal(matchMx("a.example.net", ps)?.text, "*.example.net");
  assert.equal(matchMx("mx2.example.com", ps), null);
  assert.equal(matchMx("mx1.example.com", []), null);
});

test("STS-MX-01 an IP address is not a host name and matches nothing", () => {
  assert.equal(normalizeHost("192.0.2.1"), null);
  assert.equal(normalizeHost("2001:db8::1"), null);
  assert.equal(normalizeHost("[192.0.2.1]"), null);
  assert.equal(matchMx("192.0.2.1", patterns("mail.example.com")), null);
});

test("STS-MX-02 MX1.Example.COM. matches mx1.example.com", () => {
  assert.equal(normalizeHost("MX1.Example.COM."), "mx1.example.com");
  assert.equal(matchMx("MX1.Example.COM.", patterns("mx1.example.com"))?.text, "mx1.example.com");
});

test("STS-MX-02 strips only one trailing dot", () => {
  assert.equal(normalizeHost("mx1.example.com.."), null);
  assert.equal(normalizeHost("."), null);
  assert.equal(normalizeHost(""), null);
});

test("STS-MX-02 turns a U-label host into A-labels (UTS-46)", () => {
  assert.equal(normalizeHost("bücher.example"), "xn--bcher-kva.example");
  assert.equal(normalizeHost("MX.BÜCHER.example."), "mx.xn--bcher-kva.example");
  // Non-transitional: ß stays ß (xn--zca), it is not mapped to "ss".
  assert.equal(normalizeHost("ß.example"), "xn--zca.example");
  assert.equal(
    matchMx("mx.bücher.example", patterns("*.xn--bcher-kva.example"))?.text,
    "*.xn--bcher-kva.example",
  );
});

test("STS-MX-02 rejects text that is not a host name", () => {
  for (const bad of [
    "user@mail.example.com",
    "mail.example.com:25",
    "mail.example.com/x",
    "mail example.com",
    "mail_1.example.com",
    "-mail.example.com",
    "mail.ex%41mple.com",
    "bücher@example",
    "bücher.example:25",
    "１２７.０.０.１",
    `${"a".repeat(64)}.example`,
  ]) {
    assert.equal(normalizeHost(bad), null, bad);
  }
});

test("STS-MX-03 a plain pattern matches only the exact name", () => {
  const ps = patterns("example.com");
  assert.equal(matchMx("example.com", ps)?.text, "example.com");
  assert.equal(matchMx("mx.example.com", ps), null);
  assert.equal(matchMx("xample.com", ps), null);
  assert.equal(matchMx("example.com.evil", ps), null);
});

test("STS-MX-04 *.example.com matches mail.example.com", () => {
  assert.equal(matchMx("mail.example.com", patterns("*.example.com"))?.text, "*.example.com");
  assert.equal(matchMx("MAIL.Example.com.", patterns("*.example.com"))?.text, "*.example.com");
});

test("STS-MX-04 *.example.com does not match example.com", () => {
  assert.equal(matchMx("example.com", patterns("*.example.com")), null);
});

test("STS-MX-04 *.example.com does not match foo.bar.example.com", () => {
  assert.equal(matchMx("foo.bar.example.com", patterns("*.example.com")), null);
});

test("STS-MX-04 *.example.com does not match .example.com", () => {
  assert.equal(matchMx(".example.com", patterns("*.example.com")), null);
  assert.equal(matchMx("mailexample.com", patterns("*.example.com")), null);
  assert.equal(matchMx("mail.xexample.com", patterns("*.example.com")), null);
});

test("STS-MX-04 the first matching pattern is returned", () => {
  const ps = patterns("*.example.com", "mail.example.com");
  assert.equal(matchMx("mail.example.com", ps)?.text, "*.example.com");
});

test("every mx-pattern code used here is in the catalogue", () => {
  for (const text of ["*x", "a..b", "a.", "bü", "a_b", "a,b", "1.2.3.4", "", "\u0001"]) {
    for (const d of parseMxPattern(text).diagnostics) assert.ok(d.code in catalogue, d.code);
  }
});
