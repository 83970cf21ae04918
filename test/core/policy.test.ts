import assert from "node:assert/strict";
import { test } from "node:test";
import { catalogue } from "../../src/core/catalogue.ts";
import type { Diagnostic, Parsed } from "../../src/core/diagnostic.ts";
import {
  formatPolicy,
  MAX_POLICY_BYTES,
  type Policy,
  parsePolicy,
  policyMatch,
} from "../../src/core/policy.ts";

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => d.code);

const MIN = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n";

function ok(input: string | Uint8Array): Policy & { diagnostics: Diagnostic[] } {
  const r = parsePolicy(input);
  assert.ok(r.ok, `expected a valid policy: ${JSON.stringify(r.diagnostics, null, 1)}`);
  return { ...r.value, diagnostics: r.diagnostics };
}

function fails(input: string | Uint8Array, code: string): Diagnostic {
  const r = parsePolicy(input);
  assert.equal(r.ok, false, `expected an invalid policy for ${JSON.stringify(input)}`);
  const d = r.diagnostics.find((x) => x.code === code);
  assert.ok(d, `expected ${code}, got ${codes(r.diagnostics).join(", ")}`);
  assert.equal(d.severity, "error");
  return d;
}

/** A policy with `line` in place of its mode line. */
const withMode = (line: string) =>
  `version: STSv1\n${line}\nmx: mail.example.com\nmax_age: 86400\n`;
const withMaxAge = (v: string) =>
  `version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: ${v}\n`;
const withMx = (v: string) => `version: STSv1\nmode: enforce\nmx: ${v}\nmax_age: 86400\n`;

test("a clean policy parses with no diagnostics", () => {
  const p = ok(MIN);
  assert.deepEqual(p.diagnostics, []);
  assert.equal(p.version, "STSv1");
  assert.equal(p.mode, "enforce");
  assert.equal(p.max_age, 604800);
  assert.deepEqual(p.mx, ["mail.example.com"]);
  assert.deepEqual(p.extensions, {});
});

// STS-POL-01: line ends.

test("STS-POL-01 accepts mixed LF and CRLF with no final line end", () => {
  const p = ok("version: STSv1\nmode: none\r\nmax_age: 0");
  assert.equal(p.mode, "none");
  assert.equal(p.max_age, 0);
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(p.lines, ["version: STSv1", "mode: none", "max_age: 0"]);
});

test("STS-POL-01 accepts CRLF throughout, final CRLF included", () => {
  const p = ok("version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 86400\r\n");
  assert.equal(p.mode, "testing");
  assert.deepEqual(p.diagnostics, []);
});

test("STS-POL-01 rejects a lone CR as a line end: version: STSv1\\rmode: none…", () => {
  const d = fails("version: STSv1\rmode: none\nmax_age: 0\n", "policy.line.bad-ending");
  assert.deepEqual(d.at, { line: 1, column: 15 });
  // One stray CR gives one error: both halves are still read.
  assert.deepEqual(codes(parsePolicy("version: STSv1\rmode: none\nmax_age: 0\n").diagnostics), [
    "policy.line.bad-ending",
  ]);
});

test("STS-POL-01 rejects a CR at the very end and CR CR LF", () => {
  fails("version: STSv1\nmode: none\nmax_age: 0\r", "policy.line.bad-ending");
  fails("version: STSv1\r\r\nmode: none\nmax_age: 0", "policy.line.bad-ending");
});

// STS-POL-02: line shape.

test("STS-POL-02 accepts mode:enforce (no space after the colon)", () => {
  assert.equal(ok(withMode("mode:enforce")).mode, "enforce");
});

test("STS-POL-02 accepts mode:  enforce \\t (trailing whitespace dropped)", () => {
  const p = ok(withMode("mode:  enforce \t"));
  assert.equal(p.mode, "enforce");
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(ok(withMx("mail.example.com \t")).mx, ["mail.example.com"]);
  assert.equal(ok(withMaxAge("\t86400  ")).max_age, 86400);
});

test("STS-POL-02 rejects mode : enforce (whitespace before the colon)", () => {
  const d = fails(withMode("mode : enforce"), "policy.line.space-before-colon");
  assert.deepEqual(d.at, { line: 2, column: 5 });
  // The key is still recognised, so there is no cascade of "mode missing".
  assert.ok(
    !codes(parsePolicy(withMode("mode : enforce")).diagnostics).includes("policy.mode.missing"),
  );
});

test("STS-POL-02 rejects ' mode: enforce' (leading whitespace)", () => {
  const d = fails(withMode(" mode: enforce"), "policy.line.leading-space");
  assert.deepEqual(d.at, { line: 2, column: 1 });
  fails(withMode("\tmode: enforce"), "policy.line.leading-space");
});

test("STS-POL-02 rejects 'mode enforce' (no colon) and suggests the fix", () => {
  const d = fails(withMode("mode enforce"), "policy.line.malformed");
  assert.deepEqual(d.at, { line: 2, column: 1 });
  assert.match(d.message, /`mode: enforce`/);
  fails(withMode(": enforce"), "policy.line.malformed");
});

test("STS-POL-02 rejects control characters in values", () => {
  const d = fails(withMode("mode: enf\u0000orce"), "policy.control-char");
  assert.deepEqual(d.at, { line: 2, column: 10 });
  fails("version: STSv1\u007f\nmode: none\nmax_age: 1", "policy.control-char");
  fails(withMx("mail.exa\u0001mple.com"), "policy.control-char");
  fails(`${MIN}x-note: a\tb\n`, "policy.control-char");
});

// STS-POL-03: empty lines (mtasts decision: skip with a warning).

test("STS-POL-03 accepts a policy ending \\n\\n with a warning", () => {
  const p = ok(`${MIN}\n`);
  assert.deepEqual(codes(p.diagnostics), ["policy.line.empty"]);
  assert.equal(p.diagnostics[0]?.severity, "warning");
  assert.deepEqual(p.diagnostics[0]?.at, { line: 5, column: 1 });
});

test("STS-POL-03 treats a whitespace-only line like an empty one", () => {
  const p = ok("version: STSv1\n  \t\nmode: none\r\n\r\nmax_age: 0\n");
  assert.deepEqual(codes(p.diagnostics), ["policy.line.empty", "policy.line.empty"]);
  assert.deepEqual(
    p.diagnostics.map((d) => d.at?.line),
    [2, 4],
  );
});

test("STS-POL-03 a file of only blank lines is empty", () => {
  fails("", "policy.empty");
  fails("\n\n", "policy.empty");
  fails("   ", "policy.empty");
});

// STS-POL-04: keys and extensions.

test("STS-POL-04 accepts the extension x-note: hello world and keeps it", () => {
  const p = ok(`${MIN}x-note: hello world\n`);
  assert.deepEqual(p.extensions, { "x-note": "hello world" });
  assert.deepEqual(p.diagnostics, []);
});

test("STS-POL-04 rejects the key 'x note'", () => {
  const d = fails(`${MIN}x note: a\n`, "policy.key.invalid");
  assert.deepEqual(d.at, { line: 5, column: 1 });
});

test("STS-POL-04 extension names: letter or digit first, then at most 31 of [A-Za-z0-9_.-]", () => {
  const k32 = `a${"b_-.".repeat(7)}xyz`;
  assert.equal(k32.length, 32);
  assert.deepEqual(ok(`${MIN}${k32}: v\n9x: w\n`).extensions, { [k32]: "v", "9x": "w" });
  fails(`${MIN}${k32}c: v\n`, "policy.key.invalid");
  fails(`${MIN}_x: v\n`, "policy.key.invalid");
  fails(`${MIN}-x: v\n`, "policy.key.invalid");
  fails(`${MIN}x/y: v\n`, "policy.key.invalid");
  fails(`${MIN}clé: v\n`, "policy.key.invalid");
});

test("STS-POL-04 Mode: enforce is an extension, so mode is missing", () => {
  const text = "version: STSv1\nMode: enforce\nmx: mail.example.com\nmax_age: 86400\n";
  const r = parsePolicy(text);
  assert.equal(r.ok, false);
  assert.deepEqual(codes(r.diagnostics), ["policy.key.case", "policy.mode.missing"]);
  assert.equal(r.diagnostics[0]?.severity, "warning");
  assert.match(r.diagnostics[1]?.message ?? "", /line 2 has `Mode`; keys must be spelt exactly/);
});

test("STS-POL-04 keys are case-sensitive for every required key", () => {
  const v = parsePolicy("VERSION: STSv1\nmode: none\nmax_age: 1\n");
  assert.deepEqual(codes(v.diagnostics), ["policy.key.case", "policy.version.missing"]);
  const m = parsePolicy("version: STSv1\nmode: none\nMax_Age: 1\n");
  assert.deepEqual(codes(m.diagnostics), ["policy.key.case", "policy.max-age.missing"]);
  const r = parsePolicy("version: STSv1\nmode: testing\nMX: mail.example.com\nmax_age: 1\n");
  assert.deepEqual(codes(r.diagnostics), ["policy.key.case", "policy.mx.missing"]);
});

test("STS-POL-04 max-age (hyphen) is flagged as a misspelt max_age", () => {
  const r = parsePolicy("version: STSv1\nmode: none\nmax-age: 86400\n");
  assert.deepEqual(codes(r.diagnostics), ["policy.key.similar", "policy.max-age.missing"]);
});

test("STS-POL-04 unknown keys are ignored; UTF-8 values are allowed", () => {
  const p = ok(`${MIN}x-owner: Jürgen Müller 😀\nfuture: a:b:c\n`);
  assert.deepEqual(p.extensions, { "x-owner": "Jürgen Müller 😀", future: "a:b:c" });
  assert.equal(p.mode, "enforce");
});

test("STS-POL-04 an extension needs a non-empty, encodable value", () => {
  fails(`${MIN}x-note:\n`, "policy.extension.invalid-value");
  fails(`${MIN}x-note:   \n`, "policy.extension.invalid-value");
  fails(`${MIN}x-note: a\uD800b\n`, "policy.extension.invalid-value");
  fails(`${MIN}x-note: \uDC00\n`, "policy.extension.invalid-value");
});

// STS-POL-05: required fields.

test("STS-POL-05 accepts version, mode none and max_age without mx", () => {
  const p = ok("version: STSv1\nmode: none\nmax_age: 86400");
  assert.deepEqual(p.mx, []);
  assert.deepEqual(p.patterns, []);
  assert.deepEqual(p.diagnostics, []);
});

test("STS-POL-05 rejects mode testing without mx", () => {
  const r = parsePolicy("version: STSv1\nmode: testing\nmax_age: 86400");
  assert.equal(r.ok, false);
  assert.deepEqual(codes(r.diagnostics), ["policy.mx.missing"]);
  fails("version: STSv1\nmode: enforce\nmax_age: 86400", "policy.mx.missing");
});

test("STS-POL-05 rejects version: STSv2", () => {
  const d = fails("version: STSv2\nmode: none\nmax_age: 86400", "policy.version.invalid");
  assert.deepEqual(d.at, { line: 1, column: 10 });
  fails("version: stsv1\nmode: none\nmax_age: 86400", "policy.version.invalid");
  fails("version:\nmode: none\nmax_age: 86400", "policy.version.invalid");
});

test("STS-POL-05 each required key is reported when missing", () => {
  fails("mode: none\nmax_age: 86400", "policy.version.missing");
  fails("version: STSv1\nmax_age: 86400", "policy.mode.missing");
  fails("version: STSv1\nmode: none", "policy.max-age.missing");
  assert.deepEqual(codes(parsePolicy("x-a: b").diagnostics), [
    "policy.version.missing",
    "policy.mode.missing",
    "policy.max-age.missing",
  ]);
});

test("STS-POL-05 fields may come in any order", () => {
  const p = ok("max_age: 5\nmx: mail.example.com\nmode: testing\nversion: STSv1");
  assert.equal(p.mode, "testing");
  assert.equal(p.max_age, 5);
});

// STS-POL-06: duplicates, first wins.

test("STS-POL-06 mode: enforce then mode: testing gives enforce, with a warning", () => {
  const p = ok(
    "version: STSv1\nmode: enforce\nmode: testing\nmx: mail.example.com\nmax_age: 86400\n",
  );
  assert.equal(p.mode, "enforce");
  assert.deepEqual(codes(p.diagnostics), ["policy.key.duplicate"]);
  assert.equal(p.diagnostics[0]?.severity, "warning");
  assert.deepEqual(p.diagnostics[0]?.at, { line: 3, column: 1 });
});

test("STS-POL-06 the first version, max_age and extension win too", () => {
  const p = ok(
    "version: STSv1\nversion: STSv2\nmode: none\nmax_age: 10\nmax_age: 20\nx: 1\nx: 2\n",
  );
  assert.equal(p.max_age, 10);
  assert.deepEqual(p.extensions, { x: "1" });
  assert.deepEqual(codes(p.diagnostics), [
    "policy.key.duplicate",
    "policy.key.duplicate",
    "policy.key.duplicate",
  ]);
});

test("STS-POL-06 a bad first value is not rescued by a later good one", () => {
  fails(
    "version: STSv1\nmode: strict\nmode: enforce\nmx: a.example\nmax_age: 1",
    "policy.mode.invalid",
  );
});

// STS-POL-07: mode values.

test("STS-POL-07 rejects mode Enforce (case-sensitive) and suggests lowercase", () => {
  const d = fails(withMode("mode: Enforce"), "policy.mode.invalid");
  assert.deepEqual(d.at, { line: 2, column: 7 });
  assert.match(d.message, /`mode: enforce`/);
});

test("STS-POL-07 rejects mode report", () => {
  fails(withMode("mode: report"), "policy.mode.invalid");
  fails(withMode("mode:"), "policy.mode.invalid");
  fails(withMode("mode: enforce testing"), "policy.mode.invalid");
});

test("STS-POL-07 accepts enforce, testing and none", () => {
  for (const m of ["enforce", "testing", "none"] as const) {
    assert.equal(ok(withMode(`mode: ${m}`)).mode, m);
  }
});

// STS-POL-08: max_age.

test("STS-POL-08 accepts max_age 0, 604800 and 0031557600", () => {
  assert.equal(ok(withMaxAge("0")).max_age, 0);
  assert.equal(ok(withMaxAge("604800")).max_age, 604800);
  assert.equal(ok(withMaxAge("0031557600")).max_age, 31557600);
  assert.equal(ok(withMaxAge("31557600")).max_age, 31557600);
  assert.equal(ok(withMaxAge("0000000000")).max_age, 0);
});

test("STS-POL-08 rejects max_age 31557601 (out of range, no clamping)", () => {
  const d = fails(withMaxAge("31557601"), "policy.max-age.out-of-range");
  assert.deepEqual(d.at, { line: 4, column: 10 });
  fails(withMaxAge("9999999999"), "policy.max-age.out-of-range");
});

test("STS-POL-08 rejects +86400, -1, 86400.0, 1_000, 12345678901 and empty", () => {
  for (const v of ["+86400", "-1", "86400.0", "1_000", "12345678901", "", "1e5", "0x10", "١٢"]) {
    fails(withMaxAge(v), "policy.max-age.invalid");
  }
  assert.match(fails(withMaxAge("12345678901"), "policy.max-age.invalid").message, /11 digits/);
});

// STS-POL-09: mx values in a policy.

test("STS-POL-09 accepts mail.example.com, *.example.net, xn--bcher-kva.example", () => {
  const p = ok(
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: xn--bcher-kva.example\nmax_age: 86400\n",
  );
  assert.deepEqual(p.mx, ["mail.example.com", "*.example.net", "xn--bcher-kva.example"]);
  assert.deepEqual(
    p.patterns.map((x) => [x.wildcard, x.domain]),
    [
      [false, "mail.example.com"],
      [true, "example.net"],
      [false, "xn--bcher-kva.example"],
    ],
  );
});

test("STS-POL-09 any bad mx makes the policy invalid, with its own code and place", () => {
  const cases: [string, string, number][] = [
    ["*example.com", "policy.mx.wildcard", 5],
    ["mail.*.example.com", "policy.mx.wildcard", 10],
    ["*", "policy.mx.wildcard", 5],
    ["mail.example.com.", "policy.mx.trailing-dot", 21],
    ["bücher.example", "policy.mx.u-label", 6],
    ["mx_1.example.com", "policy.mx.invalid", 7],
    ["mx1.example.com, mx2.example.com", "policy.mx.list", 20],
    ["", "policy.mx.invalid", 5],
  ];
  for (const [value, code, column] of cases) {
    const text = `version: STSv1\nmode: enforce\nmx: good.example.com\nmx: ${value}\nmax_age: 86400\n`;
    const d = fails(text, code);
    assert.deepEqual(d.at, { line: 4, column }, value);
  }
});

test("STS-POL-09 mx diagnostics cite STS-POL-09", () => {
  assert.equal(fails(withMx("*example.com"), "policy.mx.wildcard").rule, "STS-POL-09");
});

// STS-POL-10: numeric mx.

test("STS-POL-10 keeps a policy with mx 192.0.2.1 but drops it from matching", () => {
  const p = ok(
    "version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmx: mail.example.com\nmax_age: 86400\n",
  );
  assert.deepEqual(p.mx, ["192.0.2.1", "mail.example.com"]);
  assert.deepEqual(
    p.patterns.map((x) => x.text),
    ["mail.example.com"],
  );
  assert.deepEqual(codes(p.diagnostics), ["policy.mx.numeric"]);
  assert.deepEqual(p.diagnostics[0]?.at, { line: 3, column: 5 });
  assert.equal(policyMatch(p, "192.0.2.1"), null);
});

test("STS-POL-10 warns when numeric patterns leave nothing to match in enforce mode", () => {
  const p = ok("version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmax_age: 86400\n");
  assert.deepEqual(codes(p.diagnostics), ["policy.mx.numeric", "policy.mx.no-usable"]);
  assert.deepEqual(p.patterns, []);
});

test("STS-POL-10 IPv6 text in mx makes the policy invalid", () => {
  fails(withMx("2001:db8::1"), "policy.mx.invalid");
  fails(withMx("[2001:db8::1]"), "policy.mx.invalid");
});

// STS-POL-11: original lines and mx list.

test("STS-POL-11 keeps the original lines in order, without line ends", () => {
  const text = "version: STSv1\r\nmode:  testing\nmx: MAIL.example.com\r\n\nmax_age: 86400 \n";
  const p = ok(text);
  assert.deepEqual(p.lines, [
    "version: STSv1",
    "mode:  testing",
    "mx: MAIL.example.com",
    "",
    "max_age: 86400 ",
  ]);
});

test("STS-POL-11 mx patterns keep file order, case-folded, duplicates removed", () => {
  const p = ok(
    "version: STSv1\nmode: enforce\nmx: b.example\nmx: A.example\nmx: *.c.example\nmx: a.EXAMPLE\nmx: B.example\nmax_age: 1\n",
  );
  assert.deepEqual(p.mx, ["b.example", "a.example", "*.c.example"]);
  assert.deepEqual(codes(p.diagnostics), ["policy.mx.duplicate", "policy.mx.duplicate"]);
  assert.equal(p.diagnostics[0]?.severity, "info");
  assert.deepEqual(p.diagnostics[0]?.at, { line: 6, column: 5 });
});

test("STS-POL-11 de-duplicates long mx lists in linear time", () => {
  const many = Array.from({ length: 2500 }, (_, i) => `mx: m${i}.ex\n`).join("");
  const text = `version: STSv1\nmode: enforce\n${many}${many}max_age: 1\n`;
  const p = ok(text);
  assert.equal(p.mx.length, 2500);
  assert.equal(p.mx[2499], "m2499.ex");
  assert.equal(p.diagnostics.length, 2500);
});

// STS-FETCH-07 / STS-FETCH-09: body size and encoding.

/** A valid policy of exactly `size` bytes, padded with an extension. */
function policyOfSize(size: number): string {
  const head = `${MIN}x-pad: `;
  return `${head}${"a".repeat(size - head.length - 1)}\n`;
}

test("STS-FETCH-07 accepts a 65 536-byte body", () => {
  const bytes = new TextEncoder().encode(policyOfSize(65_536));
  assert.equal(bytes.length, MAX_POLICY_BYTES);
  ok(bytes);
  ok(policyOfSize(65_536));
});

test("STS-FETCH-07 rejects a 65 537-byte body", () => {
  const bytes = new TextEncoder().encode(policyOfSize(65_537));
  assert.equal(bytes.length, 65_537);
  const r = parsePolicy(bytes);
  assert.equal(r.ok, false);
  assert.deepEqual(codes(r.diagnostics), ["policy.too-large"]);
  assert.equal(r.diagnostics[0]?.rule, "STS-FETCH-07");
  fails(policyOfSize(65_537), "policy.too-large");
});

test("STS-FETCH-07 measures text input in UTF-8 bytes", () => {
  const text = `${MIN}x-pad: ${"é".repeat(33_000)}\n`;
  assert.ok(text.length < MAX_POLICY_BYTES);
  fails(text, "policy.too-large");
  fails(`${MIN}x-pad: ${"😀".repeat(16_400)}\n`, "policy.too-large");
  ok(`${MIN}x-pad: ${"😀".repeat(16_000)}\n`);
});

test("STS-FETCH-09 rejects invalid UTF-8 and points at the byte", () => {
  const good = new TextEncoder().encode(`${MIN}x-note: ab\n`);
  const bad = Uint8Array.from(good);
  bad[bad.length - 2] = 0xff;
  const d = fails(bad, "policy.encoding.invalid-utf8");
  assert.deepEqual(d.at, { line: 5, column: 10 });
  assert.equal(d.rule, "STS-FETCH-09");
  assert.match(d.message, /0xFF/);
});

test("STS-FETCH-09 rejects overlong forms, encoded surrogates and cut sequences", () => {
  const enc = new TextEncoder().encode(MIN);
  for (const tail of [
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
    [0x80],
  ]) {
    const bytes = Uint8Array.from([...enc, ...new TextEncoder().encode("x: "), ...tail]);
    const d = fails(bytes, "policy.encoding.invalid-utf8");
    assert.deepEqual(d.at, { line: 5, column: 4 }, JSON.stringify(tail));
  }
});

test("STS-FETCH-09 accepts UTF-8 bytes in an extension value", () => {
  const p = ok(new TextEncoder().encode(`${MIN}x-owner: Jürgen 😀\n`));
  assert.equal(p.extensions["x-owner"], "Jürgen 😀");
});

test("STS-FETCH-09 a byte-order mark is reported, not silently dropped", () => {
  const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(MIN)]);
  const d = fails(bytes, "policy.encoding.bom");
  assert.deepEqual(d.at, { line: 1, column: 1 });
  assert.deepEqual(codes(parsePolicy(`\uFEFF${MIN}`).diagnostics), ["policy.encoding.bom"]);
});

// formatPolicy and policyMatch.

test("formatPolicy writes the canonical LF-terminated file", () => {
  assert.equal(
    formatPolicy({ mode: "enforce", max_age: 604800, mx: ["mail.example.com", "*.example.net"] }),
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n",
  );
  assert.equal(
    formatPolicy({ mode: "none", max_age: 0, mx: [], extensions: { "x-note": "hi there" } }),
    "version: STSv1\nmode: none\nmax_age: 0\nx-note: hi there\n",
  );
});

test("formatPolicy → parsePolicy round-trips", () => {
  const inputs = [
    { mode: "enforce", max_age: 604800, mx: ["mail.example.com", "*.example.net"] },
    { mode: "testing", max_age: 31557600, mx: ["xn--bcher-kva.example", "192.0.2.1"] },
    { mode: "none", max_age: 0, mx: [], extensions: { "x-note": "hello world", "9.z": "ü" } },
  ] as const;
  for (const input of inputs) {
    const text = formatPolicy(input);
    const p = ok(text);
    assert.equal(p.mode, input.mode);
    assert.equal(p.max_age, input.max_age);
    assert.deepEqual(p.mx, input.mx);
    assert.deepEqual(p.extensions, "extensions" in input ? input.extensions : {});
    assert.deepEqual(p.lines, text.slice(0, -1).split("\n"));
    // parse → format is a fixed point.
    assert.equal(formatPolicy(p), text);
  }
});

test("formatPolicy canonicalises a messy policy", () => {
  const p = ok(
    "max_age:0086400\r\nmx:MAIL.Example.com \nmx: mail.example.com\nmode:testing\nversion: STSv1\n\n",
  );
  assert.equal(
    formatPolicy(p),
    "version: STSv1\nmode: testing\nmx: mail.example.com\nmax_age: 86400\n",
  );
});

test("formatPolicy refuses fields that would change the file's lines", () => {
  assert.throws(
    () => formatPolicy({ mode: "enforce", max_age: 1, mx: ["a.example\nmx: evil.example"] }),
    RangeError,
  );
  assert.throws(
    () => formatPolicy({ mode: "none", max_age: 1, mx: [], extensions: { x: "a\rb" } }),
    RangeError,
  );
  assert.throws(() => formatPolicy({ mode: "none", max_age: 1.5, mx: [] }), RangeError);
});

test("STS-MX-01 policyMatch returns the matching pattern text or null", () => {
  const p = ok(
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.Example.NET\nmax_age: 1\n",
  );
  assert.equal(policyMatch(p, "Mail.Example.com."), "mail.example.com");
  assert.equal(policyMatch(p, "mx7.example.net"), "*.example.net");
  assert.equal(policyMatch(p, "a.b.example.net"), null);
  assert.equal(policyMatch(p, "example.net"), null);
});

// Robustness: never throws, ok exactly when no error, codes from the catalogue.

function wellFormed(r: Parsed<Policy>) {
  for (const d of r.diagnostics) assert.ok(d.code in catalogue, d.code);
  assert.equal(
    r.ok,
    r.diagnostics.every((d) => d.severity !== "error"),
  );
}

test("odd inputs give well-formed results", () => {
  const inputs = [
    "",
    ":",
    "::::",
    "\r",
    "\r\n",
    "\n\r",
    "\u0000",
    "\uFEFF",
    "\uD800",
    "mx:",
    "mx",
    "version: STSv1\nmode: enforce\nmx: *.\nmax_age: 1",
    "a".repeat(70_000),
    "x: \u2028\u2029",
    "constructor: x\n__proto__: y\ntoString: z\nversion: STSv1\nmode: none\nmax_age: 1",
  ];
  for (const s of inputs) {
    wellFormed(parsePolicy(s));
    wellFormed(parsePolicy(new TextEncoder().encode(s)));
  }
  wellFormed(parsePolicy(new Uint8Array(0)));
  wellFormed(parsePolicy(Uint8Array.from({ length: 256 }, (_, i) => i)));
  const p = ok("constructor: x\ntoString: z\nversion: STSv1\nmode: none\nmax_age: 1");
  assert.deepEqual(p.extensions, { constructor: "x", toString: "z" });
});

test("a worst-case 64 KiB input parses in linear time", () => {
  const inputs = [
    "a".repeat(65_000),
    "\n".repeat(65_000),
    "a\n".repeat(32_000),
    ":".repeat(65_000),
    "x:\r".repeat(21_000),
    `mx: ${"a.".repeat(32_000)}`,
    "mx: a\n".repeat(10_000),
  ];
  const t = performance.now();
  for (const s of inputs) wellFormed(parsePolicy(s));
  assert.ok(performance.now() - t < 2000, "took too long");
});
