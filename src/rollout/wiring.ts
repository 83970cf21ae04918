// Production wiring for the two I/O edges only rollout has: the RFC 2136
// update server, and fetching the policy back from the policy host.

import {
  addressesOf,
  createResolver,
  type DnsServerAddress,
  type Resolver,
} from "../adapters/dns.ts";
import { sendUpdate, type TsigKey } from "../adapters/dns-update.ts";
import { fetchPolicy } from "../adapters/policy-fetch.ts";
import type { DnsPublisher, RolloutDeps } from "./types.ts";

/** Reads and updates `zone` on the primary server itself, never through a cache. */
export function dnsPublisher(zone: string, server: DnsServerAddress, key?: TsigKey): DnsPublisher {
  const direct = createResolver({ servers: [server], timeoutMs: 3000, attempts: 2 });
  return {
    zone,
    server: `${server.host}:${server.port}`,
    txt: async (name) => {
      const a = await direct.txt(name);
      if (a.kind === "answer") return a.records;
      if (a.kind === "nxdomain" || a.kind === "nodata") return [];
      return { error: a.kind === "error" ? a.message : a.kind };
    },
    send: (update) => sendUpdate(update, { server, ...(key ? { key } : {}) }),
  };
}

/** The policy as senders would fetch it now (RFC 8461 §3.3 rules), decoded. */
export function servedPolicy(options: {
  resolver: Resolver;
  ca?: string[];
  port?: number;
}): NonNullable<RolloutDeps["served"]> {
  return async (domain) => {
    const r = await fetchPolicy(domain, {
      timeoutMs: 10_000,
      lookup: (h) => addressesOf(options.resolver, h),
      describeChain: false,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
    return r.ok ? { body: new TextDecoder().decode(r.body) } : { error: r.detail };
  };
}
