// Which reply a request gets: a pure function of method, request target, Host
// header and TLS server name, so every rule below is tested without a socket.
//
// Order: the host first (421 when Host and SNI disagree, 404 when we serve no
// policy for it), then the path (exactly /.well-known/mta-sts.txt, STS-FETCH-01),
// then the method (GET and HEAD, else 405). The path is compared as sent,
// never decoded or normalised, and nothing is read from disk per request, so
// `..`, `%2e%2e` or `//` can only ever be a 404.

import { POLICY_PATH, type Reply, replies } from "./replies.ts";

/** Served policy replies by Policy Host name (`mta-sts.<domain>`, lowercase, no trailing dot). */
export type PolicyTable = ReadonlyMap<string, Reply>;

export function route(
  table: PolicyTable,
  method: string | undefined,
  target: string | undefined,
  hostHeader: string | undefined,
  servername: string | false | null | undefined,
): Reply {
  if (hostHeader === undefined) return replies.badRequest;
  // Fast path: a sender's Host is exactly the policy host it resolved.
  let host = hostHeader;
  let reply = table.get(host);
  if (reply === undefined) {
    const normal = hostName(hostHeader);
    if (normal === null) return replies.unknownHost;
    host = normal;
    reply = table.get(host);
  }
  // RFC 9110 §7.4: a request for another authority than the connection was
  // set up for (SNI) is answered 421, so a client cannot reach one domain's
  // policy through a certificate negotiated for another.
  if (servername && servername !== host && servername.toLowerCase() !== host) {
    return replies.misdirected;
  }
  if (reply === undefined) return replies.unknownHost;
  if (target !== POLICY_PATH && !isPolicyPathWithQuery(target)) return replies.notFound;
  if (method !== "GET" && method !== "HEAD") return replies.methodNotAllowed;
  return reply;
}

/** A query string is ignored: it names the same resource, and monitors add cache-busters. */
function isPolicyPathWithQuery(target: string | undefined): boolean {
  return (
    target !== undefined &&
    target.length > POLICY_PATH.length &&
    target.charCodeAt(POLICY_PATH.length) === 63 /* ? */ &&
    target.startsWith(POLICY_PATH)
  );
}

/** Lowercase, without `:port` and a trailing dot; null for an address literal or junk. */
export function hostName(header: string): string | null {
  let h = header.trim().toLowerCase();
  if (h.startsWith("[")) return null;
  const colon = h.lastIndexOf(":");
  if (colon >= 0) {
    const port = h.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
    h = h.slice(0, colon);
  }
  if (h.endsWith(".")) h = h.slice(0, -1);
  return /^[a-z0-9_.-]{1,253}$/.test(h) ? h : null;
}
