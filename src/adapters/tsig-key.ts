// A TSIG key as people hand it over: "NAME:ALG:BASE64" on a command line, or
// the `key` statement that tsig-keygen / ddns-confgen print for named.conf.

import { encodeName } from "./dns-update-wire.ts";
import type { TsigKey } from "./tsig.ts";

const ALGORITHMS = ["hmac-sha256", "hmac-sha512"] as const;
const KNOWN_WEAK = /^hmac-(md5|sha1|sha224|sha384)(\.sig-alg\.reg\.int)?$/;
const FORMS =
  'expected "NAME:ALGORITHM:BASE64SECRET" or a key file with `key "NAME" { algorithm hmac-sha256; secret "BASE64"; };`';

export function parseTsigKey(text: string): TsigKey | { error: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { error: `the TSIG key is empty: ${FORMS}` };
  if (/^key\b/.test(stripComments(trimmed))) return fromKeyFile(stripComments(trimmed));
  const parts = trimmed.split(":");
  if (parts.length !== 3)
    return { error: `the TSIG key "${redact(trimmed)}" is not in a known form: ${FORMS}` };
  let [name = "", algorithm = "", secret = ""] = parts;
  // nsupdate -y puts the algorithm first; accept that order too.
  if (isAlgorithmName(name) && !isAlgorithmName(algorithm)) [name, algorithm] = [algorithm, name];
  return checked(name, algorithm, secret);
}

function fromKeyFile(text: string): TsigKey | { error: string } {
  const statements = [...text.matchAll(/\bkey\s+("([^"]*)"|([^\s{]+))\s*\{([^}]*)\}\s*;?/g)];
  if (statements.length === 0)
    return { error: `the key file has no complete key statement: ${FORMS}` };
  if (statements.length > 1) {
    const names = statements.map((m) => m[2] ?? m[3]).join(", ");
    return {
      error: `the key file holds ${statements.length} keys (${names}); give a file with just the one to use`,
    };
  }
  const [, , quoted, bare, body = ""] = statements[0] as RegExpMatchArray;
  const algorithm = /\balgorithm\s+"?([^";\s]+)"?\s*;/.exec(body)?.[1];
  const secret = /\bsecret\s+"([^"]*)"\s*;/.exec(body)?.[1];
  if (algorithm === undefined) return { error: "the key statement has no `algorithm ...;` line" };
  if (secret === undefined) return { error: 'the key statement has no `secret "...";` line' };
  return checked(quoted ?? bare ?? "", algorithm, secret);
}

function checked(
  name: string,
  algorithmText: string,
  secretText: string,
): TsigKey | { error: string } {
  const keyName = name.trim().replace(/\.$/, "");
  if (keyName === "") return { error: "the TSIG key has no name" };
  const wire = encodeName(keyName);
  if (typeof wire === "string") return { error: `the TSIG key name is not a DNS name: ${wire}` };
  const algorithm = algorithmText.trim().toLowerCase();
  if (!isAlgorithmName(algorithm)) {
    const why = KNOWN_WEAK.test(algorithm) ? "is not supported" : "is not a TSIG algorithm";
    return {
      error: `the TSIG algorithm "${algorithmText}" ${why}: use hmac-sha256 or hmac-sha512 (tsig-keygen -a hmac-sha256 NAME)`,
    };
  }
  const secret = secretText.replace(/\s+/g, "");
  if (secret === "" || secret.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    return { error: `the secret of TSIG key "${keyName}" is not base64` };
  }
  if (Buffer.from(secret, "base64").length < 16) {
    return {
      error: `the secret of TSIG key "${keyName}" is shorter than 16 bytes; make a new one with tsig-keygen`,
    };
  }
  return { name: keyName, algorithm, secret };
}

function isAlgorithmName(s: string): s is TsigKey["algorithm"] {
  return (ALGORITHMS as readonly string[]).includes(s.trim().toLowerCase());
}

/** named.conf allows #, // and C comments; quoted text (a secret may hold "//") is kept. */
function stripComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; ) {
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      const end = close < 0 ? text.length : close + 1;
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith("/*", i)) {
      const close = text.indexOf("*/", i + 2);
      i = close < 0 ? text.length : close + 2;
      out += " ";
    } else if (text[i] === "#" || text.startsWith("//", i)) {
      const close = text.indexOf("\n", i);
      i = close < 0 ? text.length : close;
    } else {
      out += text[i];
      i++;
    }
  }
  return out.trim();
}

/** Never echo a secret into an error message. */
function redact(text: string): string {
  const parts = text.split(":");
  return parts.length > 1 ? `${parts.slice(0, -1).join(":")}:…` : "…";
}
