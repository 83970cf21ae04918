// `mtasts serve` as a function of a request: health, the TLS-RPT intake
// (no login: senders cannot log in, RFC 8460 §5.4; its own rate limit), static
// assets, metrics, login, then — behind authentication — the pages and the
// JSON API. Every POST behind the login needs the CSRF token and, except
// logout, the admin role. server.ts binds this to a port.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { MonitorView } from "../monitor/types.ts";
import { clientAddress, createReportHandler, type ReportHandler } from "../reports/http-handler.ts";
import type { SqlRunner } from "../reports/sql.ts";
import type { ReportStore } from "../reports/store.ts";
import type { IngestOptions } from "../reports/types.ts";
import type { Sources } from "./answers.ts";
import { type Auth, createAuth, csrfValid, type Principal } from "./auth.ts";
import type { ServeConfig } from "./config.ts";
import { HttpError, readForm, redirect, send, sendHtml, sendJson } from "./http.ts";
import { type CookiePolicy, handleLogin, handleLogout, sessionCookie } from "./login.ts";
import { createDashboardMetrics, type DashboardMetrics, type RequestKind } from "./metrics.ts";
import { errorPage } from "./pages/login.ts";
import { handleApi } from "./routes-api.ts";
import { handlePage } from "./routes-pages.ts";
import type { SessionPersistence } from "./session-db.ts";
import { loadAssets } from "./static.ts";

export type LogSink = (event: Record<string, unknown>) => void;

export interface DashboardOptions {
  config: ServeConfig;
  store: ReportStore;
  /** The dashboard's own read connection (openReportReader). */
  reader: SqlRunner;
  monitor?: MonitorView;
  /** `--insecure-no-auth`: every visitor is an admin (loopback only; serve.ts checks). */
  open?: boolean;
  /** Sessions written through to the database (openSessionDb); without it, a restart logs everyone out. */
  sessions?: SessionPersistence;
  ingest?: IngestOptions;
  /** Called after each report the intake stores (monitoring re-evaluates its rules). */
  onReportStored?: () => void;
  now?: () => Date;
  log?: LogSink;
}

export interface DashboardApp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  refusesEarly(req: IncomingMessage): boolean;
  /** The metrics exposition text. */
  metricsText(): string;
  /** Waits for in-flight intake posts and session writes. */
  drain(): Promise<void>;
  /** Reads back the sessions kept in the database (startDashboard, before listening). */
  restoreSessions(): Promise<{ restored: number; dropped: number }>;
  readonly metrics: DashboardMetrics;
}

export function createDashboardApp(o: DashboardOptions): DashboardApp {
  const now = o.now ?? (() => new Date());
  const log: LogSink = o.log ?? (() => {});
  const metrics = createDashboardMetrics();
  const auth = createAuth(o.config, {
    open: o.open === true,
    now: () => now().getTime(),
    ...(o.sessions === undefined ? {} : { sessions: o.sessions }),
    onSessionStoreError: (error) =>
      log({ event: "session-store-failed", error: (error as Error).message }),
  });
  const assets = loadAssets();
  const intakePath = o.config.intake.path;
  const perMinute = o.config.intake.perMinute;
  const managed = o.config.intake.managedDomains;
  const ingest = managed === null ? o.ingest : { ...o.ingest, domains: new Set(managed) };
  const intake: ReportHandler = createReportHandler({
    store: o.store,
    path: intakePath,
    rateLimit: perMinute === 0 ? false : { burst: perMinute, perSecond: perMinute / 60 },
    trustProxy: o.config.intake.trustProxy,
    ...(ingest === undefined ? {} : { ingest }),
    onEvent: (e) => {
      metrics.intake(e);
      if (e.type === "report" && e.outcome.status === "stored") o.onReportStored?.();
      log({ event: "intake", ...summarizeIntake(e) });
    },
    now: () => now().getTime(),
  });
  const policy: CookiePolicy = {
    secure:
      o.config.session.secureCookie === true ||
      (o.config.session.secureCookie === "auto" && o.config.tls !== null),
    lifetimeSeconds: Math.floor(o.config.session.lifetimeMs / 1000),
  };
  const src: Sources = { store: o.store, reader: o.reader, monitor: o.monitor ?? null, now };
  const isIntake = (path: string) => path === intakePath || path === `${intakePath}/`;

  const metricsText = () =>
    metrics.render({
      mtasts_serve_sessions: auth.sessions(),
      mtasts_serve_monitoring: o.monitor === undefined ? 0 : 1,
    });

  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<RequestKind> => {
    const path = url.pathname;
    const get = req.method === "GET" || req.method === "HEAD";
    if (path === "/healthz" && get) {
      sendJson(req, res, 200, { status: "ok" });
      return "health";
    }
    if (isIntake(path)) {
      intake.handle(req, res);
      return "intake";
    }
    if (path === "/favicon.ico" || path === "/robots.txt") {
      // Asked for by browsers and crawlers on their own; not worth a login redirect.
      send(req, res, 404, "text/plain; charset=utf-8", "");
      return "static";
    }
    if (path.startsWith("/static/")) {
      const asset = get ? assets.get(path) : undefined;
      if (asset === undefined) throw new HttpError(404, "not-found", "no such file");
      send(req, res, 200, asset.type, asset.body, { "cache-control": "public, max-age=3600" });
      return "static";
    }
    if (path === "/login") {
      const client = clientAddress(req, o.config.session.trustProxy);
      await handleLogin(req, res, url, { auth, policy, metrics, client, log });
      return "login";
    }
    let principal = auth.principal(req);
    const api = path === "/api" || path.startsWith("/api/");
    if (principal === null && auth.open && req.headers.authorization === undefined) {
      // Open mode: a session for the visitor, so forms still carry a CSRF token.
      const { cookie, session } = auth.openSession();
      res.setHeader("set-cookie", sessionCookie(cookie, policy));
      principal = { user: session.user, role: session.role, via: "open", csrf: session.csrf };
    }
    if (path === "/metrics") {
      if (o.config.metrics.expose !== "token")
        throw new HttpError(404, "not-found", "metrics are not served on this address");
      if (principal === null) return unauthorized(req, res, true);
      send(req, res, 200, "text/plain; version=0.0.4; charset=utf-8", metricsText());
      return "metrics";
    }
    if (principal === null) return unauthorized(req, res, api, url);
    let form: Map<string, string> | null = null;
    if (!get) {
      if (req.method !== "POST")
        throw new HttpError(405, "method-not-allowed", "use GET or POST", { allow: "GET, POST" });
      form = await readForm(req);
      const header = req.headers["x-csrf-token"];
      const given = typeof header === "string" ? header : (form.get("csrf") ?? null);
      if (!csrfValid(principal, given)) {
        const client = clientAddress(req, o.config.session.trustProxy);
        log({ event: "csrf-refused", path: path.slice(0, 200), client });
        throw new HttpError(
          403,
          "csrf",
          "the CSRF token is missing or wrong: reload the page and try again (API: send the X-CSRF-Token header from /api/me)",
        );
      }
      if (path === "/logout") {
        handleLogout(req, res, auth, policy);
        return "login";
      }
      if (principal.role !== "admin") {
        throw new HttpError(
          403,
          "read-only",
          `${principal.user} has the read-only role and cannot change anything`,
        );
      }
    }
    const request = { req, res, url, principal, src, form };
    if (api) await handleApi(request);
    else await handlePage(request);
    return api ? "api" : "page";
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://dashboard.invalid");
    } catch {
      send(req, res, 400, "text/plain; charset=utf-8", "bad request target\n");
      return;
    }
    const api = url.pathname.startsWith("/api/") || url.pathname === "/api";
    let kind: RequestKind = api ? "api" : "page";
    route(req, res, url)
      .then((k) => {
        kind = k;
      })
      .catch((error: unknown) => {
        const known = error instanceof HttpError ? error : null;
        if (known === null)
          log({
            event: "error",
            path: url.pathname.slice(0, 200),
            error: error instanceof Error ? error.message : String(error),
          });
        const status = known?.status ?? 500;
        const code = known?.code ?? "internal";
        const message =
          known?.message ?? "something went wrong inside mtasts; the log has the details";
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const headers = known?.headers ?? {};
        if (api || url.pathname === "/metrics")
          sendJson(req, res, status, { error: code, message }, headers);
        else sendHtml(req, res, status, errorPage(status, message, auth.principal(req)), headers);
      })
      .finally(() => {
        res.once("finish", () => metrics.request(kind, res.statusCode));
        if (res.writableFinished) metrics.request(kind, res.statusCode);
      });
  };

  return {
    handle,
    refusesEarly: (req) => {
      const path = new URL(req.url ?? "/", "http://dashboard.invalid").pathname;
      return isIntake(path) ? intake.refusesEarly(req) : false;
    },
    metricsText,
    drain: async () => {
      await intake.drain();
      await auth.flushSessions();
    },
    restoreSessions: () => auth.restoreSessions(),
    metrics,
  };
}

function unauthorized(
  req: IncomingMessage,
  res: ServerResponse,
  api: boolean,
  url?: URL,
): RequestKind {
  if (api) {
    sendJson(
      req,
      res,
      401,
      { error: "unauthorized", message: "log in, or send Authorization: Bearer <API token>" },
      { "www-authenticate": 'Bearer realm="mtasts"' },
    );
    return "api";
  }
  const next = url === undefined ? "/" : `${url.pathname}${url.search}`;
  redirect(res, `/login?next=${encodeURIComponent(next)}`);
  return "page";
}

function summarizeIntake(
  e: Parameters<NonNullable<Parameters<typeof createReportHandler>[0]["onEvent"]>>[0],
): Record<string, unknown> {
  if (e.type === "report") return { outcome: e.outcome.status, origin: e.origin, bytes: e.bytes };
  if (e.type === "refused") return { outcome: "refused", reason: e.reason, origin: e.origin };
  return { outcome: e.type, origin: e.origin, error: e.error };
}

export type { Auth, Principal };
