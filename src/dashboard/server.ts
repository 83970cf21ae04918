// Binds the dashboard app to a port (HTTPS when the config has tls), with the
// deadlines that keep slow clients from holding connections, an optional
// metrics-only listener, and a close() that lets reports in flight finish and
// resolves when every socket is gone.

import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createDashboardApp, type DashboardApp, type DashboardOptions } from "./app.ts";
import type { HostPort } from "./config.ts";

export interface Dashboard {
  /** http(s)://host:port of the main listener. */
  url: string;
  address(): HostPort;
  /** The metrics listener's address, when `metrics.expose: listen`. */
  metricsAddress(): HostPort | null;
  app: DashboardApp;
  close(): Promise<void>;
}

const HEADERS_MS = 20_000;
const REQUEST_MS = 120_000;

export async function startDashboard(
  o: DashboardOptions & { closeGraceMs?: number },
): Promise<Dashboard> {
  const app = createDashboardApp(o);
  if (o.sessions !== undefined) {
    try {
      const kept = await app.restoreSessions();
      o.log?.({ event: "sessions-restored", ...kept });
    } catch (error) {
      // Not fatal: people log in again, as before sessions were kept.
      o.log?.({ event: "session-store-failed", error: (error as Error).message });
    }
  }
  const options = {
    headersTimeout: HEADERS_MS,
    requestTimeout: REQUEST_MS,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: 1_000,
  };
  const tls = o.config.tls;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    // Served over TLS ourselves: browsers should never come back over plain HTTP.
    if (tls) res.setHeader("strict-transport-security", "max-age=31536000");
    app.handle(req, res);
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          ...options,
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          handshakeTimeout: HEADERS_MS,
        },
        listener,
      )
    : createHttpServer(options, listener);
  server.setTimeout(REQUEST_MS);
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!app.refusesEarly(req)) res.writeContinue();
    app.handle(req, res);
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.destroyed) {
      const status =
        err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  const main = await listen(server, o.config.listen);

  let metricsServer: Server | null = null;
  let metricsBound: HostPort | null = null;
  if (o.config.metrics.expose === "listen" && o.config.metrics.listen !== null) {
    metricsServer = createHttpServer(options, (req, res) => {
      const path = new URL(req.url ?? "/", "http://metrics.invalid").pathname;
      const ok = path === "/metrics" && (req.method === "GET" || req.method === "HEAD");
      const body = ok ? app.metricsText() : "metrics are at /metrics\n";
      res.writeHead(ok ? 200 : 404, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    });
    try {
      metricsBound = await listen(metricsServer, o.config.metrics.listen);
    } catch (error) {
      await closeServer(server, app, 0);
      throw error;
    }
  }
  const host = main.host.includes(":") ? `[${main.host}]` : main.host;
  let closing: Promise<void> | null = null;
  return {
    url: `${tls ? "https" : "http"}://${host}:${main.port}`,
    address: () => main,
    metricsAddress: () => metricsBound,
    app,
    close() {
      closing ??= Promise.all([
        closeServer(server, app, o.closeGraceMs ?? 10_000),
        metricsServer === null ? Promise.resolve() : closeServer(metricsServer, null, 0),
      ]).then(() => {});
      return closing;
    },
  };
}

async function listen(server: Server, at: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return { host: a.address, port: a.port };
}

async function closeServer(
  server: Server,
  app: DashboardApp | null,
  graceMs: number,
): Promise<void> {
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (app !== null) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      app.drain(),
      new Promise<void>((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
  server.closeAllConnections();
  await done;
}
