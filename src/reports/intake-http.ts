// The HTTPS report receiver of RFC 8460 §5.4 (rua=https://…/tlsrpt), also
// served as plain HTTP for a TLS-terminating proxy in front: the request
// handler (http-handler.ts) bound to a port, with the deadlines that keep
// slow clients from holding connections, and a close() that drains.

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createReportHandler, type ReportHandlerOptions } from "./http-handler.ts";
import { emit } from "./intake-attempt.ts";

export { DEFAULT_RATE_LIMIT, DEFAULT_REPORT_PATH } from "./http-handler.ts";

export interface HttpIntakeTimeouts {
  /** Until the request headers are complete (slowloris); default 20 s. */
  headersMs?: number;
  /** Until the whole request, body included, is in; default 120 s. */
  requestMs?: number;
  /** An idle keep-alive connection is closed after this; default 5 s. */
  keepAliveMs?: number;
}

export interface HttpIntakeOptions extends ReportHandlerOptions {
  listen: { host: string; port: number };
  /** PEM certificate chain and key; without them the intake speaks plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  timeouts?: HttpIntakeTimeouts;
  /** Milliseconds close() waits for reports in flight before cutting connections; default 10 s. */
  closeGraceMs?: number;
}

export interface HttpIntake {
  address(): { host: string; port: number };
  /** Stops accepting, lets reports in flight finish, then closes every connection. */
  close(): Promise<void>;
}

export async function startReportHttpIntake(options: HttpIntakeOptions): Promise<HttpIntake> {
  const handler = createReportHandler(options);
  const onEvent = options.onEvent;
  const t = options.timeouts ?? {};
  const headersMs = t.headersMs ?? 20_000;
  const requestMs = Math.max(t.requestMs ?? 120_000, headersMs + 1);
  const serverOptions = {
    headersTimeout: headersMs,
    requestTimeout: requestMs,
    keepAliveTimeout: t.keepAliveMs ?? 5_000,
    // Node checks both deadlines on this period; a coarse one would let a
    // slow client stay far past them.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersMs / 4))),
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => handler.handle(req, res);
  const server = options.tls
    ? createHttpsServer(
        {
          ...serverOptions,
          cert: options.tls.cert,
          key: options.tls.key,
          handshakeTimeout: headersMs,
        },
        listener,
      )
    : createHttpServer(serverOptions, listener);
  // An idle socket (no bytes either way) is dropped after the request deadline.
  server.setTimeout(requestMs);
  // Expect: 100-continue lets a sender learn of 413/415 before it uploads.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!handler.refusesEarly(req)) res.writeContinue();
    handler.handle(req, res);
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    emit(onEvent, {
      type: "refused",
      channel: "https",
      origin: `http ${socket.remoteAddress ?? "unknown"}`,
      reason: timeout ? "timeout" : "bad-request",
      detail: err.code ?? err.message,
    });
    // Node's own rule: no error page once an answer has started on this socket.
    const current = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !socket.destroyed && !current?.headersSent) {
      const status = timeout ? "408 Request Timeout" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.listen.host, port: options.listen.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  let closed: Promise<void> | null = null;

  return {
    address: () => ({ host: bound.address, port: bound.port }),
    close() {
      closed ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          handler.drain(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, options.closeGraceMs ?? 10_000);
          }),
        ]);
        clearTimeout(timer);
        server.closeAllConnections();
        await done;
      })();
      return closed;
    },
  };
}
