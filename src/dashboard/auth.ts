// Who is asking: a session cookie (browser) or an API token (scripts), and
// the login that makes a session. Login attempts are rate limited per client;
// an unknown user costs the same scrypt work as a wrong password, so timing
// does not tell which names exist. Nothing here logs a secret.

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { clientKey, createRateLimiter } from "../reports/token-bucket.ts";
import type { Role, ServeConfig } from "./config.ts";
import { hashPassword, sameSecret, tokenHash, verifyPassword } from "./password.ts";
import type { SessionPersistence } from "./session-db.ts";
import { createSessionTable, type Session, type SessionHooks } from "./sessions.ts";

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
  /**
   * Reads back the sessions the database kept, keeping only those whose user
   * still exists with the same role and password; the others are deleted.
   */
  restoreSessions(): Promise<{ restored: number; dropped: number }>;
  /** Resolves once every session write so far has reached the database. */
  flushSessions(): Promise<void>;
}

export interface AuthOptions {
  open: boolean;
  now: () => number;
  /** Where sessions are written through (not in the open mode); without it they live in memory only. */
  sessions?: SessionPersistence;
  /** A session write that failed: the session still works until a restart. */
  onSessionStoreError?: (error: unknown) => void;
}

/**
 * What a session remembers of the password it was opened with: a changed
 * password_hash (new password, or the same one re-hashed) ends old sessions
 * at the next restart. Not the hash itself, which need not sit in a second place.
 */
function credentialOf(passwordHash: string): string {
  return createHash("sha256").update(passwordHash).digest("base64url").slice(0, 22);
}

export function createAuth(config: ServeConfig, options: AuthOptions): Auth {
  const persist = options.open ? undefined : options.sessions;
  // One write at a time, in order: a logout right after its login must not
  // reach the database first (two pooled connections could reorder them) and
  // leave the ended session behind to come back after a restart.
  let writes: Promise<void> = Promise.resolve();
  const write = (work: (p: SessionPersistence) => Promise<void>) => {
    if (persist === undefined) return;
    writes = writes
      .then(() => work(persist))
      .catch((error: unknown) => options.onSessionStoreError?.(error));
  };
  const hooks: SessionHooks = {
    saved: (key, s) =>
      write(async (p) => {
        await p.removeExpired(options.now());
        await p.save({ key, ...s });
      }),
    removed: (keys) => write((p) => p.remove(keys)),
  };
  const table = createSessionTable(config.session.lifetimeMs, options.now, hooks);
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
      const { id, session } = table.create(
        account.name,
        account.role,
        credentialOf(account.passwordHash),
      );
      return { ok: true, cookie: id, session };
    },
    logout(req) {
      const id = cookies(req.headers.cookie).get(SESSION_COOKIE);
      if (id !== undefined) table.destroy(id);
    },
    openSession() {
      const { id, session } = table.create("admin (no auth)", "admin", "");
      return { cookie: id, session };
    },
    sessions: () => table.size(),
    async restoreSessions() {
      if (persist === undefined) return { restored: 0, dropped: 0 };
      const stale: string[] = [];
      let restored = 0;
      for (const s of await persist.load(options.now())) {
        const account = config.users.find((u) => u.name === s.user);
        if (
          account === undefined ||
          account.role !== s.role ||
          !sameSecret(credentialOf(account.passwordHash), s.credential)
        ) {
          stale.push(s.key);
          continue;
        }
        const { key, ...session } = s;
        table.restore(key, session);
        restored++;
      }
      if (stale.length > 0) write((p) => p.remove(stale));
      write((p) => p.removeExpired(options.now()));
      await writes;
      return { restored, dropped: stale.length };
    },
    flushSessions: () => writes,
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
