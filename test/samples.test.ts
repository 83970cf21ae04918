// Every real-world report in the shared sample folder goes through the same
// path as `mtasts validate report` (extract → parse), and must agree with the
// facts recorded for it in that folder's expected.json. Nothing here names a
// sample: a different set of samples with its own expected.json runs the same way.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { domainToASCII } from "node:url";
import { extractReport } from "../src/adapters/report-source.ts";
import { parseTlsrptReport, reportTotals } from "../src/core/tlsrpt-report.ts";

/** `../shared/samples/tlsrpt` beside the repo; the copy in test/fixtures when run elsewhere. */
function samplesDir(): URL {
  const shared = new URL("../../shared/samples/tlsrpt/", import.meta.url);
  return existsSync(shared) ? shared : new URL("fixtures/samples/tlsrpt/", import.meta.url);
}

interface Expected {
  file: string;
  "organization-name": string | null;
  "report-id": string;
  "start-datetime": string;
  "end-datetime": string;
  policies: number;
  "total-successful-session-count": number;
  "total-failure-session-count": number;
  "policy-domains": string[];
  "result-types": string[];
}

const dir = samplesDir();
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8")) as Expected[];
const NOT_SAMPLES = new Set(["expected.json", "MANIFEST.md", "README.md"]);

test("every sample file has an entry in expected.json and every entry a file", () => {
  const files = readdirSync(dir).filter((f) => !NOT_SAMPLES.has(f) && !f.startsWith("."));
  assert.deepEqual([...files].sort(), expected.map((e) => e.file).sort());
  assert.ok(files.length > 0);
});

/** Domains compare as A-labels: the parser converts U-labels (RPT-JSON-06). */
const aLabels = (names: string[]) =>
  [...new Set(names.map((n) => (/^[\x21-\x7e]*$/.test(n) ? n : domainToASCII(n) || n)))].sort();

/** Instants compare as instants; the parser's form is always YYYY-MM-DDTHH:MM:SSZ. */
function assertSameInstant(actual: string, wanted: string, what: string) {
  assert.match(actual, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, what);
  assert.equal(
    Date.parse(actual),
    Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(wanted) ? wanted : `${wanted}Z`),
    what,
  );
}

for (const want of expected) {
  test(`sample ${want.file}`, async () => {
    const bytes = new Uint8Array(readFileSync(new URL(want.file, dir)));
    const extracted = await extractReport(bytes);
    assert.ok(extracted.ok, `extract: ${JSON.stringify(extracted.diagnostics, null, 1)}`);
    const parsed = parseTlsrptReport(extracted.json);
    const errors = [...extracted.diagnostics, ...parsed.diagnostics].filter(
      (d) => d.severity === "error",
    );
    assert.deepEqual(errors, [], "warnings are fine, errors are not");
    assert.ok(parsed.ok);
    const r = parsed.value;
    const totals = reportTotals(r);
    assert.equal(r["organization-name"], want["organization-name"] ?? null, "organization-name");
    assert.equal(r["report-id"], want["report-id"], "report-id");
    assertSameInstant(r["date-range"]["start-datetime"], want["start-datetime"], "start-datetime");
    assertSameInstant(r["date-range"]["end-datetime"], want["end-datetime"], "end-datetime");
    assert.equal(totals.policies, want.policies, "policies");
    assert.equal(totals.successful, want["total-successful-session-count"], "successful");
    assert.equal(totals.failed, want["total-failure-session-count"], "failed");
    assert.deepEqual(totals.policyDomains, aLabels(want["policy-domains"]), "policy-domains");
    assert.deepEqual(totals.resultTypes, [...new Set(want["result-types"])].sort(), "result-types");
    // The normalised value is a fixed point: parsing its JSON again changes nothing.
    const again = parseTlsrptReport(JSON.stringify(r));
    assert.ok(again.ok);
    assert.deepEqual(again.value, r);
  });
}
