// A test certificate authority for the lab: a root and an intermediate
// (ECDSA P-256, fast to make), and leaf certificates that can carry a named
// fault. The code under test trusts `rootPem` through injection (the
// `--ca-file` option, or `ca` in the fetch options); nothing here touches the
// system trust store.

import {
  createHash,
  generateKeyPair,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ascii,
  bitString,
  boolean,
  type Der,
  explicit,
  implicit,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  time,
  toPem,
  utf8String,
} from "./der.ts";

/** What can be wrong with an issued certificate (each one a web-PKI failure, STS-FETCH-02). */
export type CertFault =
  | "expired"
  | "not-yet-valid"
  /** The SAN names a different host ({@link WRONG_NAME}) than the one asked for. */
  | "wrong-name"
  /** The leaf signs itself. */
  | "self-signed"
  /** Chains, via its own intermediate, to a second root nobody trusts. */
  | "untrusted-root"
  /** Issued by the trusted intermediate, but the server sends the leaf only. */
  | "missing-intermediate"
  /** No subjectAltName at all: the name is only in the subject CN. */
  | "cn-only"
  /** A 1024-bit RSA key, below OpenSSL's default security level. */
  | "weak-key"
  /**
   * Valid for the asked names, but hostile to whoever displays it: a 4,000
   * character subject CN with control characters, 400 junk SAN entries (NUL
   * bytes, 300-byte labels, markup) before the real names, and an expiry in
   * year 9999 (RFC 5280's "no well-defined expiration").
   */
  | "absurd-fields";

export const certFaults: readonly CertFault[] = [
  "expired",
  "not-yet-valid",
  "wrong-name",
  "self-signed",
  "untrusted-root",
  "missing-intermediate",
  "cn-only",
  "weak-key",
  "absurd-fields",
];

export interface CertSpec {
  /** SAN dNSName entries (the first is also the subject CN). */
  names: string[];
  fault?: CertFault;
  /** Days from `now` until a fault-free leaf expires (default 90; e.g. 10 for "expiring soon"). */
  validDays?: number;
}

export interface IssuedCert {
  /** PKCS#8 private key, PEM. */
  keyPem: string;
  /** The leaf alone, PEM. */
  certPem: string;
  /** What the server should send: the leaf, then any intermediate (PEM, concatenated). */
  chainPem: string;
  leafDer: Uint8Array;
  /** DER of the leaf's SubjectPublicKeyInfo (TLSA selector 1). */
  spkiDer: Uint8Array;
  notAfter: Date;
}

export interface TestCa {
  /** The trusted root, PEM. */
  rootPem: string;
  /** The intermediate that signs leaves, PEM (servers send it after the leaf). */
  intermediatePem: string;
  /** Issues (or returns the cached) certificate for this spec. */
  issue(spec: CertSpec): Promise<IssuedCert>;
  /** Writes the trusted root to `<dir>/mtasts-lab-root.pem` and returns the path. */
  writeCaFile(dir: string): string;
}

/** The host a `wrong-name` certificate is issued for instead. */
export const WRONG_NAME = "wrong-name.invalid";

const DAY = 86_400_000;
const generate = promisify(generateKeyPair);

interface KeyPair {
  privateKey: KeyObject;
  spki: Der;
}

interface Authority {
  name: Der;
  keys: KeyPair;
  pem: string;
}

export async function createTestCa(options: { now?: Date } = {}): Promise<TestCa> {
  // Certificates carry whole seconds; so does every date derived here.
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000;
  const at = (days: number) => new Date(now + days * DAY);
  const root = await authority("mtasts lab root", null, at);
  const intermediate = await authority("mtasts lab intermediate", root, at);
  let untrusted: Promise<Authority> | undefined;
  const cache = new Map<string, Promise<IssuedCert>>();

  const issueUncached = async ({
    names: asked,
    fault,
    validDays = 90,
  }: CertSpec): Promise<IssuedCert> => {
    const names = fault === "wrong-name" ? [WRONG_NAME] : asked;
    const [notBefore, notAfter] =
      fault === "expired"
        ? [at(-90), at(-1)]
        : fault === "not-yet-valid"
          ? [at(1), at(90)]
          : fault === "absurd-fields"
            ? [at(-1), new Date(Date.UTC(9999, 11, 31, 23, 59, 59))]
            : [at(-1), at(validDays)];
    const keys = await keyPair(fault === "weak-key" ? "weak-rsa" : "ec");
    const subject = distinguishedName(
      fault === "absurd-fields" ? absurdCn() : (names[0] ?? "mtasts lab"),
    );
    let issuer: Authority | null = intermediate;
    if (fault === "self-signed") issuer = null;
    if (fault === "untrusted-root") {
      untrusted ??= authority("mtasts lab untrusted root", null, at).then((r) =>
        authority("mtasts lab untrusted intermediate", r, at),
      );
      issuer = await untrusted;
    }
    const extensions = [
      extension("2.5.29.19", sequence(), true), // basicConstraints: not a CA
      extension("2.5.29.15", bitString(Uint8Array.of(0x80), 7), true), // digitalSignature
      extension("2.5.29.37", sequence(oid("1.3.6.1.5.5.7.3.1"))), // serverAuth
      extension("2.5.29.14", octetString(keyId(keys.spki))),
      extension("2.5.29.35", sequence(implicit(0, keyId((issuer ?? { keys }).keys.spki)))),
    ];
    if (fault !== "cn-only") {
      const junk = fault === "absurd-fields" ? absurdNames() : [];
      const sans = [...junk, ...names].map((n) => implicit(2, ascii(n)));
      extensions.push(extension("2.5.29.17", sequence(...sans)));
    }
    const leaf = certificate({
      subject,
      issuer: issuer?.name ?? subject,
      notBefore,
      notAfter,
      spki: keys.spki,
      signer: issuer?.keys ?? keys,
      extensions,
    });
    const certPem = toPem("CERTIFICATE", leaf);
    return {
      keyPem: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      certPem,
      chainPem: issuer && fault !== "missing-intermediate" ? certPem + issuer.pem : certPem,
      leafDer: leaf,
      spkiDer: keys.spki,
      notAfter,
    };
  };

  return {
    rootPem: root.pem,
    intermediatePem: intermediate.pem,
    issue(spec) {
      const key = JSON.stringify([spec.names, spec.fault ?? null, spec.validDays ?? null]);
      let issued = cache.get(key);
      if (!issued) {
        issued = issueUncached(spec);
        cache.set(key, issued);
        issued.catch(() => cache.delete(key)); // a failure must not stay cached
      }
      return issued;
    },
    writeCaFile(dir) {
      const path = join(dir, "mtasts-lab-root.pem");
      writeFileSync(path, root.pem);
      return path;
    },
  };
}

/** A root (parent null) or an intermediate (path length 0) CA. */
async function authority(
  cn: string,
  parent: Authority | null,
  at: (days: number) => Date,
): Promise<Authority> {
  const keys = await keyPair("ec");
  const name = distinguishedName(cn);
  const pathLength = parent ? [integer(0)] : [];
  const der = certificate({
    subject: name,
    issuer: parent?.name ?? name,
    notBefore: at(-365),
    notAfter: at(parent ? 1825 : 3650),
    spki: keys.spki,
    signer: parent?.keys ?? keys,
    extensions: [
      extension("2.5.29.19", sequence(boolean(true), ...pathLength), true),
      extension("2.5.29.15", bitString(Uint8Array.of(0x06), 1), true), // keyCertSign, cRLSign
      extension("2.5.29.14", octetString(keyId(keys.spki))),
      ...(parent ? [extension("2.5.29.35", sequence(implicit(0, keyId(parent.keys.spki))))] : []),
    ],
  });
  return { name, keys, pem: toPem("CERTIFICATE", der) };
}

async function keyPair(kind: "ec" | "weak-rsa"): Promise<KeyPair> {
  const { privateKey, publicKey } =
    kind === "ec"
      ? await generate("ec", { namedCurve: "prime256v1" })
      : await generate("rsa", { modulusLength: 1024 });
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })) };
}

function certificate(c: {
  subject: Der;
  issuer: Der;
  notBefore: Date;
  notAfter: Date;
  spki: Der;
  signer: KeyPair;
  extensions: Der[];
}): Uint8Array {
  const ecdsa = c.signer.privateKey.asymmetricKeyType === "ec";
  const algorithm = ecdsa
    ? sequence(oid("1.2.840.10045.4.3.2")) // ecdsa-with-SHA256
    : sequence(oid("1.2.840.113549.1.1.11"), nullValue()); // sha256WithRSAEncryption
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    algorithm,
    c.issuer,
    sequence(time(c.notBefore), time(c.notAfter)),
    c.subject,
    c.spki,
    explicit(3, sequence(...c.extensions)),
  );
  const signature = sign("sha256", tbs, c.signer.privateKey); // DER-encoded for ECDSA
  const der = sequence(tbs, algorithm, bitString(signature));
  new X509Certificate(der); // fails loudly here if the encoding is wrong
  return der;
}

function absurdCn(): string {
  return `<script>alert(1)</script>\u0000\u001b[31m${"x".repeat(4000)}\r\nSubject: forged`;
}

function absurdNames(): string[] {
  const junk: string[] = [];
  for (let i = 0; i < 100; i++) {
    junk.push(`evil${i}\u0000.example.test`);
    junk.push(`${"a".repeat(300)}.example.test`);
    junk.push(`<b>${i}</b>.example.test`);
    junk.push(`*.*.${i}.example.test`);
  }
  return junk;
}

function distinguishedName(cn: string): Der {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(rdn("2.5.4.10", "mtasts lab"), rdn("2.5.4.3", cn));
}

function extension(id: string, value: Der, critical = false): Der {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** RFC 5280 §4.2.1.2 method 1 (SHA-1 of the key), taken over the whole SPKI for simplicity. */
function keyId(spki: Der): Der {
  return new Uint8Array(createHash("sha1").update(spki).digest());
}
