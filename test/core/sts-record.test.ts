import assert from "node:assert/strict";
import { test } from "node:test";
import type { Parsed } from "../../src/core/diagnostic.ts";
import {
  formatStsRecord,
  parseStsRecord,
  type StsRecord,
  selectStsRecord,
} from "../../src/core/sts-record.ts";

const codes = (r: Parsed<unknown>) => r.diagnostics.map((d) => d.code);

function valid(text: string): StsRecord {
  const r = parseStsRecord(text);
  assert.ok(r.ok, `${text}: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
}

function invalid(text: string, ...expected: string[]) {
  const r = parseStsRecord(text);
  assert.equal(r.ok, false, text);
  assert.deepEqual(codes(r), expected, text);
  return r.diagnostics;
}

// --- STS-REC-03 multi-string TXT -------------------------------------------

test("STS-REC-03 one RR's strings joined without a separator form the record", () => {
  const joined = ["v=STSv1; id=", "20240101"].join("");
  assert.equal(valid(joined).id, "20240101");
  const selected = selectStsRecord([joined]);
  assert.ok(selected.ok);
  assert.equal(selected.value.id, "20240101");
});

test("STS-REC-03 strings joined with a space do not parse (id= 20240101)", () => {
  const [d] = invalid("v=STSv1; id= 20240101", "sts-record.id.invalid-char");
  assert.equal(d?.at?.column, 13);
});

// --- STS-REC-04 selection --------------------------------------------------

test("STS-REC-04 keeps v=STSv1;id=a and silently discards other TXT records", () => {
  const r = selectStsRecord([
    "v=spf1 include:_spf.example.com -all",
    "google-site-verification=abc123",
    "v=STSv1;id=a",
  ]);
  assert.ok(r.ok);
  assert.equal(r.value.id, "a");
  assert.deepEqual(r.diagnostics, []);
});

for (const txt of ["V=STSv1;id=a", "v=stsv1;id=a", "v=STSv10;id=a", " v=STSv1;id=a"]) {
  test(`STS-REC-04 discards ${JSON.stringify(txt)} (prefix is case-sensitive and exact)`, () => {
    const r = selectStsRecord([txt]);
    assert.equal(r.ok, false);
    assert.deepEqual(codes(r), ["sts-record.count.none"]);
    assert.match(r.diagnostics[0]?.message ?? "", /discarded/);
    // Given directly to the parser, the same text is a record without a version.
    assert.equal(codes(parseStsRecord(txt))[0], "sts-record.version.missing");
  });
}

test("STS-REC-04 a discarded look-alike does not hide the real record", () => {
  const r = selectStsRecord(["V=STSv1;id=a", "v=STSv1; id=b"]);
  assert.ok(r.ok);
  assert.equal(r.value.id, "b");
  assert.deepEqual(r.diagnostics, []);
});

// --- STS-REC-05 whitespace before the version's ';' ------------------------

test("STS-REC-05 accepts v=STSv1 ; id=a with warning sts-record.delimiter.whitespace", () => {
  for (const r of [parseStsRecord("v=STSv1 ; id=a"), selectStsRecord(["v=STSv1 ; id=a"])]) {
    assert.ok(r.ok);
    assert.equal(r.value.id, "a");
    assert.deepEqual(codes(r), ["sts-record.delimiter.whitespace"]);
    assert.equal(r.diagnostics[0]?.severity, "warning");
    assert.equal(r.diagnostics[0]?.rule, "STS-REC-05");
    assert.equal(r.diagnostics[0]?.at?.column, 8);
  }
  assert.deepEqual(codes(parseStsRecord("v=STSv1\t;id=a")), ["sts-record.delimiter.whitespace"]);
});

test("STS-REC-05 discards v=STSv1 id=a (no ';' after the version)", () => {
  assert.deepEqual(codes(selectStsRecord(["v=STSv1 id=a"])), ["sts-record.count.none"]);
  invalid("v=STSv1 id=a", "sts-record.version.missing", "sts-record.id.missing");
});

// --- STS-REC-06 exactly one ------------------------------------------------

test("STS-REC-06 exactly one selected record is used", () => {
  const r = selectStsRecord(["v=STSv1; id=a", "v=spf1 -all"]);
  assert.ok(r.ok);
  assert.equal(r.value.id, "a");
});

test("STS-REC-06 two records (id=a and id=b) mean no policy: sts-record.count.multiple", () => {
  const r = selectStsRecord(["v=STSv1; id=a", "v=STSv1; id=b"]);
  assert.equal(r.ok, false);
  assert.deepEqual(codes(r), ["sts-record.count.multiple"]);
  assert.equal(r.diagnostics[0]?.severity, "error");
  assert.match(r.diagnostics[0]?.message ?? "", /`v=STSv1; id=a`, `v=STSv1; id=b`/);
});

test("STS-REC-06 no records, or none selected, mean no policy: sts-record.count.none", () => {
  assert.deepEqual(codes(selectStsRecord([])), ["sts-record.count.none"]);
  assert.deepEqual(codes(selectStsRecord(["v=spf1 -all"])), ["sts-record.count.none"]);
});

test("STS-REC-06 a selected but invalid record is still counted", () => {
  assert.deepEqual(codes(selectStsRecord(["v=STSv1; id=a", "v=STSv1;;"])), [
    "sts-record.count.multiple",
  ]);
  assert.deepEqual(codes(selectStsRecord(["v=STSv1; id=a-b"])), ["sts-record.id.invalid-char"]);
});

// --- STS-REC-07 field syntax -----------------------------------------------

test("STS-REC-07 accepts v=STSv1;id=a; (no spaces, one trailing ';')", () => {
  const r = parseStsRecord("v=STSv1;id=a;");
  assert.ok(r.ok);
  assert.deepEqual(r.value, { v: "STSv1", id: "a", extensions: {} });
  assert.deepEqual(r.diagnostics, []);
});

test("STS-REC-07 accepts v=STSv1; id=a ; (spaces and tabs around ';')", () => {
  for (const text of ["v=STSv1; id=a ;", "v=STSv1;\tid=a\t;\t", "v=STSv1; id=a; "]) {
    const r = parseStsRecord(text);
    assert.ok(r.ok, text);
    assert.equal(r.value.id, "a");
    assert.deepEqual(r.diagnostics, [], text);
  }
});

test("STS-REC-07 rejects id=a; v=STSv1; (version not first)", () => {
  const [d] = invalid("id=a; v=STSv1;", "sts-record.version.missing");
  assert.match(d?.message ?? "", /column 7/);
  assert.equal(d?.at?.column, 1);
});

test("STS-REC-07 rejects v=STSv1;;id=a (empty field)", () => {
  const [d] = invalid("v=STSv1;;id=a", "sts-record.field.empty");
  assert.equal(d?.at?.column, 9);
});

test("STS-REC-07 rejects a second trailing ';' and a field of only spaces", () => {
  invalid("v=STSv1; id=a;;", "sts-record.field.empty");
  invalid("v=STSv1; ; id=a", "sts-record.field.empty");
});

test("STS-REC-07 rejects v=STSv1; id=é (not US-ASCII)", () => {
  const [d] = invalid("v=STSv1; id=é", "sts-record.non-ascii");
  assert.equal(d?.at?.column, 13);
  assert.match(d?.message ?? "", /U\+00E9/);
});

test("STS-REC-07 reports non-ASCII once per record, wherever it is", () => {
  invalid("v=STSv1; id=a; note=café; x=ß", "sts-record.non-ascii");
});

test("STS-REC-07 rejects an empty record and whitespace after the last field without ';'", () => {
  invalid("", "sts-record.version.missing", "sts-record.id.missing");
  invalid("v=STSv1; id=a ", "sts-record.id.invalid-char");
});

test("STS-REC-07 rejects records longer than 8192 characters (sts-record.too-long)", () => {
  const head = "v=STSv1; id=a; x=";
  const fits = head + "b".repeat(8192 - head.length);
  assert.equal(valid(fits).extensions.x?.length, 8192 - head.length);
  invalid(`${fits}b`, "sts-record.too-long");
});

// --- STS-REC-08 id ---------------------------------------------------------

test("STS-REC-08 accepts id=20160831085700Z", () => {
  assert.equal(valid("v=STSv1; id=20160831085700Z").id, "20160831085700Z");
});

test("STS-REC-08 accepts an id of 32 letters and digits, kept as an exact string", () => {
  const id = "AbC9".repeat(8);
  assert.equal(valid(`v=STSv1; id=${id}`).id, id);
});

test("STS-REC-08 rejects id=2016-08-31", () => {
  const [d] = invalid("v=STSv1; id=2016-08-31", "sts-record.id.invalid-char");
  assert.equal(d?.at?.column, 17);
  assert.match(d?.message ?? "", /`2016-08-31`/);
  assert.match(d?.message ?? "", /`id=20160831`/);
  assert.equal(d?.rule, "STS-REC-08");
  assert.equal(d?.rfc, "RFC 8461 §3.1");
});

test("STS-REC-08 rejects id= (empty)", () => {
  const [d] = invalid("v=STSv1; id=", "sts-record.id.empty");
  assert.equal(d?.at?.column, 13);
  invalid("v=STSv1; id=;", "sts-record.id.empty");
});

test("STS-REC-08 rejects an id of 33 characters", () => {
  const [d] = invalid(`v=STSv1; id=${"a".repeat(33)}`, "sts-record.id.too-long");
  assert.match(d?.message ?? "", /33 characters/);
});

test("STS-REC-08 rejects ID=abc: it is an extension, so the id is missing", () => {
  const [d] = invalid("v=STSv1; ID=abc", "sts-record.id.missing");
  assert.match(d?.message ?? "", /`ID=`/);
  assert.match(d?.message ?? "", /`id=abc`/);
});

test("STS-REC-08 rejects a record with no id at all", () => {
  invalid("v=STSv1;", "sts-record.id.missing");
  invalid("v=STSv1", "sts-record.id.missing");
  invalid("v=STSv1; foo=bar", "sts-record.id.missing");
});

// --- STS-REC-09 extensions -------------------------------------------------

test("STS-REC-09 accepts v=STSv1; id=a; foo=bar and keeps the extension", () => {
  const r = parseStsRecord("v=STSv1; id=a; foo=bar");
  assert.ok(r.ok);
  assert.deepEqual(r.value.extensions, { foo: "bar" });
  assert.deepEqual(r.diagnostics, []);
});

test("STS-REC-09 accepts the full extension grammar (name _-. and printable values)", () => {
  const name = `x${"._-9".repeat(7)}Z1A`;
  assert.equal(name.length, 32);
  const r = parseStsRecord(`v=STSv1; ${name}=!"#:<>?~; id=a`);
  assert.ok(r.ok);
  assert.deepEqual(r.value.extensions, { [name]: '!"#:<>?~' });
});

test("STS-REC-09 rejects foo=a=b (value contains '=')", () => {
  const [d] = invalid("v=STSv1; id=a; foo=a=b", "sts-record.extension.malformed");
  assert.equal(d?.at?.column, 21);
});

test("STS-REC-09 rejects foo = bar (whitespace around '=')", () => {
  const [d] = invalid("v=STSv1; id=a; foo = bar", "sts-record.extension.malformed");
  assert.match(d?.message ?? "", /`foo=bar`/);
  invalid("v=STSv1; id=a; foo= bar", "sts-record.extension.malformed");
});

test("STS-REC-09 rejects bad names, empty values and fields without '='", () => {
  for (const field of [
    `${"n".repeat(33)}=v`,
    "_foo=bar",
    "-foo=bar",
    "fo/o=bar",
    "=bar",
    "foo=",
    "foo",
    "foo=a\u0001b",
  ]) {
    invalid(`v=STSv1; id=a; ${field}`, "sts-record.extension.malformed");
  }
});

// --- STS-REC-10 invalid vs ignored ----------------------------------------

test("STS-REC-10 a syntactically invalid record yields no record, with an error", () => {
  const r = parseStsRecord("v=STSv1; id=a; foo=a=b");
  assert.equal(r.ok, false);
  assert.ok(r.diagnostics.every((d) => d.severity === "error"));
});

test("STS-REC-10 unknown extensions and other TXT records are ignored without findings", () => {
  const r = selectStsRecord(["v=spf1 -all", "v=STSv1; id=a; future=1; x.y=z"]);
  assert.ok(r.ok);
  assert.equal(r.value.id, "a");
  assert.deepEqual(r.diagnostics, []);
});

// --- STS-REC-11 duplicates -------------------------------------------------

test("STS-REC-11 v=STSv1; id=a; id=b keeps id a with warning sts-record.id.duplicate", () => {
  const r = parseStsRecord("v=STSv1; id=a; id=b");
  assert.ok(r.ok);
  assert.equal(r.value.id, "a");
  assert.deepEqual(codes(r), ["sts-record.id.duplicate"]);
  assert.equal(r.diagnostics[0]?.severity, "warning");
  assert.equal(r.diagnostics[0]?.at?.column, 16);
});

test("STS-REC-11 a repeated extension keeps its first value, with a warning", () => {
  const r = parseStsRecord("v=STSv1; id=a; foo=1; foo=2");
  assert.ok(r.ok);
  assert.deepEqual(r.value.extensions, { foo: "1" });
  assert.deepEqual(codes(r), ["sts-record.extension.duplicate"]);
});

test("STS-REC-11 the first id wins even when it is the invalid one", () => {
  invalid("v=STSv1; id=a-1; id=b", "sts-record.id.invalid-char", "sts-record.id.duplicate");
});

// --- format and robustness -------------------------------------------------

test("formatStsRecord writes the canonical form, extensions after the id", () => {
  assert.equal(formatStsRecord({ v: "STSv1", id: "abc", extensions: {} }), "v=STSv1; id=abc;");
  assert.equal(
    formatStsRecord({ v: "STSv1", id: "20240101T000000", extensions: { foo: "bar", "x.y": "1" } }),
    "v=STSv1; id=20240101T000000; foo=bar; x.y=1;",
  );
});

test("format → parse round-trips, and parse → format is canonical", () => {
  const records: StsRecord[] = [
    { v: "STSv1", id: "a", extensions: {} },
    { v: "STSv1", id: "Z".repeat(32), extensions: { ext: "val!ue", "a_b-c.d": "~" } },
  ];
  for (const rec of records) {
    const r = parseStsRecord(formatStsRecord(rec));
    assert.ok(r.ok);
    assert.deepEqual(r.value, rec);
    assert.deepEqual(r.diagnostics, []);
  }
  const messy = valid("v=STSv1 ;foo=1 ;\tid=XyZ;");
  assert.equal(formatStsRecord(messy), "v=STSv1; id=XyZ; foo=1;");
});

test("every finding carries a catalogue code, a rule, an RFC section and a fix", () => {
  const r = parseStsRecord("v=STSv1; id=a b");
  const d = r.diagnostics[0];
  assert.equal(d?.code, "sts-record.id.invalid-char");
  assert.equal(d?.severity, "error");
  assert.match(d?.message ?? "", /a space at column 14.*letters and digits.*\(RFC 8461 §3\.1\)$/);
});

test("a hostile record gets a bounded list of findings and stays fast", () => {
  const hostile = ";".repeat(8192);
  const start = performance.now();
  const r = parseStsRecord(hostile);
  assert.equal(r.ok, false);
  assert.ok(r.diagnostics.length <= 33, `${r.diagnostics.length} findings`);
  const fields = parseStsRecord(`v=STSv1; id=a; ${"a=b; ".repeat(1600)}`);
  assert.ok(fields.ok);
  assert.ok(fields.diagnostics.length <= 32);
  const noSemi = parseStsRecord(`v=STSv1 ${"=".repeat(8000)}`);
  assert.equal(noSemi.ok, false);
  assert.ok(performance.now() - start < 500);
});

test("warnings beyond the cap never hide an error", () => {
  const dupes = "id=a; ".repeat(40);
  const r = parseStsRecord(`v=STSv1; ${dupes}bad`);
  assert.equal(r.ok, false);
  assert.ok(codes(r).includes("sts-record.extension.malformed"));
});
