// Which certificate a TLS handshake gets, by SNI name: a domain's own files,
// else a certificate from the CertificateSource (ACME), else the default pair
// when it covers the name. A name nothing covers gets no certificate and the
// handshake fails: presenting the default certificate there would show every
// name it lists to anyone who asks, and no sender could accept it anyway
// (STS-FETCH-02). SecureContexts are built once and cached; files are
// re-read when their size or mtime changes, keeping the last good pair when
// the new one does not load.

import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createSecureContext, type SecureContext } from "node:tls";
import type { CertificateSource, KeyPair } from "../acme/types.ts";
import type { Logger } from "../adapters/log.ts";
import type { CertFiles } from "./types.ts";

interface Loaded {
  files: CertFiles;
  ctx: SecureContext;
  leaf: X509Certificate;
  seen: string;
}

export interface CertificateStore {
  /** The context for an SNI name, or undefined: fail the handshake. */
  contextFor(servername: string): SecureContext | undefined;
  /** Re-reads changed files; resolves with a message per pair that failed to load. */
  reload(): Promise<string[]>;
  close(): void;
}

export interface CertificateOptions {
  /** Used for every name it covers that no per-name pair overrides. */
  defaultPair: CertFiles | null;
  /** `mta-sts.<domain>` → that domain's own pair. */
  perName: ReadonlyMap<string, CertFiles>;
  source?: CertificateSource | undefined;
  log: Logger;
}

const MAX_CACHED_NAMES = 10_000;

export function tlsContext(pair: KeyPair): SecureContext {
  // STS-FETCH-03: TLS 1.2 and later only.
  return createSecureContext({ cert: pair.cert, key: pair.key, minVersion: "TLSv1.2" });
}

export function createCertificateStore(options: CertificateOptions): CertificateStore {
  const { log, source } = options;
  const loaded = new Map<string, Loaded>(); // by `cert\0key`
  /** SNI name → context chosen (default pair or ACME), cleared on any change. */
  const byName = new Map<string, SecureContext | null>();
  const fromSource = new Map<string, { cert: string; ctx: SecureContext }>();
  const key = (f: CertFiles) => `${f.cert}\0${f.key}`;
  const pairs = (): CertFiles[] => {
    const all = [...options.perName.values()];
    if (options.defaultPair) all.push(options.defaultPair);
    return all;
  };

  source?.onChange((name) => {
    fromSource.delete(name.toLowerCase());
    byName.clear();
  });

  function choose(name: string): SecureContext | null {
    const own = options.perName.get(name);
    if (own) return loaded.get(key(own))?.ctx ?? null;
    if (source) {
      const issued = source.get(name);
      if (issued) {
        let hit = fromSource.get(name);
        if (!hit || hit.cert !== issued.cert) {
          try {
            hit = { cert: issued.cert, ctx: tlsContext(issued) };
            fromSource.set(name, hit);
          } catch (err) {
            log.error("the certificate source gave an unusable pair", { name, error: String(err) });
            hit = undefined;
          }
        }
        if (hit) return hit.ctx;
      }
    }
    const def = options.defaultPair ? loaded.get(key(options.defaultPair)) : undefined;
    if (def && def.leaf.checkHost(name) !== undefined) return def.ctx;
    return null;
  }

  return {
    contextFor(servername) {
      let name = servername.toLowerCase();
      if (name.endsWith(".")) name = name.slice(0, -1);
      let ctx = byName.get(name);
      if (ctx === undefined) {
        ctx = choose(name);
        // Only names we can serve are remembered: junk SNI from scanners must not fill memory.
        if (ctx !== null && byName.size < MAX_CACHED_NAMES) byName.set(name, ctx);
      }
      return ctx ?? undefined;
    },
    async reload() {
      const problems: string[] = [];
      let changed = false;
      for (const files of pairs()) {
        const k = key(files);
        const before = loaded.get(k);
        try {
          const seen = `${await signature(files.cert)}|${await signature(files.key)}`;
          if (before?.seen === seen) continue;
          const [cert, keyPem] = await Promise.all([
            readFile(files.cert, "utf8"),
            readFile(files.key, "utf8"),
          ]);
          const leaf = new X509Certificate(cert);
          const ctx = tlsContext({ cert, key: keyPem });
          loaded.set(k, { files, ctx, leaf, seen });
          changed = true;
          log.info(before ? "certificate reloaded" : "certificate loaded", {
            cert: files.cert,
            subject: leaf.subjectAltName ?? leaf.subject,
            notAfter: new Date(leaf.validTo).toISOString(),
          });
        } catch (err) {
          const message = `certificate ${files.cert} with key ${files.key}: ${describe(err)}`;
          problems.push(message);
          log.error(before ? `${message}; still using the last good pair` : message);
        }
      }
      if (changed) byName.clear();
      return problems;
    },
    close() {
      byName.clear();
    },
  };
}

async function signature(file: string): Promise<string> {
  const st = await stat(file);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "file not found";
  if (e?.code === "EACCES") return "permission denied";
  const m = e?.message ?? String(err);
  if (/KEY_VALUES_MISMATCH|key values mismatch/i.test(m))
    return "the key does not belong to the certificate";
  if (/PEM|NO_START_LINE|asn1|DECODER/i.test(m)) return `not a PEM certificate/key (${m})`;
  return m;
}
