// The certificates held in memory, findable by any name they cover: an exact
// SAN entry, or a wildcard SAN (`*.example.com` covers `mta-sts.example.com`).

import { X509Certificate } from "node:crypto";
import { certificateNameMatches } from "../core/cert-name.ts";
import type { ResolvedAcmeOptions } from "./options.ts";
import type { StateDir } from "./state-dir.ts";
import type { KeyPair } from "./types.ts";

export interface HeldCertificate {
  /** The name it was ordered (and is stored) under. */
  name: string;
  /** Leaf PEM. */
  leaf: string;
  /** Issuers PEM. */
  chain: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
  /** SAN dNSName entries. */
  names: string[];
}

export interface CertificateIndex {
  put(cert: HeldCertificate): void;
  /** The certificate stored under `name` (what renewal looks at). */
  stored(name: string): HeldCertificate | undefined;
  /** The certificate covering `name`: one stored under it, else any whose SANs match it. */
  covering(name: string): HeldCertificate | undefined;
}

/** Reads dates and names from a PEM leaf; throws on a certificate that cannot be parsed. */
export function describe(
  name: string,
  pair: { leaf: string; chain: string; key: string },
): HeldCertificate {
  const x509 = new X509Certificate(pair.leaf);
  const names = (x509.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4).toLowerCase());
  return {
    name,
    ...pair,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    names,
  };
}

export function toKeyPair(held: HeldCertificate): KeyPair & { notAfter: Date } {
  return { cert: held.leaf + held.chain, key: held.key, notAfter: held.notAfter };
}

export function createCertificateIndex(): CertificateIndex {
  const byName = new Map<string, HeldCertificate>();
  const key = (name: string) => name.toLowerCase().replace(/\.$/, "");
  return {
    put: (cert) => {
      byName.set(key(cert.name), cert);
    },
    stored: (name) => byName.get(key(name)),
    covering(name) {
      const exact = byName.get(key(name));
      if (exact !== undefined && certificateNameMatches(name, exact.names) !== null) return exact;
      let best: HeldCertificate | undefined;
      for (const held of byName.values()) {
        if (certificateNameMatches(name, held.names) === null) continue;
        // Of several covering certificates, serve the one that lasts longest.
        if (best === undefined || held.notAfter > best.notAfter) best = held;
      }
      return best;
    },
  };
}

/** The certificates found in the state directory; damaged ones are logged and skipped (they get ordered again). */
export async function loadIndex(
  state: StateDir,
  options: ResolvedAcmeOptions,
): Promise<CertificateIndex> {
  const index = createCertificateIndex();
  const { found, problems } = await state.readCertificates();
  for (const problem of problems)
    options.log.warn("acme.state.skipped", { problem: `${problem} — it will be ordered again` });
  for (const stored of found) {
    try {
      index.put(describe(stored.name, { leaf: stored.cert, chain: stored.chain, key: stored.key }));
    } catch (error) {
      options.log.warn("acme.state.skipped", {
        problem: `${state.dir}/certs/${stored.name}: ${(error as Error).message}`,
      });
    }
  }
  return index;
}

/** Saves a certificate; a failure is logged, the certificate stays served from memory. */
export async function save(
  state: StateDir,
  held: HeldCertificate,
  log: ResolvedAcmeOptions["log"],
) {
  try {
    await state.writeCertificate({
      name: held.name,
      cert: held.leaf,
      chain: held.chain,
      key: held.key,
    });
  } catch (error) {
    // The certificate is served from memory; only a restart before the next renewal would reorder it.
    log.error("acme.state.write-failed", {
      name: held.name,
      error: `could not save the certificate in ${state.dir}: ${(error as Error).message} — fix the directory's permissions or free space`,
    });
  }
}
