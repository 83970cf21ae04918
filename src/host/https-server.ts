// The policy server proper: node:https with an SNICallback, limits against
// hostile clients, and a request handler that only picks a pre-encoded Reply
// (no framework, no per-request formatting).

import { constants } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../adapters/log.ts";
import type { CertificateStore } from "./certificates.ts";
import { type Reply, rawReply, replies } from "./replies.ts";
import { type PolicyTable, route } from "./route.ts";
import type { HostLimits, HostMetrics } from "./types.ts";

export interface HttpsServerOptions {
  limits: HostLimits;
  sessionResumption: boolean;
  ticketKeys?: Buffer | undefined;
  certificates: CertificateStore;
  table: () => PolicyTable;
  metrics: HostMetrics;
  log: Logger;
  access: boolean;
  /** True once shutdown began: answer, then close the connection. */
  closing: () => boolean;
}

const NO_CERTIFICATE = "no certificate for this server name";

export function createHttpsServer(o: HttpsServerOptions): Server {
  const { limits, metrics, log } = o;
  const server = createServer(
    {
      // No default certificate: a ClientHello without SNI, or with a name no
      // certificate covers, ends the handshake (STS-FETCH-03, STS-OPS-04).
      SNICallback: (servername, cb) => {
        const ctx = o.certificates.contextFor(servername);
        if (!ctx) log.debug(NO_CERTIFICATE, { servername: servername.slice(0, 255) });
        // Without a context the handshake goes on with the default one, which
        // holds no certificate: the client gets a handshake_failure alert
        // rather than a bare connection reset.
        cb(null, ctx);
      },
      minVersion: "TLSv1.2",
      ALPNProtocols: ["http/1.1"],
      // Nagle on the raw socket would hold the handshake's last flight (and
      // the session tickets) for the client's delayed ACK: ~40 ms per new
      // connection. node:http turns it off only after the handshake.
      noDelay: true,
      ...(o.ticketKeys ? { ticketKeys: o.ticketKeys } : {}),
      // Node keeps no server-side session cache, so without tickets nothing resumes.
      ...(o.sessionResumption ? {} : { secureOptions: constants.SSL_OP_NO_TICKET }),
      handshakeTimeout: limits.handshakeTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Timeouts are enforced by a sweep; sweep often enough that a short
      // configured timeout means what it says.
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
      ),
    },
    (req, res) => handle(req, res),
  );
  server.maxConnections = limits.maxConnections;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    metrics.requests++;
    // One pass over the raw header list: `req.headers` would build an object
    // per request just to read three fields.
    const raw = req.rawHeaders;
    let host: string | undefined;
    let body = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length === 4) {
        if (host === undefined && name.toLowerCase() === "host") host = raw[i + 1];
      } else if (name.length === 14) {
        if (name.toLowerCase() === "content-length" && raw[i + 1] !== "0") body = true;
      } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") body = true;
    }
    let reply: Reply;
    if (body) {
      // Nothing here takes a body; refusing it up front means never buffering one.
      reply = replies.bodyNotAccepted;
      metrics.rejected++;
    } else {
      reply = route(o.table(), req.method, req.url, host, (req.socket as TLSSocket).servername);
      if (reply.status === 200) metrics.policyReplies++;
      else if (reply.status === 421) metrics.misdirected++;
      else if (reply.status === 404) metrics.notFound++;
    }
    if (reply.close || o.closing()) res.shouldKeepAlive = false;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
    if (o.access)
      log.info("request", {
        remote: req.socket.remoteAddress,
        sni: (req.socket as TLSSocket).servername || undefined,
        host,
        method: req.method,
        path: req.url?.slice(0, 200),
        status: reply.status,
      });
  }

  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    metrics.rejected++;
    const reply =
      err.code === "HPE_HEADER_OVERFLOW"
        ? replies.headersTooLarge
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? replies.timeout
          : err.code === "ECONNRESET"
            ? null
            : replies.badRequest;
    log.debug("client error", { code: err.code ?? err.message, status: reply?.status });
    if (reply && socket.writable) socket.end(rawReply(reply));
    else socket.destroy();
  });
  server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    metrics.tlsErrors++;
    log.debug("TLS handshake failed", {
      remote: socket.remoteAddress,
      error: err.message.slice(0, 300),
    });
    // Node reports a failed or timed-out handshake but leaves the socket
    // open; a client stalling before or inside the handshake must not keep it.
    socket.destroy();
  });
  return server;
}
