// The ACME state on disk, as PEM files a person can inspect or reuse:
//
//   <dir>/account/key.pem            account key (0600)
//   <dir>/account/account.json       {directoryUrl, accountUrl}
//   <dir>/certs/<name>/cert.pem      the leaf
//   <dir>/certs/<name>/chain.pem     the issuers the server sends after it
//   <dir>/certs/<name>/key.pem       the leaf's key (0600)
//
// Every file is written to a temporary name and renamed, so a crash leaves
// the old file or the new one, never half of one. The three files of a
// certificate are renamed one after another (key first); a crash between
// them is caught on load, where a key that does not match its certificate
// makes that name count as missing and be ordered again.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { AcmeError } from "./errors.ts";

export interface StoredCertificate {
  name: string;
  /** The leaf, PEM. */
  cert: string;
  /** The issuers after it, PEM (may be empty). */
  chain: string;
  key: string;
}

export interface StateDir {
  readonly dir: string;
  /** The account key, and the account URL when it was registered at `directoryUrl`. */
  readAccount(directoryUrl: string): Promise<{ keyPem: string; url?: string } | undefined>;
  writeAccountKey(keyPem: string): Promise<void>;
  writeAccountUrl(directoryUrl: string, accountUrl: string): Promise<void>;
  /** Every certificate on disk; unreadable or inconsistent ones are reported, not returned. */
  readCertificates(): Promise<{ found: StoredCertificate[]; problems: string[] }>;
  writeCertificate(certificate: StoredCertificate): Promise<void>;
}

const MAX_FILE_BYTES = 1_000_000;

/** Creates the directory when missing and proves it writable, or throws an error saying how to fix it. */
export async function openStateDir(dir: string): Promise<StateDir> {
  try {
    await mkdir(join(dir, "account"), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, "certs"), { recursive: true, mode: 0o700 });
    const probe = join(dir, ".write-test");
    await writeAtomic(probe, "ok\n", 0o600);
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new AcmeError(
      `ACME state directory ${dir} is not usable (${code}: ${(error as Error).message}) — it must be a directory the mtasts user can create and write; fix its ownership or permissions, or choose another state directory`,
      { domain: "", kind: "permanent" },
    );
  }
  const account = join(dir, "account");
  const certs = join(dir, "certs");
  return {
    dir,
    async readAccount(directoryUrl) {
      const keyPem = await readOptional(join(account, "key.pem"));
      if (keyPem === undefined) return undefined;
      const meta = await readOptional(join(account, "account.json"));
      try {
        const parsed = meta === undefined ? {} : JSON.parse(meta);
        if (parsed?.directoryUrl === directoryUrl && typeof parsed.accountUrl === "string")
          return { keyPem, url: parsed.accountUrl };
      } catch {
        // A damaged account.json only costs a lookup: the CA finds the account by its key.
      }
      return { keyPem };
    },
    writeAccountKey: (keyPem) => writeAtomic(join(account, "key.pem"), keyPem, 0o600),
    writeAccountUrl: (directoryUrl, accountUrl) =>
      writeAtomic(
        join(account, "account.json"),
        `${JSON.stringify({ directoryUrl, accountUrl }, null, 2)}\n`,
        0o644,
      ),
    async readCertificates() {
      const found: StoredCertificate[] = [];
      const problems: string[] = [];
      for (const entry of await readdir(certs, { withFileTypes: true })) {
        if (!entry.isDirectory() || entry.name.includes(".tmp-")) continue;
        const at = join(certs, entry.name);
        try {
          const cert = await readFile(join(at, "cert.pem"), "utf8");
          const key = await readFile(join(at, "key.pem"), "utf8");
          const chain = (await readOptional(join(at, "chain.pem"))) ?? "";
          if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
            throw new Error("key.pem does not belong to cert.pem (interrupted write?)");
          found.push({ name: entry.name, cert, chain, key });
        } catch (error) {
          problems.push(`${at}: ${(error as Error).message}`);
        }
      }
      return { found, problems };
    },
    async writeCertificate(c) {
      const at = join(certs, c.name);
      await mkdir(at, { recursive: true, mode: 0o700 });
      await writeAtomic(join(at, "key.pem"), c.key, 0o600);
      await writeAtomic(join(at, "chain.pem"), c.chain, 0o644);
      await writeAtomic(join(at, "cert.pem"), c.cert, 0o644);
    },
  };
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    const text = await readFile(path, "utf8");
    if (text.length > MAX_FILE_BYTES) throw new Error(`${path} is over ${MAX_FILE_BYTES} bytes`);
    return text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
