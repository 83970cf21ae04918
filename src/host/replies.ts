// Every answer the host gives, encoded once: a request only picks a Reply and
// hands its header array and body bytes to node:http. Nothing on the request
// path formats a header or encodes a string.

/** A response ready to write: status, raw header pairs (flat), body bytes. */
export interface Reply {
  status: number;
  headers: string[];
  body: Buffer;
  /** Close the connection after this reply (a request we refuse to read further). */
  close?: boolean;
}

export const POLICY_PATH = "/.well-known/mta-sts.txt";
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** Default `Cache-Control` max-age in seconds: senders ignore it (STS-FETCH-05), proxies may not (STS-OPS-02). */
export const DEFAULT_CACHE_MAX_AGE = 60;

const TEXT = "text/plain; charset=utf-8";

/** STS-OPS-04: 200, `text/plain; charset=utf-8`, an exact Content-Length, never a redirect. */
export function policyReply(body: Uint8Array, cacheMaxAge: number): Reply {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return {
    status: 200,
    headers: [
      "Content-Type",
      TEXT,
      "Content-Length",
      String(bytes.byteLength),
      "Cache-Control",
      `max-age=${cacheMaxAge}`,
      "X-Content-Type-Options",
      "nosniff",
    ],
    body: bytes,
  };
}

function textReply(status: number, text: string, extra: string[] = [], close = false): Reply {
  const body = Buffer.from(`${text}\n`, "utf8");
  const reply: Reply = {
    status,
    headers: [
      "Content-Type",
      TEXT,
      "Content-Length",
      String(body.byteLength),
      "Cache-Control",
      "no-store",
      ...extra,
    ],
    body,
  };
  if (close) reply.close = true;
  return reply;
}

export const replies = {
  notFound: textReply(404, "Not Found"),
  unknownHost: textReply(404, "Not Found: no MTA-STS policy is served for this host name"),
  misdirected: textReply(
    421,
    "Misdirected Request: the Host header names another host than the TLS server name (SNI)",
  ),
  methodNotAllowed: textReply(405, "Method Not Allowed", ["Allow", "GET, HEAD"]),
  bodyNotAccepted: textReply(
    413,
    "Content Too Large: this server accepts no request body",
    [],
    true,
  ),
  badRequest: textReply(400, "Bad Request", ["Connection", "close"], true),
  headersTooLarge: textReply(431, "Request Header Fields Too Large", ["Connection", "close"], true),
  timeout: textReply(408, "Request Timeout", ["Connection", "close"], true),
} as const;

/** The key authorization for an HTTP-01 token (RFC 8555 §8.3): the body is that string alone. */
export function challengeReply(keyAuthorization: string): Reply {
  const body = Buffer.from(keyAuthorization, "utf8");
  return {
    status: 200,
    headers: [
      "Content-Type",
      "text/plain",
      "Content-Length",
      String(body.byteLength),
      "Cache-Control",
      "no-store",
    ],
    body,
  };
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
};

/** A whole HTTP/1.1 response as bytes, for a socket node:http has given up parsing. */
export function rawReply(reply: Reply): Buffer {
  let head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? "Error"}\r\n`;
  for (let i = 0; i < reply.headers.length; i += 2)
    head += `${reply.headers[i]}: ${reply.headers[i + 1]}\r\n`;
  if (!reply.headers.includes("Connection")) head += "Connection: close\r\n";
  return Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), reply.body]);
}
