// docs/diagnostics.md is generated from the catalogue; these tests fail when
// the two drift or when a catalogue entry cites a rule the checklists lack.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { DOC_PATH, renderCatalogue } from "../scripts/diagnostics-doc.ts";
import { catalogue } from "../src/core/catalogue.ts";
import type { CodeInfo } from "../src/core/diagnostic.ts";

test("docs/diagnostics.md matches the catalogue (run `npm run docs` after changing codes)", () => {
  assert.equal(readFileSync(DOC_PATH, "utf8"), renderCatalogue());
});

test("every code is dotted lowercase and fully described", () => {
  for (const [code, info] of Object.entries(catalogue as Record<string, CodeInfo>)) {
    assert.match(code, /^[a-z0-9-]+(\.[a-z0-9-]+)+$/, code);
    assert.ok(["error", "warning", "info"].includes(info.severity), `${code} severity`);
    assert.match(info.rfc, /^RFC \d+/, `${code} rfc`);
    assert.ok(info.title.length > 10, `${code} title`);
    assert.ok(info.fix.length > 10, `${code} fix`);
  }
});

test("every rule a code cites exists in the spec checklists (docs/spec)", () => {
  const spec = ["mta-sts.md", "tlsrpt.md", "postfix-socketmap.md"]
    .map((f) => readFileSync(new URL(`../docs/spec/${f}`, import.meta.url), "utf8"))
    .join("\n");
  for (const [code, info] of Object.entries(catalogue as Record<string, CodeInfo>)) {
    for (const rule of info.rule.split(/[ ,]+/)) {
      assert.ok(
        spec.includes(`**${rule}**`),
        `${code} cites ${rule}, which the checklists do not define`,
      );
    }
  }
});
