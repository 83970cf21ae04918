// Several resolvers on one store (the reason for Redis and PostgreSQL
// caches): a policy one daemon fetched is served by another without a second
// fetch, and a daemon restarted on the store keeps its policies.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import pg from "pg";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import type { CacheConfig } from "../../src/resolver/types.ts";
import { startLabResolver } from "./lab-resolver.ts";
import { pgUrl, redisUrl, serviceSkip } from "./services.ts";

let lab: Lab;
let dir: string;
before(async () => {
  lab = await startLab(scenario({ domain: "shared.test" }, { domain: "other.test" }));
  dir = mkdtempSync(join(tmpdir(), "mtasts-shared-"));
});
after(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const fetches = (domain: string) =>
  lab.policyHost.requests.filter((r) => r.host.startsWith(`mta-sts.${domain}`)).length;
const tag = randomBytes(4).toString("hex");

const stores: {
  name: string;
  skip: () => Promise<string | false>;
  cache: () => CacheConfig;
  cleanup: () => Promise<void>;
}[] = [
  {
    name: "sqlite",
    skip: async () => false,
    cache: () => ({ type: "sqlite", filename: join(dir, "shared.db"), timeoutMs: 5000 }),
    cleanup: async () => {},
  },
  {
    name: "redis",
    skip: () => serviceSkip("redis"),
    cache: () => ({ type: "redis", url: redisUrl(), prefix: `mtasts-test-${tag}:`, options: {} }),
    cleanup: async () => {
      const r = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
      await r.connect();
      const keys = await r.keys(`mtasts-test-${tag}:*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    },
  },
  {
    name: "postgres",
    skip: () => serviceSkip("postgres"),
    cache: () => ({
      type: "postgres",
      dsn: pgUrl(),
      table: `mtasts_test_${tag}`,
      timeoutMs: 5000,
      options: {},
    }),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      await c.query(`DROP TABLE IF EXISTS mtasts_test_${tag}, mtasts_test_${tag}_meta`);
      await c.end();
    },
  },
];

for (const store of stores) {
  describe(`a ${store.name} cache shared by two resolvers`, async () => {
    const skip = await store.skip();
    after(() => (skip ? undefined : store.cleanup()));

    test("a policy fetched by one daemon is served by the other without fetching", {
      skip,
    }, async () => {
      const a = await startLabResolver(lab, (c) => {
        c.cache = store.cache();
      });
      const b = await startLabResolver(lab, (c) => {
        c.cache = store.cache();
      });
      try {
        const before = fetches("shared.test");
        const secure = "OK secure match=mx1.shared.test servername=hostname";
        assert.equal(await a.ask("postfix", "shared.test"), secure);
        assert.equal(fetches("shared.test"), before + 1);
        assert.equal(await b.ask("postfix", "shared.test"), secure);
        assert.equal(fetches("shared.test"), before + 1, "b used a's policy from the store");
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test("a daemon restarted on the store answers from it", { skip }, async () => {
      const first = await startLabResolver(lab, (c) => {
        c.cache = store.cache();
      });
      assert.match(await first.ask("postfix", "other.test"), /^OK secure/);
      await first.close();
      const n = fetches("other.test");
      const second = await startLabResolver(lab, (c) => {
        c.cache = store.cache();
      });
      try {
        assert.match(
          await second.ask("postfix", "other.test"),
          /^OK secure match=mx1\.other\.test/,
        );
        assert.equal(fetches("other.test"), n);
      } finally {
        await second.close();
      }
    });
  });
}
