// Server-side sessions, answered from memory. The cookie carries 32 random
// bytes; the table is keyed by their SHA-256, so looking one up leaks nothing
// through timing about the ids that exist. Each session has its own CSRF token
// (synchronizer pattern). The hooks let auth.ts write sessions through to the
// database (session-db.ts) so they outlive a restart.

import { createHash, randomBytes } from "node:crypto";
import type { Role } from "./config.ts";

export interface Session {
  user: string;
  role: Role;
  csrf: string;
  expiresAt: number;
  /** Fingerprint of the credential the user logged in with (auth.ts), "" for none. */
  credential: string;
}

/** Told of every session stored or ended, by the key the table uses (never the cookie). */
export interface SessionHooks {
  saved(key: string, session: Session): void;
  removed(keys: string[]): void;
}

export interface SessionTable {
  /** The cookie value and the session. */
  create(user: string, role: Role, credential: string): { id: string; session: Session };
  get(id: string): Session | null;
  destroy(id: string): void;
  /** Puts back a session read from the database (already keyed); an expired one is ignored. */
  restore(key: string, session: Session): void;
  size(): number;
}

const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/** Oldest sessions are dropped beyond this, so a login flood cannot exhaust memory. */
const MAX_SESSIONS = 10_000;

const key = (id: string) => createHash("sha256").update(id).digest("base64url");

export function createSessionTable(
  lifetimeMs: number,
  now: () => number,
  hooks?: SessionHooks,
): SessionTable {
  const table = new Map<string, Session>();
  const sweep = () => {
    const t = now();
    const gone: string[] = [];
    for (const [k, s] of table) {
      if (s.expiresAt > t) continue;
      table.delete(k);
      gone.push(k);
    }
    return gone;
  };
  return {
    create(user, role, credential) {
      const gone = table.size >= MAX_SESSIONS ? sweep() : [];
      while (table.size >= MAX_SESSIONS) {
        const oldest = table.keys().next().value as string;
        table.delete(oldest);
        gone.push(oldest);
      }
      if (gone.length > 0) hooks?.removed(gone);
      const id = randomBytes(32).toString("base64url");
      const session = {
        user,
        role,
        csrf: randomBytes(32).toString("base64url"),
        expiresAt: now() + lifetimeMs,
        credential,
      };
      const k = key(id);
      table.set(k, session);
      hooks?.saved(k, session);
      return { id, session };
    },
    restore(k, session) {
      if (session.expiresAt > now() && table.size < MAX_SESSIONS) table.set(k, session);
    },
    get(id) {
      // A forged or mangled cookie is simply not a session.
      if (!ID_FORMAT.test(id)) return null;
      const k = key(id);
      const s = table.get(k);
      if (s === undefined) return null;
      if (s.expiresAt <= now()) {
        table.delete(k);
        hooks?.removed([k]);
        return null;
      }
      return s;
    },
    destroy(id) {
      if (!ID_FORMAT.test(id)) return;
      const k = key(id);
      // The database is told even when memory has no such session: a logout
      // must end it wherever it may still be written.
      table.delete(k);
      hooks?.removed([k]);
    },
    size: () => table.size,
  };
}
