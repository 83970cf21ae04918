import assert from "node:assert/strict";
import { test } from "node:test";
import {
  domainOfAddress,
  policyDomain,
  policyHost,
  policyUrl,
  stsRecordName,
  tlsrptRecordName,
} from "../../src/core/names.ts";

test("STS-REC-01 queries _mta-sts under the recipient's own domain, never a parent", () => {
  assert.equal(
    stsRecordName(domainOfAddress("user@mail.example.com") ?? ""),
    "_mta-sts.mail.example.com",
  );
  assert.notEqual(stsRecordName("mail.example.com"), "_mta-sts.example.com");
});

test("STS-REC-01 uses the A-label form, lowercase, without a trailing dot", () => {
  assert.equal(stsRecordName("Bücher.Example."), "_mta-sts.xn--bcher-kva.example");
  assert.equal(policyDomain("EXAMPLE.COM"), "example.com");
});

test("STS-REC-01 address literals and IPs have no policy", () => {
  assert.equal(domainOfAddress("user@[192.0.2.1]"), null);
  assert.equal(policyDomain("192.0.2.1"), null);
  assert.equal(policyDomain("2001:db8::1"), null);
  assert.equal(policyDomain(""), null);
  assert.equal(policyDomain("a..b"), null);
  assert.equal(domainOfAddress("no-at-sign"), null);
});

test("RPT-REC-01 queries _smtp._tls, not the draft's _smtp-tlsrpt nor _smtp._tcp", () => {
  assert.equal(tlsrptRecordName("example.com"), "_smtp._tls.example.com");
});

test("STS-FETCH-01 the policy URL is exactly https://mta-sts.<domain>/.well-known/mta-sts.txt", () => {
  assert.equal(policyUrl("Example.com."), "https://mta-sts.example.com/.well-known/mta-sts.txt");
  assert.equal(policyHost("xn--bcher-kva.example"), "mta-sts.xn--bcher-kva.example");
  assert.equal(policyUrl("[192.0.2.1]"), null);
});
