// Port 80: ACME HTTP-01 answers (RFC 8555 §8.3) and nothing else. No
// redirect to HTTPS either: a sender never fetches a policy over HTTP
// (STS-FETCH-01), so port 80 has no other use here.

import { createServer, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { ChallengeResponder } from "../acme/types.ts";
import type { Logger } from "../adapters/log.ts";
import { CHALLENGE_PREFIX, challengeReply, type Reply, rawReply, replies } from "./replies.ts";
import type { HostLimits, HostMetrics } from "./types.ts";

// RFC 8555 §8.3: a token is base64url, at least 128 bits of entropy.
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

export function challengeFor(
  responder: ChallengeResponder | undefined,
  method: string | undefined,
  target: string | undefined,
): Reply {
  if (target === undefined || !target.startsWith(CHALLENGE_PREFIX)) return replies.notFound;
  const q = target.indexOf("?");
  const token = target.slice(CHALLENGE_PREFIX.length, q < 0 ? undefined : q);
  if (!TOKEN.test(token)) return replies.notFound;
  if (method !== "GET" && method !== "HEAD") return replies.methodNotAllowed;
  const answer = responder?.http01(token);
  return answer === undefined ? replies.notFound : challengeReply(answer);
}

export function createChallengeServer(o: {
  responder: ChallengeResponder | undefined;
  limits: HostLimits;
  metrics: HostMetrics;
  log: Logger;
}): Server {
  const server = createServer(
    {
      maxHeaderSize: o.limits.maxHeaderBytes,
      headersTimeout: o.limits.headersTimeoutMs,
      requestTimeout: o.limits.requestTimeoutMs,
      keepAliveTimeout: o.limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1000, Math.floor(o.limits.headersTimeoutMs / 4)),
      ),
    },
    (req, res) => {
      const reply = challengeFor(o.responder, req.method, req.url);
      if (reply.status === 200) {
        o.metrics.challenges++;
        o.log.info("answered an ACME HTTP-01 challenge", { remote: req.socket.remoteAddress });
      }
      if (reply.close) res.shouldKeepAlive = false;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    },
  );
  server.maxConnections = o.limits.maxConnections;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const reply =
      err.code === "HPE_HEADER_OVERFLOW"
        ? replies.headersTooLarge
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? replies.timeout
          : replies.badRequest;
    if (socket.writable && err.code !== "ECONNRESET") socket.end(rawReply(reply));
    else socket.destroy();
  });
  return server;
}
