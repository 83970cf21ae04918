// The end-of-scan summary: adoption by mode, TLS-RPT, problems ranked.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createSummary, renderSummaryText } from "../../src/scan/index.ts";
import { finding, none, record } from "./records.ts";

function summarise() {
  const s = createSummary();
  s.add(record("a.example"));
  s.add(record("b.example", { mode: "testing", tlsrpt: false }));
  s.add(
    record("c.example", {
      status: "error",
      mode: null,
      max_age: null,
      findings: [
        finding("fetch.certificate.expired"),
        finding("dns.tlsrpt-record.missing", "warning"),
      ],
      tlsrpt: false,
    }),
  );
  s.add(
    record("d.example", {
      status: "error",
      mode: "enforce",
      findings: [
        finding("mx.not-covered"),
        finding("mx.not-covered"),
        finding("fetch.certificate.expired"),
      ],
    }),
  );
  s.add(
    record("e.example", {
      status: "error",
      mode: null,
      id: null,
      incomplete: true,
      findings: [{ ...finding("dns.lookup.timeout", "warning"), subject: "_mta-sts.e.example" }],
    }),
  );
  for (let i = 0; i < 5; i++) s.add(none(`n${i}.example`, i === 0));
  s.add(
    record("x".repeat(30), {
      status: "error",
      mode: null,
      id: null,
      findings: [finding("input.domain.invalid")],
    }),
  );
  return s.result();
}

test("adoption: published, valid policy by mode, no record, DNS failures apart; invalid names out of every share", () => {
  const s = summarise();
  assert.equal(s.total, 11);
  assert.equal(s.invalid, 1);
  assert.equal(s.scanned, 10);
  assert.deepEqual(s.status, { ok: 2, warning: 0, error: 3, none: 5 });
  assert.deepEqual(s.mtaSts, {
    published: 4,
    unknown: 1,
    validPolicy: 3,
    modes: { enforce: 2, testing: 1, none: 0 },
  });
  assert.deepEqual(s.tlsrpt, { published: 4, withMtaSts: 2 });
});

test("problems: each code once per domain, most common first, with examples, only among publishers", () => {
  const s = summarise();
  assert.deepEqual(
    s.problems.map((p) => [p.code, p.domains, p.examples]),
    [
      ["fetch.certificate.expired", 2, ["c.example", "d.example"]],
      ["dns.tlsrpt-record.missing", 1, ["c.example"]],
      ["mx.not-covered", 1, ["d.example"]],
    ],
  );
  assert.match(s.problems[0]?.title ?? "", /expired/i);
});

test("the text summary says the shares in words", () => {
  const text = renderSummaryText(summarise(), 2000);
  assert.match(text, /^Scanned 10 domains in 2\.0 s \(6\/s\)/);
  assert.match(text, /1 name was not a domain name/);
  assert.match(text, /published by 4 \(40\.0%\); no record 5 \(50\.0%\); DNS failed 1 \(10\.0%\)/);
  assert.match(text, /enforce 2 \(20\.0%\), testing 1 \(10\.0%\)/);
  assert.match(
    text,
    /\n +2 +error +fetch\.certificate\.expired +.*\n +e\.g\. c\.example, d\.example/,
  );
});
