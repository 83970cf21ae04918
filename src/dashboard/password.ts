// Password and API-token hashes as written in the serve config. Passwords:
// `scrypt$N$r$p$SALT$HASH` (salt and hash base64url, hash 32 bytes), slow on
// purpose. API tokens are 32 random bytes, so a plain SHA-256 of them
// (`sha256$HEX`) is enough: there is nothing to guess. Comparisons are
// constant-time.

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 bytes = 32 MiB and ~50 ms per attempt on a small server. */
export const DEFAULT_COST: ScryptCost = { N: 32_768, r: 8, p: 1 };
const KEY_BYTES = 32;
const SCRYPT_FORMAT =
  /^scrypt\$(\d{1,8})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,128})\$([A-Za-z0-9_-]{43})$/;
const TOKEN_FORMAT = /^sha256\$[0-9a-f]{64}$/;

export const PASSWORD_HASH_FORMAT =
  "scrypt$N$r$p$SALT$HASH as printed by `mtasts serve hash-password` (N a power of 2 from 1024 to 1048576, r 1-32, p 1-16)";
export const TOKEN_HASH_FORMAT = "sha256$HEX as printed by `mtasts serve new-token`";

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      KEY_BYTES,
      { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** Why `encoded` is not a usable password hash, or null when it is. */
export function passwordHashProblem(encoded: string): string | null {
  const m = SCRYPT_FORMAT.exec(encoded);
  if (m === null) return "not in the scrypt$N$r$p$SALT$HASH form";
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 1024 || N > 1_048_576 || (N & (N - 1)) !== 0)
    return `N=${N} is not a power of 2 from 1024 to 1048576`;
  if (r < 1 || r > 32) return `r=${r} is not from 1 to 32`;
  if (p < 1 || p > 16) return `p=${p} is not from 1 to 16`;
  return null;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = SCRYPT_FORMAT.exec(encoded);
  if (m === null || passwordHashProblem(encoded) !== null) return false;
  const cost = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5] as string, "base64url");
  const key = await derive(password, Buffer.from(m[4] as string, "base64url"), cost);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A fresh API token and the hash to put in the config. */
export function newApiToken(): { token: string; hash: string } {
  const token = `mtasts_${randomBytes(32).toString("base64url")}`;
  return { token, hash: tokenHash(token) };
}

export function tokenHash(token: string): string {
  return `sha256$${createHash("sha256").update(token).digest("hex")}`;
}

export function tokenHashProblem(encoded: string): string | null {
  return TOKEN_FORMAT.test(encoded) ? null : "not in the sha256$HEX form (64 lowercase hex digits)";
}

/** Constant-time equality of two strings of any length. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}
