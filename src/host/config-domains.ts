// The per-domain part of host.yml (policy file, own certificate, mirror
// source) and certificate file pairs.

import { policyDomain } from "../core/names.ts";
import type { ConfigReader, Obj, Path } from "./config-reader.ts";
import type { CertFiles, DomainConfig } from "./types.ts";

export function domains(
  r: ConfigReader,
  value: unknown,
  abs: (p: string) => string,
): Map<string, DomainConfig> {
  const out = new Map<string, DomainConfig>();
  const o = r.section(value, ["domains"], null);
  if (!o) return out;
  for (const [name, spec] of Object.entries(o)) {
    const at: Path = ["domains", name];
    const domain = policyDomain(name);
    if (domain === null) {
      r.problem(at, name, "a domain name (the Policy Domain, without mta-sts.)");
      continue;
    }
    if (domain.startsWith("mta-sts."))
      r.problem(
        at,
        name,
        "the Policy Domain itself",
        "name the domain, not its policy host (drop mta-sts.)",
      );
    const s = r.section(spec, at, ["policy", "cert", "key", "mirror"]);
    if (!s) continue;
    const d: DomainConfig = {};
    const policy = r.string(s, "policy", at, "a policy file path");
    if (policy !== null) d.policy = abs(policy);
    const mirror = r.string(s, "mirror", at, "the domain whose policy to serve (mirror mode)");
    if (mirror !== null) {
      const source = policyDomain(mirror);
      if (source === null || source === domain)
        r.problem(
          [...at, "mirror"],
          mirror,
          "another domain's name (its policy is fetched from mta-sts.<that domain>)",
        );
      else if (policy !== null)
        r.problem(
          [...at, "mirror"],
          mirror,
          "either policy or mirror",
          "a domain is served from a file or mirrored, not both",
        );
      else d.mirror = source;
    }
    const cert = certFiles(r, s, at, abs, false);
    if (cert) d.certificate = cert;
    out.set(domain, d);
  }
  return out;
}

export function certFiles(
  r: ConfigReader,
  value: unknown,
  at: Path,
  abs: (p: string) => string,
  section: boolean,
): CertFiles | null {
  const o = section ? r.section(value, at, ["cert", "key"]) : (value as Obj);
  if (!o) return null;
  const cert = r.string(o, "cert", at, "a PEM certificate chain file (leaf first)");
  const key = r.string(o, "key", at, "a PEM private key file");
  if ((cert === null) !== (key === null)) {
    const missing = cert === null ? "cert" : "key";
    r.problem([...at, missing], undefined, "a PEM file path", "cert and key go together");
    return null;
  }
  return cert !== null && key !== null ? { cert: abs(cert), key: abs(key) } : null;
}
