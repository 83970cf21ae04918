// GET/POST /login and POST /logout. The login form's CSRF token is a
// double-submit cookie scoped to /login; a session cookie is HttpOnly,
// SameSite=Strict (no cross-site request carries it, not even a top-level
// link: a link from a mail lands on the login page, which sends the user
// on), Secure when served over TLS or configured so.

import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Auth, cookies, LOGIN_COOKIE, SESSION_COOKIE } from "./auth.ts";
import { readForm, redirect, sendHtml } from "./http.ts";
import type { DashboardMetrics } from "./metrics.ts";
import { loginPage } from "./pages/login.ts";
import { sameSecret } from "./password.ts";

export interface CookiePolicy {
  secure: boolean;
  lifetimeSeconds: number;
}

export function sessionCookie(id: string, p: CookiePolicy): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${p.lifetimeSeconds}${p.secure ? "; Secure" : ""}`;
}

const clearSession = (p: CookiePolicy) =>
  `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${p.secure ? "; Secure" : ""}`;

function loginCookie(token: string, p: CookiePolicy, maxAge = 3600): string {
  return `${LOGIN_COOKIE}=${token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${p.secure ? "; Secure" : ""}`;
}

/** Only a path on this site: no scheme, no `//host`, no backslash tricks. */
export function safeNext(next: string | null | undefined): string {
  if (
    typeof next !== "string" ||
    !/^\/(?![/\\])[\x21-\x7e]{0,500}$/.test(next) ||
    next.startsWith("/login")
  )
    return "/";
  return next;
}

function showForm(
  req: IncomingMessage,
  res: ServerResponse,
  p: CookiePolicy,
  next: string,
  status: number,
  error: string | null,
  headers: Record<string, string> = {},
): void {
  // One token per browser, reused while its cookie lives: a second tab or a
  // background request that lands on the login page must not invalidate the first form.
  const existing = cookies(req.headers.cookie).get(LOGIN_COOKIE);
  const token =
    existing !== undefined && /^[A-Za-z0-9_-]{32}$/.test(existing)
      ? existing
      : randomBytes(24).toString("base64url");
  sendHtml(req, res, status, loginPage(token, next, error), {
    ...headers,
    "set-cookie": loginCookie(token, p),
  });
}

export async function handleLogin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: {
    auth: Auth;
    policy: CookiePolicy;
    metrics: DashboardMetrics;
    client: string;
    log: (e: Record<string, unknown>) => void;
  },
): Promise<void> {
  const { auth, policy } = deps;
  if (req.method === "GET" || req.method === "HEAD") {
    if (auth.principal(req) !== null) return redirect(res, safeNext(url.searchParams.get("next")));
    return showForm(req, res, policy, safeNext(url.searchParams.get("next")), 200, null);
  }
  const form = await readForm(req);
  const next = safeNext(form.get("next"));
  const expected = cookies(req.headers.cookie).get(LOGIN_COOKIE);
  const given = form.get("csrf");
  if (expected === undefined || given === undefined || !sameSecret(expected, given)) {
    deps.log({ event: "login-refused", reason: "csrf", client: deps.client });
    return showForm(
      req,
      res,
      policy,
      next,
      403,
      "The login form expired or was not sent from this site; please try again.",
    );
  }
  const result = await auth.login(form.get("user") ?? "", form.get("password") ?? "", deps.client);
  if (!result.ok) {
    deps.metrics.login(result.reason);
    // The user name is not logged: people type passwords into it.
    deps.log({ event: "login-failed", reason: result.reason, client: deps.client });
    if (result.reason === "rate-limited") {
      return showForm(
        req,
        res,
        policy,
        next,
        429,
        `Too many login attempts; wait ${result.retryAfterSeconds ?? 60} seconds and try again.`,
        { "retry-after": String(result.retryAfterSeconds ?? 60) },
      );
    }
    return showForm(req, res, policy, next, 401, "Wrong user name or password.");
  }
  deps.metrics.login("ok");
  deps.log({ event: "login", user: result.session.user, client: deps.client });
  redirect(res, next, {
    "set-cookie": [sessionCookie(result.cookie, policy), loginCookie("", policy, 0)],
  });
}

export function handleLogout(
  req: IncomingMessage,
  res: ServerResponse,
  auth: Auth,
  policy: CookiePolicy,
): void {
  auth.logout(req);
  redirect(res, "/login", { "set-cookie": clearSession(policy) });
}
