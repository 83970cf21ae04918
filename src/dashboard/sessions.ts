// Server-side sessions, in memory: a restart logs everyone out (documented in
// docs/dashboard.md). The cookie carries 32 random bytes; the table is keyed
// by their SHA-256, so looking one up leaks nothing through timing about the
// ids that exist. Each session has its own CSRF token (synchronizer pattern).

import { createHash, randomBytes } from "node:crypto";
import type { Role } from "./config.ts";

export interface Session {
  user: string;
  role: Role;
  csrf: string;
  expiresAt: number;
}

export interface SessionTable {
  /** The cookie value and the session. */
  create(user: string, role: Role): { id: string; session: Session };
  get(id: string): Session | null;
  destroy(id: string): void;
  size(): number;
}

const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/** Oldest sessions are dropped beyond this, so a login flood cannot exhaust memory. */
const MAX_SESSIONS = 10_000;

const key = (id: string) => createHash("sha256").update(id).digest("base64url");

export function createSessionTable(lifetimeMs: number, now: () => number): SessionTable {
  const table = new Map<string, Session>();
  const sweep = () => {
    const t = now();
    for (const [k, s] of table) if (s.expiresAt <= t) table.delete(k);
  };
  return {
    create(user, role) {
      if (table.size >= MAX_SESSIONS) sweep();
      while (table.size >= MAX_SESSIONS) table.delete(table.keys().next().value as string);
      const id = randomBytes(32).toString("base64url");
      const session = {
        user,
        role,
        csrf: randomBytes(32).toString("base64url"),
        expiresAt: now() + lifetimeMs,
      };
      table.set(key(id), session);
      return { id, session };
    },
    get(id) {
      // A forged or mangled cookie is simply not a session.
      if (!ID_FORMAT.test(id)) return null;
      const k = key(id);
      const s = table.get(k);
      if (s === undefined) return null;
      if (s.expiresAt <= now()) {
        table.delete(k);
        return null;
      }
      return s;
    },
    destroy(id) {
      if (ID_FORMAT.test(id)) table.delete(key(id));
    },
    size: () => table.size,
  };
}
