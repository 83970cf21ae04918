// Stand-ins for the policy host's two challenge ports, so the ACME tests run
// without the host: a real node:http server answering HTTP-01 from the
// responders it is given, and a real node:tls server presenting TLS-ALPN-01
// certificates (ALPN acme-tls/1, picked by SNI). Both listen on 127.0.0.1 at
// the ports pebble validates on; a host name can be made to answer wrongly.

import { createServer as createHttpServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { ChallengeResponder } from "../../src/acme/index.ts";

const PREFIX = "/.well-known/acme-challenge/";

export interface ChallengeServers {
  httpPort: number;
  tlsPort: number;
  /** Who answers: every responder is asked in turn. */
  responders: Set<ChallengeResponder>;
  /** Host names whose HTTP-01 requests get a wrong key authorization. */
  wrongAnswer: Set<string>;
  /** Requests seen, as `host path`. */
  httpLog: string[];
  close(): Promise<void>;
}

export async function startChallengeServers(ports: {
  httpPort: number;
  tlsPort: number;
}): Promise<ChallengeServers> {
  const responders = new Set<ChallengeResponder>();
  const wrongAnswer = new Set<string>();
  const httpLog: string[] = [];
  const sockets = new Set<Socket>();

  const http = createHttpServer((req, res) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const path = req.url ?? "";
    httpLog.push(`${host} ${path}`);
    const token = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : "";
    let answer: string | undefined;
    for (const r of responders) answer ??= r.http01(token);
    if (answer === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(wrongAnswer.has(host) ? `${token}.not-the-right-thumbprint` : answer);
  });

  const tls = createTlsServer({
    ALPNProtocols: ["acme-tls/1"],
    SNICallback: (servername, done) => {
      for (const r of responders) {
        const pair = r.tlsAlpn01(servername);
        if (pair !== undefined) {
          done(null, createSecureContext({ cert: pair.cert, key: pair.key }));
          return;
        }
      }
      done(new Error(`no TLS-ALPN-01 challenge pending for ${servername}`));
    },
  });
  // The validation only needs the handshake; end anything that follows.
  tls.on("secureConnection", (socket: TLSSocket) => socket.end());
  tls.on("tlsClientError", () => {});

  for (const server of [http, tls]) {
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
  }
  await listen(http, ports.httpPort);
  await listen(tls, ports.tlsPort);

  return {
    httpPort: ports.httpPort,
    tlsPort: ports.tlsPort,
    responders,
    wrongAnswer,
    httpLog,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => http.close(() => resolve())),
        new Promise<void>((resolve) => tls.close(() => resolve())),
      ]);
    },
  };
}

function listen(server: Server | ReturnType<typeof createTlsServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}
