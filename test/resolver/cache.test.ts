// One contract for every PolicyCache backend, over real stores: an in-process
// LRU, a SQLite file in a temp dir, the Redis and the PostgreSQL on loopback
// (see services.ts). Each open() makes a fresh, empty store, so no test sees
// another's entries; reopen() opens a second instance on the latest store,
// as a second resolver sharing the cache would.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { Client } from "pg";
import { openCache } from "../../src/resolver/cache/index.ts";
import { createMemoryCache } from "../../src/resolver/cache/memory.ts";
import { openPostgresCache } from "../../src/resolver/cache/postgres.ts";
import { openRedisCache } from "../../src/resolver/cache/redis.ts";
import { openSqliteCache } from "../../src/resolver/cache/sqlite.ts";
import type { PolicyCache, PolicyEntry } from "../../src/resolver/types.ts";
import { pgUrl, redisUrl, serviceSkip } from "./services.ts";

const NOW = Date.now();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const redisSkip = await serviceSkip("redis");
const pgSkip = await serviceSkip("postgres");

function entry(domain: string, fields: Partial<PolicyEntry> = {}): PolicyEntry {
  const fetchedAt = fields.fetchedAt ?? NOW - HOUR;
  return {
    domain,
    id: `id${fetchedAt}`,
    text: `version: STSv1\r\nmode: enforce\r\nmx: mx.${domain}\r\nmax_age: 604800\r\n`,
    mode: "enforce",
    fetchedAt,
    expiresAt: fetchedAt + 7 * DAY,
    ...fields,
  };
}

/** Exactly 64 KiB of UTF-8 mixing 1-, 2-, 3- and 4-byte characters. */
function bigText(): string {
  const unit = "mx: é中😀\r\n"; // 4 + 2 + 3 + 4 + 2 = 15 bytes
  let text = unit.repeat(Math.floor(65536 / Buffer.byteLength(unit)));
  text += "#".repeat(65536 - Buffer.byteLength(text));
  assert.equal(Buffer.byteLength(text), 65536);
  return text;
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

type Open = () => Promise<PolicyCache>;

/** Runs `body` on a cache and closes it, whatever happens. */
async function using<T>(open: Open, body: (cache: PolicyCache) => Promise<T>): Promise<T> {
  const cache = await open();
  try {
    return await body(cache);
  } finally {
    await cache.close();
  }
}

function contract(name: string, open: Open, reopen?: Open, skip: string | false = false): void {
  describe(`${name} cache contract`, { skip }, () => {
    test("get of a missing domain is undefined", () =>
      using(open, async (cache) => {
        assert.equal(await cache.get("missing.example"), undefined);
      }));

    test("set then get returns every field, Unicode and 64 KiB text included", () =>
      using(open, async (cache) => {
        const big = entry("xn--bcher-kva.example", {
          id: "20240101T000000Z",
          text: bigText(),
          mode: "testing",
          fetchedAt: NOW - 5 * HOUR,
          expiresAt: NOW + 86_400_000,
        });
        const small = entry("a.example", { mode: "none", text: "ümlaut ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢\n" });
        await cache.set(big);
        await cache.set(small);
        assert.deepEqual(await cache.get(big.domain), big);
        assert.deepEqual(await cache.get(small.domain), small);
      }));

    test("a newer fetchedAt replaces, an older one is ignored, an equal one replaces", () =>
      using(open, async (cache) => {
        const first = entry("race.example", { fetchedAt: NOW - 2 * HOUR });
        const newer = entry("race.example", { fetchedAt: NOW - HOUR, mode: "testing" });
        const older = entry("race.example", { fetchedAt: NOW - 3 * HOUR, id: "old" });
        const equal = { ...newer, id: "same-time", text: "replaced" };
        await cache.set(first);
        await cache.set(newer);
        assert.deepEqual(await cache.get("race.example"), newer);
        await cache.set(older);
        assert.deepEqual(await cache.get("race.example"), newer);
        await cache.set(equal);
        assert.deepEqual(await cache.get("race.example"), equal);
      }));

    test("delete removes one domain and ignores a missing one", () =>
      using(open, async (cache) => {
        await cache.set(entry("keep.example"));
        await cache.set(entry("drop.example"));
        await cache.delete("drop.example");
        await cache.delete("never-there.example");
        assert.equal(await cache.get("drop.example"), undefined);
        assert.ok(await cache.get("keep.example"));
        assert.equal(await cache.count(), 1);
        assert.deepEqual(await cache.stale({ fetchedBefore: NOW, limit: 10 }), [
          await cache.get("keep.example"),
        ]);
      }));

    test("stale keeps fetchedAt < fetchedBefore, in byte order of domain", () =>
      using(open, async (cache) => {
        // Byte order puts '-' < '.' < digits < letters; a locale collation would not.
        const domains = ["a.example", "a-b.example", "a0.example", "ab.example", "0.example"];
        for (const domain of shuffled(domains)) await cache.set(entry(domain));
        await cache.set(entry("fresh.example", { fetchedAt: NOW }));
        await cache.set(entry("edge.example", { fetchedAt: NOW - HOUR / 2 }));
        const stale = await cache.stale({ fetchedBefore: NOW - HOUR / 2, limit: 100 });
        assert.deepEqual(
          stale.map((e) => e.domain),
          [...domains].sort(byteOrder),
        );
        assert.deepEqual(stale[0], entry("0.example"));
        assert.deepEqual(await cache.stale({ fetchedBefore: NOW - 2 * HOUR, limit: 100 }), []);
        assert.deepEqual(await cache.stale({ fetchedBefore: NOW, limit: 0 }), []);
      }));

    test("stale pages with limit and after over 250 entries", () =>
      using(open, async (cache) => {
        const all = Array.from({ length: 250 }, (_, i) => `d${String(i).padStart(3, "0")}.example`);
        // Every third entry is fresh and must never appear.
        const fetchedAt = (i: number): number => (i % 3 === 0 ? NOW : NOW - DAY + i);
        await Promise.all(all.map((d, i) => cache.set(entry(d, { fetchedAt: fetchedAt(i) }))));
        const expected = all.filter((_, i) => i % 3 !== 0);
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages < 100, "paging does not end");
          const page = await cache.stale({ fetchedBefore: NOW - HOUR, limit: 7, after });
          assert.ok(page.length <= 7);
          if (page.length === 0) break;
          if (seen.length + page.length < expected.length) assert.equal(page.length, 7);
          seen.push(...page.map((e) => e.domain));
          after = page.at(-1)?.domain;
        }
        assert.deepEqual(seen, expected);
        // A few stale entries scattered among many fresh ones: found in one call, in order.
        await Promise.all(
          all.map((d, i) =>
            cache.set(
              entry(d, { fetchedAt: [5, 130, 245].includes(i) ? NOW - 2 * HOUR : NOW + i }),
            ),
          ),
        );
        const sparse = await cache.stale({ fetchedBefore: NOW - HOUR, limit: 10 });
        assert.deepEqual(
          sparse.map((e) => e.domain),
          ["d005.example", "d130.example", "d245.example"],
        );
        const rest = await cache.stale({
          fetchedBefore: NOW - HOUR,
          limit: 10,
          after: "d005.example",
        });
        assert.deepEqual(
          rest.map((e) => e.domain),
          ["d130.example", "d245.example"],
        );
      }));

    test("prune deletes entries expired before the bound and counts them", () =>
      using(open, async (cache) => {
        for (const offset of [-3, -2, -1, 0, 1]) {
          await cache.set(entry(`exp${offset + 3}.example`, { expiresAt: NOW + offset }));
        }
        assert.equal(await cache.prune(NOW), 3);
        assert.equal(await cache.count(), 2);
        assert.equal(await cache.get("exp0.example"), undefined);
        assert.equal(await cache.get("exp2.example"), undefined);
        assert.equal((await cache.get("exp3.example"))?.expiresAt, NOW);
        assert.deepEqual(
          (await cache.stale({ fetchedBefore: NOW, limit: 10 })).map((e) => e.domain),
          ["exp3.example", "exp4.example"],
        );
        assert.equal(await cache.prune(NOW), 0);
      }));

    test("count follows sets, replacements and deletes", () =>
      using(open, async (cache) => {
        assert.equal(await cache.count(), 0);
        await cache.set(entry("one.example"));
        await cache.set(entry("two.example"));
        await cache.set(entry("two.example", { fetchedAt: NOW }));
        assert.equal(await cache.count(), 2);
        await cache.delete("one.example");
        assert.equal(await cache.count(), 1);
      }));

    test("meta values: missing, set, overwritten", () =>
      using(open, async (cache) => {
        assert.equal(await cache.getMeta("last-sweep"), undefined);
        await cache.setMeta("last-sweep", "1700000000000");
        await cache.setMeta("other", "ü ✓");
        assert.equal(await cache.getMeta("last-sweep"), "1700000000000");
        await cache.setMeta("last-sweep", "1800000000000");
        assert.equal(await cache.getMeta("last-sweep"), "1800000000000");
        assert.equal(await cache.getMeta("other"), "ü ✓");
      }));

    test("200 concurrent sets and gets stay consistent", () =>
      using(open, async (cache) => {
        // One domain, written in random fetchedAt order: the newest must win,
        // and every read must see some whole entry.
        const versions = Array.from({ length: 200 }, (_, i) =>
          entry("hot.example", {
            fetchedAt: NOW - DAY + i,
            text: `version ${i}`,
          }),
        );
        const reads = await Promise.all(
          shuffled(versions).flatMap((v) => [cache.set(v), cache.get("hot.example")]),
        );
        for (const read of reads) {
          if (read === undefined) continue;
          const i = Number(read.text.replace("version ", ""));
          assert.deepEqual(read, versions[i]);
        }
        assert.deepEqual(await cache.get("hot.example"), versions.at(-1));
        // Many domains at once.
        const many = Array.from({ length: 200 }, (_, i) => entry(`m${i}.example`));
        await Promise.all(many.map((e) => cache.set(e)));
        const got = await Promise.all(many.map((e) => cache.get(e.domain)));
        assert.deepEqual(got, many);
        assert.equal(await cache.count(), 201);
      }));

    test("close resolves, and a second close is harmless", async () => {
      const cache = await open();
      await cache.set(entry("closing.example"));
      await cache.close();
      await cache.close();
    });

    if (reopen !== undefined) {
      test("a second instance on the same store shares entries and meta", async () => {
        const first = await open();
        const second = await reopen();
        try {
          await first.set(entry("shared.example"));
          await first.setMeta("last-sweep", "42");
          assert.deepEqual(await second.get("shared.example"), entry("shared.example"));
          assert.equal(await second.getMeta("last-sweep"), "42");
          // The other resolver's older fetch must not roll the policy back.
          await second.set(entry("shared.example", { fetchedAt: NOW - DAY, id: "old" }));
          assert.deepEqual(await first.get("shared.example"), entry("shared.example"));
          await second.delete("shared.example");
          assert.equal(await first.get("shared.example"), undefined);
        } finally {
          await first.close();
          await second.close();
        }
      });

      test("entries and meta survive close and reopen", async () => {
        await using(open, async (cache) => {
          await cache.set(entry("lasting.example"));
          await cache.setMeta("last-sweep", "7");
        });
        await using(reopen, async (cache) => {
          assert.deepEqual(await cache.get("lasting.example"), entry("lasting.example"));
          assert.equal(await cache.getMeta("last-sweep"), "7");
          assert.equal(await cache.count(), 1);
        });
      });
    }
  });
}

// memory

contract("memory", async () => createMemoryCache({ size: 1000 }));

describe("memory cache", () => {
  test("evicts the least recently used entry beyond its size; get and peek count as uses", async () => {
    const cache = createMemoryCache({ size: 3 });
    for (const d of ["a", "b", "c"]) await cache.set(entry(`${d}.example`));
    await cache.get("a.example"); // order b, c, a
    await cache.set(entry("d.example")); // b goes
    assert.ok(cache.peek("c.example")); // order a, d, c
    await cache.set(entry("e.example")); // a goes
    assert.equal(cache.peek("a.example"), undefined);
    assert.equal(cache.peek("b.example"), undefined);
    for (const d of ["c", "d", "e"]) assert.ok(cache.peek(`${d}.example`), d);
    assert.equal(await cache.count(), 3);
    // A refresh sweep is not a use.
    await cache.stale({ fetchedBefore: NOW, limit: 10 }); // order still c, d, e
    await cache.set(entry("f.example"));
    assert.equal(cache.peek("c.example"), undefined);
  });

  test("peek answers synchronously with an entry nobody can change", async () => {
    const cache = createMemoryCache({ size: 10 });
    assert.equal(cache.peek("x.example"), undefined);
    const given = entry("x.example");
    await cache.set(given);
    // The caller's unfrozen object is copied; changing it leaves the cache alone.
    given.mode = "none";
    const seen = cache.peek("x.example");
    assert.deepEqual(seen, entry("x.example"));
    assert.throws(() => {
      if (seen) seen.mode = "none";
    }, TypeError);
    assert.equal(cache.peek("x.example")?.mode, "enforce");
  });

  test("an entry is held in its hot-set record, one object per policy; readers get copies", async () => {
    const cache = createMemoryCache({ size: 10 });
    const given = entry("y.example");
    await cache.set(given);
    const record = cache.hot.get("y.example");
    assert.ok(record);
    // The record carries the entry's fields itself (no second object per policy).
    for (const [field, value] of Object.entries(given)) {
      assert.equal(record[field as keyof typeof given], value, field);
    }
    const seen = cache.peek("y.example");
    assert.deepEqual(seen, given);
    assert.notEqual(seen, record);
    assert.ok(Object.isFrozen(seen));
    assert.deepEqual(await cache.get("y.example"), given);
  });

  test("a size below 1 is refused", () => {
    assert.throws(() => createMemoryCache({ size: 0 }), RangeError);
  });

  test("openCache gives the internal cache", async () => {
    const cache = await openCache({ type: "internal", size: 5 });
    assert.equal(cache.kind, "memory");
    assert.deepEqual(cache.ignoredOptions, []);
    await cache.close();
  });
});

// SQLite

const sqliteDir = await mkdtemp(join(tmpdir(), "mtasts-cache-"));
let sqliteFile = "";
let sqliteFiles = 0;
after(() => rm(sqliteDir, { recursive: true, force: true }));

contract(
  "sqlite",
  async () => {
    sqliteFile = join(sqliteDir, `cache-${++sqliteFiles}.db`);
    return openSqliteCache({ filename: sqliteFile, timeoutMs: 2000 });
  },
  async () => openSqliteCache({ filename: sqliteFile, timeoutMs: 2000 }),
);

describe("sqlite cache", () => {
  test("an unopenable path names the file and what to check", async () => {
    const filename = join(sqliteDir, "no-such-dir", "cache.db");
    await assert.rejects(openSqliteCache({ filename, timeoutMs: 100 }), (error: Error) => {
      assert.ok(error.message.startsWith(`cannot open SQLite cache ${filename}: `), error.message);
      assert.match(
        error.message,
        /check the directory exists and is writable by the resolver's user/,
      );
      return true;
    });
  });

  test("the file is in WAL mode with a schema version", async () => {
    const filename = join(sqliteDir, "wal.db");
    await (await openSqliteCache({ filename, timeoutMs: 100 })).close();
    const db = new DatabaseSync(filename);
    try {
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
      assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, 1);
      db.exec("PRAGMA user_version = 99");
    } finally {
      db.close();
    }
    await assert.rejects(
      openSqliteCache({ filename, timeoutMs: 100 }),
      /schema version 99 is newer/,
    );
  });

  test("openCache gives the SQLite cache", async () => {
    const cache = await openCache({
      type: "sqlite",
      filename: join(sqliteDir, "via-index.db"),
      timeoutMs: 100,
    });
    assert.equal(cache.kind, "sqlite");
    await cache.close();
  });
});

// Redis

const redisBase = `mtasts-test-${randomBytes(6).toString("hex")}:`;
let redisPrefix = "";
let redisPrefixes = 0;
const openRedis = (prefix: string, options: Record<string, unknown> = {}, url = redisUrl()) =>
  openRedisCache({ type: "redis", url, prefix, options });

// At the root, so it runs whichever tests a name pattern picked.
after(async () => {
  if (redisSkip) return;
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${redisBase}*`, "COUNT", 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
});

contract(
  "redis",
  async () => {
    redisPrefix = `${redisBase}${++redisPrefixes}:`;
    return openRedis(redisPrefix);
  },
  async () => openRedis(redisPrefix),
  redisSkip,
);

describe("redis cache", { skip: redisSkip }, () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  });
  after(() => redis.quit());

  test("keeps the documented key layout and a TTL 2 days past expiry on each policy", async () => {
    const prefix = `${redisBase}layout:`;
    const policy = entry("ttl.example");
    await using(
      () => openRedis(prefix),
      (cache) => cache.set(policy),
    );
    const hash = await redis.hgetall(`${prefix}policy:ttl.example`);
    assert.deepEqual(hash, {
      id: policy.id,
      text: policy.text,
      mode: policy.mode,
      fetchedAt: String(policy.fetchedAt),
      expiresAt: String(policy.expiresAt),
    });
    const ttl = await redis.pttl(`${prefix}policy:ttl.example`);
    const wanted = policy.expiresAt + 2 * DAY - Date.now();
    assert.ok(Math.abs(ttl - wanted) < 60_000, `TTL ${ttl} ms, wanted about ${wanted} ms`);
    assert.equal(
      Number(await redis.zscore(`${prefix}by-fetched`, "ttl.example")),
      policy.fetchedAt,
    );
    assert.equal(Number(await redis.zscore(`${prefix}by-expiry`, "ttl.example")), policy.expiresAt);
    assert.equal(Number(await redis.zscore(`${prefix}domains`, "ttl.example")), 0);
  });

  test("an unreachable Redis rejects quickly, naming the URL but not the password", async () => {
    const started = Date.now();
    await assert.rejects(openRedis("x:", {}, "redis://:hunter2@127.0.0.1:1"), (error: Error) => {
      assert.match(error.message, /^cannot connect to Redis cache redis:\/\/127\.0\.0\.1:1: /);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    assert.ok(Date.now() - started < 3000, "took longer than 3 s");
  });

  test("maps redis-py options and reports the ones it cannot use", async () => {
    const url = new URL(redisUrl());
    url.searchParams.set("socket_timeout", "2");
    url.searchParams.set("health_check_interval", "30");
    const cache = await openRedis(
      `${redisBase}options:`,
      {
        socket_connect_timeout: 1.5,
        max_connections: 25,
        retry_on_timeout: true,
        db: url.pathname.slice(1) || 0,
      },
      url.toString(),
    );
    try {
      assert.deepEqual([...cache.ignoredOptions].sort(), [
        "health_check_interval",
        "retry_on_timeout",
      ]);
      await cache.set(entry("options.example"));
      assert.ok(await cache.get("options.example"));
    } finally {
      await cache.close();
    }
    await assert.rejects(
      openRedis(`${redisBase}bad:`, { socket_timeout: "soon" }),
      /invalid Redis cache option socket_timeout: expected a positive number of seconds/,
    );
  });

  test("openCache gives the Redis cache", async () => {
    const cache = await openCache({
      type: "redis",
      url: redisUrl(),
      prefix: `${redisBase}index:`,
      options: { bogus: 1 },
    });
    assert.equal(cache.kind, "redis");
    assert.deepEqual(cache.ignoredOptions, ["bogus"]);
    await cache.close();
  });
});

// PostgreSQL

const pgBase = `mtasts_test_${randomBytes(4).toString("hex")}`;
const pgTables: string[] = [];
const openPostgres = (table: string, dsn = pgUrl()) => {
  pgTables.push(table);
  return openPostgresCache({ type: "postgres", dsn, table, timeoutMs: 5000, options: {} });
};

after(async () => {
  if (pgSkip || pgTables.length === 0) return;
  const client = new Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    for (const table of new Set(pgTables)) {
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_meta"`);
    }
  } finally {
    await client.end();
  }
});

contract(
  "postgres",
  async () => openPostgres(`${pgBase}_${pgTables.length + 1}`),
  async () => openPostgres(pgTables.at(-1) ?? "unset"),
  pgSkip,
);

describe("postgres cache", { skip: pgSkip }, () => {
  test("a table name that is not a plain lowercase identifier is refused", async () => {
    for (const table of ['x"; DROP TABLE y; --', "Policy", "1abc", "", "a".repeat(59)]) {
      await assert.rejects(
        openPostgresCache({ type: "postgres", dsn: pgUrl(), table, timeoutMs: 1000, options: {} }),
        /invalid PostgreSQL cache table name/,
        table,
      );
    }
  });

  test("resolvers opening a fresh table together all succeed", async () => {
    const table = `${pgBase}_together`;
    const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openPostgres(table)));
    const caches = opened.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    try {
      for (const o of opened) if (o.status === "rejected") throw o.reason;
      await caches[0]?.set(entry("together.example"));
      for (const cache of caches) assert.ok(await cache.get("together.example"));
    } finally {
      await Promise.all(caches.map((cache) => cache.close()));
    }
  });

  test("domain order is byte order whatever the database's collation", async () => {
    const table = `${pgBase}_collation`;
    await (await openPostgres(table)).close();
    const client = new Client({ connectionString: pgUrl() });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT collation_name FROM information_schema.columns WHERE table_name = $1 AND column_name = 'domain'",
        [table],
      );
      assert.deepEqual(rows, [{ collation_name: "C" }]);
    } finally {
      await client.end();
    }
  });

  test("an unreachable server rejects, naming the DSN but not the password", async () => {
    await assert.rejects(
      openPostgres(`${pgBase}_unreachable`, "postgres://postgres:hunter2@127.0.0.1:1/test"),
      (error: Error) => {
        assert.match(
          error.message,
          /^cannot open PostgreSQL cache postgres:\/\/postgres@127\.0\.0\.1:1\/test/,
        );
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });

  test("openCache gives the PostgreSQL cache and reports unknown pool options", async () => {
    const table = `${pgBase}_index`;
    pgTables.push(table);
    const cache = await openCache({
      type: "postgres",
      dsn: pgUrl(),
      table,
      timeoutMs: 5000,
      options: { min_size: 1, max_size: 4, max_cached_statement_lifetime: 10 },
    });
    assert.equal(cache.kind, "postgres");
    assert.deepEqual(cache.ignoredOptions, ["max_cached_statement_lifetime"]);
    await cache.close();
  });
});
