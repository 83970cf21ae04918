import assert from "node:assert/strict";
import { test } from "node:test";
import { certificateNameMatches } from "../../src/core/cert-name.ts";

test("STS-FETCH-02 ✓ SAN *.example.com covers mta-sts.example.com", () => {
  assert.equal(certificateNameMatches("mta-sts.example.com", ["*.example.com"]), "*.example.com");
});

test("STS-FETCH-02 ✓ an exact SAN dNSName matches, case-insensitively, and is returned as written", () => {
  assert.equal(
    certificateNameMatches("MTA-STS.Example.COM", ["www.example.com", "Mta-Sts.example.com"]),
    "Mta-Sts.example.com",
  );
  assert.equal(
    certificateNameMatches("mta-sts.example.com.", ["mta-sts.example.com"]),
    "mta-sts.example.com",
  );
});

test("STS-FETCH-02 ✗ the provider's name when fetching the customer's policy host (§8.2)", () => {
  assert.equal(certificateNameMatches("mta-sts.user.example", ["mta-sts.provider.example"]), null);
});

test("STS-FETCH-02 ✗ a CN-only certificate (no SAN dNSName, no CN fallback)", () => {
  // The caller passes SAN dNSNames only; a CN-only certificate has none.
  assert.equal(certificateNameMatches("mta-sts.example.com", []), null);
});

test("STS-FETCH-02 ✗ SAN mta*.example.com (partial-label wildcard)", () => {
  assert.equal(certificateNameMatches("mta-sts.example.com", ["mta*.example.com"]), null);
  assert.equal(certificateNameMatches("mta-sts.example.com", ["*sts.example.com"]), null);
  assert.equal(certificateNameMatches("mta-sts.example.com", ["mta-sts*.example.com"]), null);
});

test("STS-CERT-04 ✓ SAN *.mail.example.com for mx1.mail.example.com", () => {
  assert.equal(
    certificateNameMatches("mx1.mail.example.com", ["*.mail.example.com"]),
    "*.mail.example.com",
  );
  assert.equal(
    certificateNameMatches("MX1.MAIL.example.com", ["*.Mail.Example.com"]),
    "*.Mail.Example.com",
  );
});

test("STS-CERT-04 ✗ SAN *.example.com for a.b.example.com (one label only)", () => {
  assert.equal(certificateNameMatches("a.b.example.com", ["*.example.com"]), null);
});

test("STS-CERT-04 ✗ certificate with CN only", () => {
  assert.equal(certificateNameMatches("mx1.example.com", []), null);
});

test("STS-CERT-04 ✗ a wildcard never covers the bare parent nor sits anywhere but the left-most label", () => {
  assert.equal(certificateNameMatches("example.com", ["*.example.com"]), null);
  assert.equal(certificateNameMatches("mx.a.example.com", ["mx.*.example.com"]), null);
  assert.equal(certificateNameMatches("a.b.example.com", ["*.*.example.com"]), null);
  assert.equal(certificateNameMatches("example.com", ["*"]), null);
  assert.equal(certificateNameMatches("example.com", ["*.com"]), null);
});

test("STS-CERT-04 ✗ odd inputs match nothing (IP hosts, wildcard hosts, empty labels)", () => {
  assert.equal(certificateNameMatches("192.0.2.1", ["192.0.2.1"]), null);
  assert.equal(certificateNameMatches("2001:db8::1", ["2001:db8::1"]), null);
  assert.equal(certificateNameMatches("*.example.com", ["*.example.com"]), null);
  assert.equal(certificateNameMatches("a..example.com", ["a..example.com"]), null);
  assert.equal(certificateNameMatches("", [""]), null);
  assert.equal(certificateNameMatches("mx.example.com", ["mx.example.com\u0000.evil"]), null);
});
