// SM-WEAK-02: whether the local Postfix understands the TLSRPT attributes
// (3.10+). Older ones reject them and defer every MTA-STS destination; newer
// ones only enforce the policy's MX list (3.10.5+) when they get them.

import { execFile } from "node:child_process";
import type { ZoneConfig } from "./types.ts";

/** `postconf -h mail_version`, or null when Postfix is not installed here. */
export function localPostfixVersion(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      "postconf",
      ["-h", "mail_version"],
      { encoding: "utf8", timeout: 10_000 },
      (err, stdout) => resolve(err ? null : stdout.trim() || null),
    );
  });
}

function atLeast(version: string, major: number, minor: number, patch = 0): boolean {
  const [a = 0, b = 0, c = 0] = version.split(".").map((n) => Number.parseInt(n, 10) || 0);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/** A warning for the zones' `tlsrpt` settings given the Postfix version, or null. */
export function tlsrptAdvice(
  version: string,
  defaultZone: ZoneConfig,
  zones: ReadonlyMap<string, ZoneConfig>,
): string | null {
  const all = [
    ["default_zone", defaultZone] as const,
    ...[...zones].map(([n, z]) => [`zones.${n}`, z] as const),
  ];
  const on = all.filter(([, z]) => z.tlsrpt).map(([n]) => n);
  if (!atLeast(version, 3, 10) && on.length > 0) {
    return `Postfix ${version} rejects the TLSRPT attributes that ${on.join(", ")} enable (tlsrpt: true): it would defer mail to every MTA-STS domain. Set tlsrpt: false, or upgrade Postfix to 3.10.5 or later.`;
  }
  if (atLeast(version, 3, 10, 5) && on.length === 0) {
    return `Postfix ${version} understands TLSRPT attributes; with tlsrpt: true in the zone Postfix uses, it connects only to MX hosts the policy names (smtp_tls_enforce_sts_mx_patterns) and can report TLS results. See docs/resolver.md.`;
  }
  return null;
}
