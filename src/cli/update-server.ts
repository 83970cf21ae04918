// `--update-server`: where RFC 2136 updates go. An IP address, or the primary
// nameserver's name as admins know it (ns1.example.com), each with an
// optional port; a name is resolved with the same resolvers as the checks.

import { addressesOf, parseServerAddress, type Resolver } from "../adapters/dns.ts";
import { policyDomain } from "../core/names.ts";

export type UpdateServer = { host: string; port: number } | { name: string; port: number };

/** The server as given, or null when it is neither an address nor a host name (with :PORT). */
export function parseUpdateServer(text: string): UpdateServer | null {
  const address = parseServerAddress(text);
  if (address !== null) return address;
  const m = /^([^:[\]\s]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const name = m === null ? null : policyDomain(m[1] as string);
  if (m === null || name === null) return null;
  const port = m[2] === undefined ? 53 : Number(m[2]);
  if (port < 1 || port > 65_535) return null;
  return { name, port };
}

/** An address to send updates to; a name's first address (IPv4 first, as resolved). */
export async function updateServerAddress(
  server: UpdateServer,
  resolver: Resolver,
): Promise<{ host: string; port: number } | { error: string }> {
  if ("host" in server) return server;
  const found = await addressesOf(resolver, server.name);
  const host = found[0];
  if (host === undefined)
    return {
      error: `--update-server ${server.name}: the name has no A or AAAA record (give the primary nameserver's address instead)`,
    };
  return { host, port: server.port };
}
