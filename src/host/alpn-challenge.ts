// TLS-ALPN-01 (RFC 8737): when a ClientHello offers ALPN `acme-tls/1`, the
// connection gets the responder's acmeIdentifier certificate, negotiates
// acme-tls/1 and is closed after the handshake; every other connection goes
// on to the HTTPS server untouched. Used only when a ChallengeResponder is
// given, so a host without ACME pays nothing for the peek.

import type { Server as HttpsServer } from "node:https";
import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { ChallengeResponder } from "../acme/types.ts";
import type { Logger } from "../adapters/log.ts";
import { tlsContext } from "./certificates.ts";
import { peekClientHello } from "./client-hello.ts";
import type { HostLimits } from "./types.ts";

const ACME_TLS = "acme-tls/1";
/** A ClientHello fits one record (16 KiB); more without one is not TLS we serve. */
const MAX_PEEK = 16_384 + 5;

export function withAlpnChallenges(
  https: HttpsServer,
  responder: ChallengeResponder,
  limits: HostLimits,
  log: Logger,
): Server {
  const front = createServer({ noDelay: true }, (socket) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), limits.handshakeTimeoutMs);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const peek = peekClientHello(buf);
      if (peek.kind === "need-more" && buf.length < MAX_PEEK) return;
      socket.off("data", onData);
      socket.pause();
      clearTimeout(timer);
      socket.unshift(buf);
      if (peek.kind === "hello" && peek.alpn.includes(ACME_TLS)) {
        const pair = peek.servername
          ? responder.tlsAlpn01(peek.servername.toLowerCase())
          : undefined;
        if (!pair) {
          log.debug("acme-tls/1 offered with no pending challenge", {
            name: peek.servername ?? "",
          });
          socket.destroy();
          return;
        }
        answer(socket, pair, log, peek.servername ?? "");
        return;
      }
      https.emit("connection", socket);
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => clearTimeout(timer));
  });
  front.maxConnections = limits.maxConnections;
  return front;
}

function answer(
  socket: Socket,
  pair: { cert: string; key: string },
  log: Logger,
  name: string,
): void {
  const tls = new TLSSocket(socket, {
    isServer: true,
    secureContext: tlsContext(pair),
    ALPNProtocols: [ACME_TLS],
  });
  // RFC 8737 §3: the validation is the handshake itself; nothing is exchanged after it.
  tls.on("secure", () => {
    log.info("answered an ACME TLS-ALPN-01 challenge", { name });
    tls.end();
  });
  tls.on("error", () => tls.destroy());
}
