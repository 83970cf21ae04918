// Every checklist rule (docs/spec) a capability implements must have at least
// one test whose name starts with its ID (several IDs may lead a name).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${String(from + i).padStart(2, "0")}`);

const REQUIRED = [
  "STS-REC-01",
  ...range("STS-REC", 3, 11),
  ...range("STS-POL", 1, 11),
  ...range("STS-MX", 1, 4),
  "STS-FETCH-01",
  "STS-FETCH-07",
  "STS-FETCH-09",
  ...range("RPT-REC", 1, 7),
  ...range("RPT-JSON", 1, 8),
  "RPT-RES-01",
  // The resolver (Postfix socketmap daemon).
  ...range("SM-NET", 1, 3),
  "SM-PROTO-01",
  "SM-PROTO-02",
  "SM-PROTO-05",
  ...range("SM-PMSR", 1, 9),
  ...range("SM-PMSR", 11, 13),
  "SM-WEAK-01",
  ...range("SM-WEAK", 3, 6),
  "SM-WEAK-08",
  "SM-WEAK-10",
  "SM-WEAK-11",
  "STS-SND-02",
  ...range("STS-SND", 3, 8),
  "STS-FETCH-10",
  ...range("STS-DANE", 1, 3),
];

function testNames(): string {
  const dir = new URL(".", import.meta.url).pathname;
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts") && e.name !== "spec-coverage.test.ts")
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

test("each parser-level checklist rule has a test named with its ID", () => {
  const text = testNames();
  const lead = "(?:[A-Z]+-[A-Z]+-\\d+ )*";
  const missing = REQUIRED.filter(
    (id) => !new RegExp(`\\btest\\(\\s*["\`']${lead}${id}\\b`).test(text),
  );
  assert.deepEqual(missing, []);
});

test("every required ID exists in the checklists", () => {
  const spec = ["mta-sts.md", "tlsrpt.md", "postfix-socketmap.md"]
    .map((f) => readFileSync(new URL(`../docs/spec/${f}`, import.meta.url), "utf8"))
    .join("\n");
  assert.deepEqual(
    REQUIRED.filter((id) => !spec.includes(`**${id}**`)),
    [],
  );
});
