// Production wiring: the real resolver, fetcher and prober, injected as data
// so tests and the lab swap any of them.

import { createResolver, type DnsServerAddress, systemServers } from "../adapters/dns.ts";
import { fetchPolicy } from "../adapters/policy-fetch.ts";
import { probeSmtp } from "../adapters/smtp-probe.ts";
import type { CheckDeps } from "./types.ts";

export function defaultCheckDeps(
  options: { servers?: DnsServerAddress[]; dnsTimeoutMs?: number } = {},
): CheckDeps {
  return {
    resolver: createResolver({
      servers: options.servers ?? systemServers(),
      ...(options.dnsTimeoutMs !== undefined ? { timeoutMs: options.dnsTimeoutMs } : {}),
    }),
    fetchPolicy,
    probeSmtp,
    now: () => new Date(),
  };
}
