// The two X.509 objects an order needs, signed with node:crypto: the CSR
// sent at finalization (RFC 8555 §7.4; PKCS#10, RFC 2986) and the
// self-signed certificate presented for TLS-ALPN-01 (RFC 8737 §3).

import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import {
  bitString,
  booleanTrue,
  type Der,
  explicit,
  implicitConstructed,
  integer,
  octetString,
  oid,
  sequence,
  set,
  time,
  tlv,
  toPem,
  utf8String,
} from "./der.ts";

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));
const SUBJECT_ALT_NAME = "2.5.29.17";
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
/** id-pe-acmeIdentifier (RFC 8737 §6.1). */
const ACME_IDENTIFIER = "1.3.6.1.5.5.7.1.31";
const COMMON_NAME = "2.5.4.3";
const DAY = 86_400_000;

/** A PEM CSR for `name` (subjectAltName; CN too when it fits its 64-character limit), signed by `keyPem` (ECDSA P-256). */
export function certificateRequest(name: string, keyPem: string): string {
  const info = sequence(
    integer(0),
    subject(name),
    spki(keyPem),
    implicitConstructed(0, sequence(oid(EXTENSION_REQUEST), set(sequence(subjectAltName(name))))),
  );
  return toPem("CERTIFICATE REQUEST", signed(info, keyPem));
}

/**
 * The TLS-ALPN-01 validation certificate: self-signed, one dNSName for
 * `name`, and the critical acmeIdentifier extension holding the SHA-256 of
 * the key authorization (RFC 8737 §3).
 */
export function alpnCertificate(
  name: string,
  keyAuthorization: string,
  keyPem: string,
  now: Date,
): string {
  const digest = createHash("sha256").update(keyAuthorization).digest();
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    ECDSA_WITH_SHA256,
    subject(name),
    sequence(time(new Date(now.getTime() - DAY)), time(new Date(now.getTime() + 7 * DAY))),
    subject(name),
    spki(keyPem),
    explicit(
      3,
      sequence(
        subjectAltName(name),
        sequence(oid(ACME_IDENTIFIER), booleanTrue(), octetString(octetString(digest))),
      ),
    ),
  );
  return toPem("CERTIFICATE", signed(tbs, keyPem));
}

function subject(name: string): Der {
  if (name.length > 64) return sequence();
  return sequence(set(sequence(oid(COMMON_NAME), utf8String(name))));
}

function subjectAltName(name: string): Der {
  const dnsName = tlv(0x82, new TextEncoder().encode(name));
  return sequence(oid(SUBJECT_ALT_NAME), octetString(sequence(dnsName)));
}

function spki(keyPem: string): Der {
  return new Uint8Array(createPublicKey(keyPem).export({ type: "spki", format: "der" }));
}

/** `SEQUENCE { tbs, ecdsa-with-SHA256, signature }`, the shape of both a CSR and a certificate. */
function signed(tbs: Der, keyPem: string): Der {
  const signature = sign("sha256", tbs, createPrivateKey(keyPem));
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(new Uint8Array(signature)));
}
