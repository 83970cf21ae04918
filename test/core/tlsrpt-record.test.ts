import assert from "node:assert/strict";
import { test } from "node:test";
import type { Parsed } from "../../src/core/diagnostic.ts";
import {
  formatTlsrptRecord,
  parseTlsrptRecord,
  selectTlsrptRecord,
  type TlsrptRecord,
} from "../../src/core/tlsrpt-record.ts";

const codes = (r: Parsed<unknown>) => r.diagnostics.map((d) => d.code);

function rua(text: string, expectedCodes: string[] = []): string[] {
  const r = parseTlsrptRecord(text);
  assert.ok(r.ok, `${text}: ${JSON.stringify(r.diagnostics)}`);
  assert.deepEqual(codes(r), expectedCodes, text);
  return r.value.rua;
}

function invalid(text: string, ...expected: string[]) {
  const r = parseTlsrptRecord(text);
  assert.equal(r.ok, false, text);
  assert.deepEqual(codes(r), expected, text);
  return r.diagnostics;
}

// --- RPT-REC-02 multi-string ------------------------------------------------

test("RPT-REC-02 one RR's strings are joined without spaces", () => {
  const joined = ["v=TLSRPTv1;", "rua=mailto:a@example.com"].join("");
  assert.deepEqual(rua(joined), ["mailto:a@example.com"]);
  const r = selectTlsrptRecord([joined]);
  assert.ok(r.ok);
  assert.deepEqual(r.value.rua, ["mailto:a@example.com"]);
});

// --- RPT-REC-03 selection ---------------------------------------------------

test("RPT-REC-03 selects v=TLSRPTv1; rua=mailto:tlsrpt@example.com among other TXT records", () => {
  const r = selectTlsrptRecord([
    "v=spf1 -all",
    "v=STSv1; id=a",
    "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
  ]);
  assert.ok(r.ok);
  assert.deepEqual(r.value, {
    v: "TLSRPTv1",
    rua: ["mailto:tlsrpt@example.com"],
    extensions: {},
  });
  assert.deepEqual(r.diagnostics, []);
});

test("RPT-REC-03 two v=TLSRPTv1 records mean no reporting: tlsrpt-record.count.multiple", () => {
  const r = selectTlsrptRecord([
    "v=TLSRPTv1; rua=mailto:a@example.com",
    "v=TLSRPTv1; rua=https://r.example/v1",
  ]);
  assert.equal(r.ok, false);
  assert.deepEqual(codes(r), ["tlsrpt-record.count.multiple"]);
});

test("RPT-REC-03 the prefix is case-sensitive and needs its ';' (tlsrpt-record.count.none)", () => {
  for (const txt of [
    "V=TLSRPTv1; rua=mailto:a@example.com",
    "v=tlsrptv1; rua=mailto:a@example.com",
    "v=TLSRPTv1 rua=mailto:a@example.com",
    " v=TLSRPTv1; rua=mailto:a@example.com",
  ]) {
    assert.deepEqual(codes(selectTlsrptRecord([txt])), ["tlsrpt-record.count.none"], txt);
  }
  assert.deepEqual(codes(selectTlsrptRecord([])), ["tlsrpt-record.count.none"]);
});

test("RPT-REC-03 whitespace before the version's ';' is accepted with a warning", () => {
  const r = selectTlsrptRecord(["v=TLSRPTv1 ; rua=mailto:a@example.com"]);
  assert.ok(r.ok);
  assert.deepEqual(codes(r), ["tlsrpt-record.delimiter.whitespace"]);
  assert.equal(r.diagnostics[0]?.at?.column, 11);
});

// --- RPT-REC-04 fields ------------------------------------------------------

test("RPT-REC-04 accepts v=TLSRPTv1;rua=https://r.example/v1", () => {
  assert.deepEqual(rua("v=TLSRPTv1;rua=https://r.example/v1"), ["https://r.example/v1"]);
});

test("RPT-REC-04 accepts fields in any order after the version, and one trailing ';'", () => {
  assert.deepEqual(rua("v=TLSRPTv1; foo=bar; rua=mailto:a@example.com;"), ["mailto:a@example.com"]);
});

test("RPT-REC-04 rejects v=TLSRPTv1; (rua missing)", () => {
  invalid("v=TLSRPTv1;", "tlsrpt-record.rua.missing");
});

test("RPT-REC-04 rejects v=TLSRPTv1; RUA=mailto:a@b.example (an extension, so rua missing)", () => {
  const [d] = invalid("v=TLSRPTv1; RUA=mailto:a@b.example", "tlsrpt-record.rua.missing");
  assert.match(d?.message ?? "", /`rua=mailto:a@b\.example`/);
});

test("RPT-REC-04 rejects a record whose version is not the first field", () => {
  invalid("rua=mailto:a@example.com; v=TLSRPTv1", "tlsrpt-record.version.missing");
  invalid("v=TLSRPTv2; rua=mailto:a@example.com", "tlsrpt-record.version.missing");
});

test("RPT-REC-04 rejects empty fields, non-ASCII and over-long records", () => {
  invalid("v=TLSRPTv1;; rua=mailto:a@example.com", "tlsrpt-record.field.empty");
  invalid("v=TLSRPTv1; rua=mailto:ä@example.com", "tlsrpt-record.non-ascii");
  invalid(`v=TLSRPTv1; rua=https://r.example/${"a".repeat(8192)}`, "tlsrpt-record.too-long");
});

// --- RPT-REC-05 URI list ----------------------------------------------------

test("RPT-REC-05 accepts rua=mailto:a@x.example,https://r.example/p", () => {
  assert.deepEqual(rua("v=TLSRPTv1; rua=mailto:a@x.example,https://r.example/p"), [
    "mailto:a@x.example",
    "https://r.example/p",
  ]);
});

test("RPT-REC-05 allows spaces and tabs around the commas", () => {
  assert.deepEqual(rua("v=TLSRPTv1; rua=mailto:a@x.example ,\thttps://r.example/p , mailto:b@y"), [
    "mailto:a@x.example",
    "https://r.example/p",
    "mailto:b@y",
  ]);
});

test("RPT-REC-05 rejects rua=mailto:a@x.example!10m (raw '!')", () => {
  const [d] = invalid("v=TLSRPTv1; rua=mailto:a@x.example!10m", "tlsrpt-record.rua.invalid-uri");
  assert.equal(d?.at?.column, 35);
  assert.match(d?.message ?? "", /`!10m`/);
  assert.deepEqual(rua("v=TLSRPTv1; rua=mailto:a%21b@x.example"), ["mailto:a%21b@x.example"]);
});

test("RPT-REC-05 rejects rua=ftp://x.example/ (skipped, so nothing usable)", () => {
  const ds = invalid(
    "v=TLSRPTv1; rua=ftp://x.example/",
    "tlsrpt-record.rua.unsupported-scheme",
    "tlsrpt-record.rua.none-usable",
  );
  assert.equal(ds[0]?.severity, "warning");
  assert.equal(ds[1]?.severity, "error");
});

test("RPT-REC-05 skips http: with a warning and keeps the usable URIs", () => {
  const r = parseTlsrptRecord("v=TLSRPTv1; rua=http://r.example/x,mailto:a@b.example");
  assert.ok(r.ok);
  assert.deepEqual(r.value.rua, ["mailto:a@b.example"]);
  assert.deepEqual(codes(r), ["tlsrpt-record.rua.unsupported-scheme"]);
  assert.match(r.diagnostics[0]?.message ?? "", /`https:\/\/r\.example\/x`/);
});

test("RPT-REC-05 rejects mailto: URIs without an address, '@' or domain", () => {
  for (const uri of [
    "mailto:",
    "mailto:tlsrpt",
    "mailto:@example.com",
    "mailto:a@",
    "mailto:a@exa..mple",
    "mailto:a@ex_ample.com",
    "mailto:?subject=x",
    "mailto:a%FF@b.example",
  ]) {
    invalid(`v=TLSRPTv1; rua=${uri}`, "tlsrpt-record.rua.invalid-uri");
  }
});

test("RPT-REC-05 accepts RFC 6068 details: encoded '@', hfields, upper-case scheme", () => {
  assert.deepEqual(rua("v=TLSRPTv1; rua=mailto:tls%40example.com"), ["mailto:tls%40example.com"]);
  assert.deepEqual(rua("v=TLSRPTv1; rua=mailto:a@x.example?subject=tlsrpt"), [
    "mailto:a@x.example?subject=tlsrpt",
  ]);
  assert.deepEqual(rua("v=TLSRPTv1; rua=MAILTO:a@[192.0.2.1]"), ["MAILTO:a@[192.0.2.1]"]);
});

test("RPT-REC-05 rejects https: URIs without a host or '//'", () => {
  for (const uri of [
    "https://",
    "https:r.example/x",
    "https://:443/",
    "https://r.example:99999/",
  ]) {
    invalid(`v=TLSRPTv1; rua=${uri}`, "tlsrpt-record.rua.invalid-uri");
  }
});

test("RPT-REC-05 rejects URIs without a scheme, with bad %-escapes or inner spaces", () => {
  const [d] = invalid("v=TLSRPTv1; rua=tls@example.com", "tlsrpt-record.rua.invalid-uri");
  assert.match(d?.message ?? "", /`mailto:tls@example\.com`/);
  invalid("v=TLSRPTv1; rua=https://r.example/%zz", "tlsrpt-record.rua.invalid-uri");
  invalid("v=TLSRPTv1; rua=mailto:a@x.example mailto:b@y", "tlsrpt-record.rua.invalid-uri");
  invalid("v=TLSRPTv1; rua= mailto:a@x.example", "tlsrpt-record.rua.invalid-uri");
  invalid("v=TLSRPTv1; rua=https://r.example/<x>", "tlsrpt-record.rua.invalid-uri");
});

test("RPT-REC-05 a raw ';' inside a URI splits the field", () => {
  const [d] = invalid(
    "v=TLSRPTv1; rua=mailto:a@x.example;b@y.example",
    "tlsrpt-record.extension.malformed",
  );
  assert.match(d?.message ?? "", /%3B/);
});

test("RPT-REC-05 rejects an empty rua= and empty list entries", () => {
  invalid("v=TLSRPTv1; rua=", "tlsrpt-record.rua.empty");
  invalid("v=TLSRPTv1; rua=;", "tlsrpt-record.rua.empty");
  invalid("v=TLSRPTv1; rua=mailto:a@x.example,,https://r.example", "tlsrpt-record.rua.empty");
  invalid("v=TLSRPTv1; rua=mailto:a@x.example,", "tlsrpt-record.rua.empty");
});

test("RPT-REC-05 a URI listed twice is used once, with a warning", () => {
  assert.deepEqual(
    rua("v=TLSRPTv1; rua=mailto:a@x.example,mailto:a@x.example", ["tlsrpt-record.rua.duplicate"]),
    ["mailto:a@x.example"],
  );
});

// --- RPT-REC-06 several rua fields -----------------------------------------

test("RPT-REC-06 two rua fields are combined into 2 destinations, with a warning", () => {
  const ds = parseTlsrptRecord("v=TLSRPTv1; rua=mailto:a@x.example; rua=https://r.example");
  assert.ok(ds.ok);
  assert.deepEqual(ds.value.rua, ["mailto:a@x.example", "https://r.example"]);
  assert.deepEqual(codes(ds), ["tlsrpt-record.rua.multiple-fields"]);
  assert.equal(ds.diagnostics[0]?.rule, "RPT-REC-06");
  assert.equal(ds.diagnostics[0]?.at?.column, 37);
});

test("RPT-REC-06 the union is de-duplicated in field order", () => {
  assert.deepEqual(
    rua("v=TLSRPTv1; rua=mailto:a@x.example,https://r.example; rua=https://r.example,mailto:c@z", [
      "tlsrpt-record.rua.duplicate",
      "tlsrpt-record.rua.multiple-fields",
    ]),
    ["mailto:a@x.example", "https://r.example", "mailto:c@z"],
  );
});

// --- RPT-REC-07 extensions --------------------------------------------------

test("RPT-REC-07 accepts and ignores a well-formed unknown extension (foo=bar)", () => {
  const r = parseTlsrptRecord("v=TLSRPTv1; rua=mailto:a@x.example; foo=bar");
  assert.ok(r.ok);
  assert.deepEqual(r.value.extensions, { foo: "bar" });
  assert.deepEqual(r.diagnostics, []);
});

test("RPT-REC-07 rejects foo=a b (malformed field makes the record invalid)", () => {
  const [d] = invalid(
    "v=TLSRPTv1; rua=mailto:a@x.example; foo=a b",
    "tlsrpt-record.extension.malformed",
  );
  assert.equal(d?.at?.column, 42);
});

test("RPT-REC-07 a repeated extension keeps its first value, with a warning", () => {
  const r = parseTlsrptRecord("v=TLSRPTv1; rua=mailto:a@x.example; foo=1; foo=2");
  assert.ok(r.ok);
  assert.deepEqual(r.value.extensions, { foo: "1" });
  assert.deepEqual(codes(r), ["tlsrpt-record.extension.duplicate"]);
});

// --- format -----------------------------------------------------------------

test("formatTlsrptRecord writes the canonical form, extensions after rua", () => {
  assert.equal(
    formatTlsrptRecord({
      v: "TLSRPTv1",
      rua: ["mailto:tlsrpt@example.com", "https://r.example/v1"],
      extensions: { foo: "bar" },
    }),
    "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://r.example/v1; foo=bar",
  );
});

test("format → parse round-trips, and parse → format is canonical", () => {
  const records: TlsrptRecord[] = [
    { v: "TLSRPTv1", rua: ["mailto:a@example.com"], extensions: {} },
    {
      v: "TLSRPTv1",
      rua: ["https://r.example/tlsrpt?x=1&y=%2C", "mailto:b@example.net?subject=tls"],
      extensions: { "x-y": "z", n1: "2" },
    },
  ];
  for (const rec of records) {
    const r = parseTlsrptRecord(formatTlsrptRecord(rec));
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    assert.deepEqual(r.value, rec);
    assert.deepEqual(r.diagnostics, []);
  }
  const r = parseTlsrptRecord("v=TLSRPTv1 ;foo=1;rua=mailto:a@x.example , https://r.example;");
  assert.ok(r.ok);
  assert.equal(
    formatTlsrptRecord(r.value),
    "v=TLSRPTv1; rua=mailto:a@x.example,https://r.example; foo=1",
  );
});

test("a hostile rua list gets a bounded list of findings and stays fast", () => {
  const start = performance.now();
  const r = parseTlsrptRecord(`v=TLSRPTv1; rua=${"ftp:x,".repeat(1300)}`);
  assert.equal(r.ok, false);
  assert.ok(r.diagnostics.length <= 33, `${r.diagnostics.length} findings`);
  const many = parseTlsrptRecord(
    `v=TLSRPTv1; rua=${Array.from({ length: 500 }, (_, i) => `mailto:a${i}@b`).join(",")}`,
  );
  assert.ok(many.ok);
  assert.equal(many.value.rua.length, 500);
  assert.ok(performance.now() - start < 500);
});
