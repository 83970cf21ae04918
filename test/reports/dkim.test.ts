// DKIM verification of mailed reports (RFC 8460 §3, RPT-DLV-06) with keys
// the test makes, published as TXT records in the lab's DNS server, and
// messages signed with mailauth's signer: pass, fail, none and the errors.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { type DnsServer, startDnsServer } from "../../lab/dns-server.ts";
import { createResolver } from "../../src/adapters/dns.ts";
import { createDkimVerifier, dkimTxtResolver } from "../../src/reports/dkim.ts";
import type { DkimVerifier } from "../../src/reports/types.ts";
import { type DkimKey, keyZone, makeDkimKey, reportMail, signMail } from "./intake-fixtures.ts";

const REPORT = Buffer.from(
  JSON.stringify({
    "organization-name": "Sender Ltd",
    "date-range": {
      "start-datetime": "2026-11-20T00:00:00Z",
      "end-datetime": "2026-11-20T23:59:59Z",
    },
    "contact-info": "tlsrpt@sender.test",
    "report-id": "dkim-1",
    policies: [
      {
        policy: { "policy-type": "no-policy-found", "policy-domain": "reports.test" },
        summary: { "total-successful-session-count": 3, "total-failure-session-count": 0 },
      },
    ],
  }),
);

let dns: DnsServer;
let verify: DkimVerifier;
let rsa: DkimKey;
let ed: DkimKey;
let esp: DkimKey;
let orphan: DkimKey;
let mailKey: DkimKey;

const mail = () =>
  reportMail(REPORT, {
    submitter: "mail.sender.test",
    policyDomain: "reports.test",
    reportId: "dkim-1",
  });

before(async () => {
  rsa = makeDkimKey("sender.test", "rsa2026", "rsa");
  ed = makeDkimKey("sender.test", "ed2026", "ed25519");
  esp = makeDkimKey("esp.test", "esp", "rsa");
  orphan = makeDkimKey("sender.test", "unpublished", "rsa");
  // A key published for mail in general, without RFC 8460's s=tlsrpt.
  mailKey = makeDkimKey("sender.test", "mail", "rsa");
  mailKey.record = mailKey.record.replace(" s=tlsrpt;", "");
  dns = await startDnsServer({
    zones: [
      keyZone("sender.test", [rsa, ed, mailKey]),
      keyZone("esp.test", [esp]),
      {
        apex: "broken.test",
        records: [{ type: "TXT", name: "sel._domainkey.broken.test", strings: ["v=DKIM1; p="] }],
        faults: { "down._domainkey.broken.test": "servfail" },
      },
    ],
  });
  verify = createDkimVerifier({
    resolver: dkimTxtResolver(
      createResolver({
        servers: [{ host: dns.address, port: dns.port }],
        timeoutMs: 2000,
        attempts: 1,
      }),
    ),
  });
});
after(() => dns?.close());

test("RPT-DLV-06 an RSA-signed report whose key is in DNS passes, with the signing domain", async () => {
  const verdict = await verify(await signMail(mail(), rsa));
  assert.equal(verdict.result, "pass", verdict.detail);
  assert.equal(verdict.domain, "sender.test");
  assert.match(verdict.detail ?? "", /s=rsa2026/);
});

test("RPT-DLV-06 an Ed25519-signed report (RFC 8463) passes", async () => {
  const verdict = await verify(await signMail(mail(), ed));
  assert.equal(verdict.result, "pass", verdict.detail);
  assert.equal(verdict.domain, "sender.test");
});

test("RPT-DLV-06 a report altered after signing fails", async () => {
  const signed = (await signMail(mail(), rsa)).toString("latin1");
  // One character of the base64 report changed: the body hash no longer matches.
  const at = signed.indexOf("H4sI") + 10;
  const tampered = signed.slice(0, at) + (signed[at] === "A" ? "B" : "A") + signed.slice(at + 1);
  const verdict = await verify(Buffer.from(tampered, "latin1"));
  assert.equal(verdict.result, "fail");
  assert.equal(verdict.domain, "sender.test");
  assert.match(verdict.detail ?? "", /body hash/);
});

test("RPT-DLV-06 a report with a changed signed header fails", async () => {
  const signed = (await signMail(mail(), rsa)).toString("latin1");
  const verdict = await verify(
    Buffer.from(
      signed.replace("TLS-Report-Domain: reports.test", "TLS-Report-Domain: victim.test"),
      "latin1",
    ),
  );
  assert.equal(verdict.result, "fail");
});

test("RPT-DLV-06 an unsigned report is none, with no domain", async () => {
  const verdict = await verify(mail());
  assert.deepEqual(
    { result: verdict.result, domain: verdict.domain },
    { result: "none", domain: null },
  );
});

test("RPT-DLV-06 a signature whose key is not published is a permanent error", async () => {
  const verdict = await verify(await signMail(mail(), orphan));
  assert.equal(verdict.result, "permerror");
  assert.equal(verdict.domain, "sender.test");
  assert.match(verdict.detail ?? "", /no key/);
});

test("RPT-DLV-06 a key lookup that fails (SERVFAIL) is a temporary error; an empty key a permanent one", async () => {
  const down = makeDkimKey("broken.test", "down", "rsa");
  const servfail = await verify(await signMail(mail(), down));
  assert.equal(servfail.result, "temperror", servfail.detail);
  const revoked = makeDkimKey("broken.test", "sel", "rsa");
  const empty = await verify(await signMail(mail(), revoked));
  assert.equal(empty.result, "permerror", empty.detail);
});

test("RPT-DLV-06 a signature with l= does not authenticate the report (RFC 8460 §3)", async () => {
  const message = mail();
  const data = {
    signingDomain: rsa.domain,
    selector: rsa.selector,
    privateKey: rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    maxBodyLength: 200,
  };
  // signTime: one t= for the signed copy and the header (see signMail in intake-fixtures.ts).
  const signed = await dkimSign(message, { ...data, signatureData: [data], signTime: new Date() });
  const full = Buffer.concat([Buffer.from(signed.signatures), message]);
  assert.match(signed.signatures, /\bl=200\b/);
  const verdict = await verify(full);
  assert.equal(verdict.result, "fail");
  assert.match(verdict.detail ?? "", /l=/);
});

test("RPT-DLV-06 of two passing signatures the one by the submitter's domain speaks for the report", async () => {
  // An ESP signs last (outermost); the reporter's own signature is inside.
  const byReporter = await signMail(mail(), rsa);
  const both = await signMail(byReporter, esp);
  const verdict = await verify(both);
  assert.equal(verdict.result, "pass");
  assert.equal(verdict.domain, "sender.test");
  // Only the ESP's: still a pass, with the ESP's domain for ingest to judge.
  const espOnly = await verify(await signMail(mail(), esp));
  assert.deepEqual(
    { result: espOnly.result, domain: espOnly.domain },
    { result: "pass", domain: "esp.test" },
  );
});

test("RPT-DLV-06 a passing signature beats a failing one", async () => {
  const good = await signMail(mail(), rsa);
  const withBroken = await signMail(good, orphan);
  const verdict = await verify(withBroken);
  assert.equal(verdict.result, "pass");
});

test("the verifier never rejects: binary garbage and an empty message get a verdict", async () => {
  for (const input of [new Uint8Array([0, 1, 2, 0xff, 0xfe]), new Uint8Array(0)]) {
    const verdict = await verify(input);
    assert.ok(["none", "temperror", "permerror"].includes(verdict.result), JSON.stringify(verdict));
  }
});

test("RPT-DLV-06 a key without s=tlsrpt still verifies, and the verdict says what it lacks", async () => {
  const plain = await verify(await signMail(mail(), mailKey));
  assert.equal(plain.result, "pass");
  assert.match(plain.detail ?? "", /s=tlsrpt/);
  const tlsrpt = await verify(await signMail(mail(), rsa));
  assert.doesNotMatch(tlsrpt.detail ?? "", /s=tlsrpt/);
});

test("RPT-DLV-06 without a TLS-Report-Submitter header the From domain picks the signature that speaks", async () => {
  const bare = Buffer.from(
    mail()
      .toString("latin1")
      .replace(/^TLS-Report-Submitter: .*\r\n/m, ""),
    "latin1",
  );
  const both = await signMail(await signMail(bare, rsa), esp);
  const verdict = await verify(both);
  assert.deepEqual(
    { result: verdict.result, domain: verdict.domain },
    { result: "pass", domain: "sender.test" },
  );
});
