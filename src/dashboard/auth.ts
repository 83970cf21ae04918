// Who is asking: a session cookie (browser) or an API token (scripts), and
// the login that makes a session. Login attempts are rate limited per client;
// an unknown user costs the same scrypt work as a wrong password, so timing
// does not tell which names exist. Nothing here logs a secret.

import type { IncomingMessage } from "node:http";
import { clientKey, createRateLimiter } from "../reports/token-bucket.ts";
import type { Role, ServeConfig } from "./config.ts";
import { hashPassword, sameSecret, tokenHash, verifyPassword } from "./password.ts";
import { createSessionTable, type Session } from "./sessions.ts";

export const SESSION_COOKIE = "mtasts_session";
/** Double-submit token for the login form, which has no session yet. */
export const LOGIN_COOKIE = "mtasts_login";

export interface Principal {
  user: string;
  role: Role;
  via: "session" | "token" | "open";
  /** Present for sessions: forms and state-changing API calls must echo it. */
  csrf: string | null;
}

export type LoginResult =
  | { ok: true; cookie: string; session: Session }
  | { ok: false; reason: "invalid" | "rate-limited"; retryAfterSeconds?: number };

export interface Auth {
  /** True when `--insecure-no-auth` made every visitor an admin. */
  readonly open: boolean;
  principal(req: IncomingMessage): Principal | null;
  login(user: string, password: string, client: string): Promise<LoginResult>;
  logout(req: IncomingMessage): void;
  /** The open mode's session for a visitor without one. */
  openSession(): { cookie: string; session: Session };
  sessions(): number;
}

export function createAuth(
  config: ServeConfig,
  options: { open: boolean; now: () => number },
): Auth {
  const table = createSessionTable(config.session.lifetimeMs, options.now);
  const limiter = createRateLimiter(
    { burst: config.session.loginsPerMinute, perSecond: config.session.loginsPerMinute / 60 },
    options.now,
  );
  // Computed once, used for names that are not configured.
  const decoy = hashPassword("decoy password never matched");
  const tokens = config.apiTokens;

  const bySession = (req: IncomingMessage): Principal | null => {
    const id = cookies(req.headers.cookie).get(SESSION_COOKIE);
    if (id === undefined) return null;
    const s = table.get(id);
    return s === null
      ? null
      : { user: s.user, role: s.role, via: options.open ? "open" : "session", csrf: s.csrf };
  };

  return {
    open: options.open,
    principal(req) {
      const header = req.headers.authorization;
      if (header !== undefined) {
        const m = /^Bearer\s+(\S{1,512})$/i.exec(header);
        if (m === null) return null;
        const hash = tokenHash(m[1] as string);
        // Every configured token is compared, matching or not.
        let found: (typeof tokens)[number] | null = null;
        for (const t of tokens) if (sameSecret(hash, t.tokenHash) && found === null) found = t;
        return found === null
          ? null
          : { user: found.name, role: found.role, via: "token", csrf: null };
      }
      return bySession(req);
    },
    async login(user, password, client) {
      const decision = limiter.take(clientKey(client));
      if (!decision.allowed) {
        return { ok: false, reason: "rate-limited", retryAfterSeconds: decision.retryAfterSeconds };
      }
      const account = config.users.find((u) => sameSecret(u.name, user));
      const hash = account?.passwordHash ?? (await decoy);
      const good = (await verifyPassword(password.slice(0, 1024), hash)) && account !== undefined;
      if (!good || account === undefined) return { ok: false, reason: "invalid" };
      const { id, session } = table.create(account.name, account.role);
      return { ok: true, cookie: id, session };
    },
    logout(req) {
      const id = cookies(req.headers.cookie).get(SESSION_COOKIE);
      if (id !== undefined) table.destroy(id);
    },
    openSession() {
      const { id, session } = table.create("admin (no auth)", "admin");
      return { cookie: id, session };
    },
    sessions: () => table.size(),
  };
}

/** Cookie header → name/value; malformed pairs are skipped, the first of a name wins. */
export function cookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined || header.length > 8192) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/** Constant-time CSRF check: the principal's token against what the request carried. */
export function csrfValid(principal: Principal, given: string | null | undefined): boolean {
  // API tokens are not sent by browsers on their own, so they need no CSRF token.
  if (principal.via === "token") return true;
  if (principal.csrf === null || typeof given !== "string" || given.length === 0) return false;
  return sameSecret(principal.csrf, given);
}
