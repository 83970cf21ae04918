// Hostile input that is not a protocol fault: certificates with absurd fields
// and records or policies carrying terminal control sequences. The check must
// report them sanely (no crash, bounded messages, nothing that drives the
// admin's terminal).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { nameList } from "../../src/check/findings.ts";
import { run } from "../../src/cli/main.ts";
import { printable } from "../../src/cli/render.ts";

let lab: Lab;

const ESC = "\u001b";
before(async () => {
  lab = await startLab(
    scenario(
      {
        domain: "absurd.test",
        mx: ["mx1", "mx2"],
        faults: ["mx1:cert-absurd-fields", "policy:cert-absurd-fields"],
      },
      {
        domain: "escape.test",
        mx: ["mx1"],
        stsId: `2026${ESC}[2J${ESC}]0;owned\u0007`,
        policyText: `version: STSv1\r\nmode: enforce\r\nmx: mx1.escape.test\r\nmax_age: 604800\r\n${ESC}[2J${ESC}]0;owned\u0007: x\r\n`,
      },
    ),
  );
});
after(() => lab?.close());

async function check(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const io = {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (out += s) },
    env: {},
  };
  const code = await run(["check", ...lab.checkArgs(), ...args], io as never);
  return { code, out };
}

test("STS-FETCH-02 a certificate with a 4,000-character CN, 400 junk SANs and expiry in 9999 is judged on its names and dates", async () => {
  const { code, out } = await check("--json", "absurd.test");
  assert.equal(code, 0, out);
  const [domain] = JSON.parse(out).domains;
  assert.equal(domain.status, "ok");
  const mx1 = domain.mx.find((m: { host: string }) => m.host === "mx1.absurd.test");
  assert.equal(mx1.stsValid, true);
  assert.equal(mx1.certificate.notAfter, "9999-12-31T23:59:59.000Z");
  assert.ok(mx1.certificate.daysLeft > 2_900_000);
  assert.equal(mx1.certificate.dnsNames.length, 401);
  assert.equal(domain.policy.certificate.dnsNames.length, 401);
});

test("the text report shows a far-future expiry as a date, not millions of days", async () => {
  const { out } = await check("absurd.test");
  assert.match(out, /cert valid until 9999-12-31/);
  assert.match(out, /certificate valid until 9999-12-31/);
  assert.doesNotMatch(out, /\d{6,} days/);
});

test("control characters from a TXT record or a policy reach the terminal escaped, never raw", async () => {
  const { code, out } = await check("escape.test");
  assert.equal(code, 1, out);
  assert.match(out, /policy\.line\.syntax|policy\./);
  assert.ok(!out.includes(ESC), `raw ESC in output:\n${JSON.stringify(out)}`);
  assert.ok(!out.includes("\u0007"), "raw BEL in output");
  assert.match(out, /sts-record\.id\.invalid-char/);
  assert.match(out, /Control character U\+001B/);
});

test("printable escapes C0/C1 controls and bidi overrides, keeps other text", () => {
  assert.equal(printable("a\u0000b\u009bc\u202ed"), "a\\u{0}b\\u{9b}c\\u{202e}d");
  assert.equal(printable("tab\there"), "tab here");
  assert.equal(
    printable("mx1.example.com, *.ex.org, bücher.de"),
    "mx1.example.com, *.ex.org, bücher.de",
  );
});

test("nameList caps the count and the length of peer-chosen names", () => {
  const names = Array.from({ length: 400 }, (_, i) => `${"a".repeat(i === 0 ? 300 : 3)}${i}.test`);
  const text = nameList(names);
  assert.match(text, /… and 392 more$/);
  assert.match(text, /… \(306 characters\)/);
  assert.ok(text.length < 1200);
  assert.equal(nameList(["a.test", "b.test"]), "a.test, b.test");
});
