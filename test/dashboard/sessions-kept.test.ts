// Sessions written through to the database outlive a restart of the server,
// on SQLite and PostgreSQL: the cookie from before works after, a logout
// stays a logout, and a user whose password, role or account changed in the
// config while the server was down has to log in again.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  defaultConfig,
  hashPassword,
  type ServeConfig,
  startDashboard,
} from "../../src/dashboard/index.ts";
import { openSessionDb } from "../../src/dashboard/session-db.ts";
import { openReportReader } from "../../src/reports/dashboard-reader.ts";
import { type Backend, freshStore, postgres, sqlite } from "../reports/backends.ts";
import { ADMIN, login, NOW, READER } from "./fixture.ts";

const cost = { N: 1024, r: 8, p: 1 };
type User = ServeConfig["users"][number];

for (const backend of [sqlite, postgres] satisfies Backend[]) {
  test(`${backend.name}: sessions survive a restart; logouts, password, role and account changes do not`, {
    timeout: 60_000,
  }, async (t) => {
    const skip = await backend.skip();
    if (skip) return t.skip(skip);
    const fresh = await freshStore(backend);
    const admin: User = {
      name: ADMIN.user,
      role: "admin",
      passwordHash: await hashPassword(ADMIN.password, cost),
    };
    const reader: User = {
      name: READER.user,
      role: "read-only",
      passwordHash: await hashPassword(READER.password, cost),
    };
    const carol: User = { ...reader, name: "carol" };
    let clock = NOW.getTime();
    /** One server lifetime on the shared database: start, `body`, stop (writes flushed). */
    const lifetime = async (
      users: User[],
      body: (url: string, logged: Record<string, unknown>[]) => Promise<void>,
    ) => {
      const sessions = await openSessionDb(fresh.db);
      const read = await openReportReader(fresh.db);
      const logged: Record<string, unknown>[] = [];
      const dashboard = await startDashboard({
        config: { ...defaultConfig(fresh.db), listen: { host: "127.0.0.1", port: 0 }, users },
        store: fresh.store,
        reader: read.sql,
        sessions,
        now: () => new Date(clock),
        log: (e) => logged.push(e),
        closeGraceMs: 1000,
      });
      try {
        await body(dashboard.url, logged);
      } finally {
        await dashboard.close();
        await sessions.close();
        await read.close();
      }
    };
    const me = (url: string, cookie: string) =>
      fetch(`${url}/api/me`, { headers: { cookie } }).then((r) => r.status);

    try {
      const kept: Record<string, string> = {};
      await lifetime([admin, reader, carol], async (url) => {
        for (const [name, password] of [
          ["alice", ADMIN.password],
          ["rob", READER.password],
          ["carol", READER.password],
        ] as const)
          kept[name] = (await login(url, name, password)).cookie;
        const out = await login(url, ADMIN.user, ADMIN.password);
        kept.out = out.cookie;
        const bye = await fetch(`${url}/logout`, {
          method: "POST",
          redirect: "manual",
          headers: {
            cookie: out.cookie,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ csrf: out.csrf }).toString(),
        });
        assert.equal(bye.status, 303);
        assert.equal(await me(url, out.cookie), 401);
      });

      // While the server was down: rob's password changed, carol became an admin.
      const robNew: User = { ...reader, passwordHash: await hashPassword("a new password", cost) };
      const carolAdmin: User = { ...carol, role: "admin" };
      await lifetime([admin, robNew, carolAdmin], async (url, logged) => {
        assert.deepEqual(
          logged.find((e) => e.event === "sessions-restored"),
          { event: "sessions-restored", restored: 1, dropped: 2 },
        );
        assert.equal(await me(url, kept.alice as string), 200, "alice's session is back");
        const whoami = (await (
          await fetch(`${url}/api/me`, { headers: { cookie: kept.alice as string } })
        ).json()) as { user: string; role: string };
        assert.equal(whoami.user, "alice");
        assert.equal(whoami.role, "admin");
        assert.equal(await me(url, kept.out as string), 401, "a logout stays a logout");
        assert.equal(await me(url, kept.rob as string), 401, "a new password ends old sessions");
        assert.equal(await me(url, kept.carol as string), 401, "a new role needs a new login");
      });

      // alice removed from the config: her session goes too, and the rows are gone.
      await lifetime([robNew], async (url, logged) => {
        assert.equal(await me(url, kept.alice as string), 401);
        assert.deepEqual(
          logged.find((e) => e.event === "sessions-restored"),
          { event: "sessions-restored", restored: 0, dropped: 1 },
        );
      });
      const left = await openSessionDb(fresh.db);
      assert.deepEqual(await left.load(clock), []);
      await left.close();

      // Expiry: a session older than its lifetime is neither restored nor kept.
      await lifetime([admin], async (url) => {
        kept.late = (await login(url, ADMIN.user, ADMIN.password)).cookie;
      });
      clock += defaultConfig(fresh.db).session.lifetimeMs;
      await lifetime([admin], async (url, logged) => {
        assert.equal(await me(url, kept.late as string), 401);
        assert.deepEqual(
          logged.find((e) => e.event === "sessions-restored"),
          { event: "sessions-restored", restored: 0, dropped: 0 },
        );
      });
      const none = await openSessionDb(fresh.db);
      assert.deepEqual(await none.load(0), [], "expired rows are deleted, not only skipped");
      await none.close();
    } finally {
      await fresh.done();
    }
  });
}

test("session rows hold the cookie's hash and a credential fingerprint, never the cookie or the password hash", {
  timeout: 60_000,
}, async () => {
  const fresh = await freshStore(sqlite);
  const passwordHash = await hashPassword(ADMIN.password, cost);
  const sessions = await openSessionDb(fresh.db);
  const read = await openReportReader(fresh.db);
  const dashboard = await startDashboard({
    config: {
      ...defaultConfig(fresh.db),
      listen: { host: "127.0.0.1", port: 0 },
      users: [{ name: ADMIN.user, role: "admin", passwordHash }],
    },
    store: fresh.store,
    reader: read.sql,
    sessions,
    now: () => NOW,
  });
  try {
    const { cookie } = await login(dashboard.url, ADMIN.user, ADMIN.password);
    await dashboard.app.drain();
    const [row] = await sessions.load(NOW.getTime());
    assert.ok(row);
    const value = cookie.split("=")[1] as string;
    const text = JSON.stringify(row);
    assert.ok(!text.includes(value), "the cookie value is not stored");
    assert.ok(!text.includes(passwordHash), "the password hash is not stored");
    assert.equal(row.user, ADMIN.user);
  } finally {
    await dashboard.close();
    await sessions.close();
    await read.close();
    await fresh.done();
  }
});
