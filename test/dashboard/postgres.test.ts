// The dashboard's own queries on PostgreSQL: the domain overview and the
// domain list over HTTP equal the store's summary, as on SQLite. Skipped off
// CI when PostgreSQL does not answer (test/resolver/services.ts).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { postgres } from "../reports/backends.ts";
import { json, NOW, type Served, serve } from "./fixture.ts";

const DAY = 86_400_000;
const skip = await postgres.skip();
let s: Served;

before(async () => {
  if (skip === false) s = await serve({ backend: postgres, generated: 400 });
});
after(() => s?.close());

test("PostgreSQL: the domain overview API equals the store's summary", {
  skip,
  timeout: 60_000,
}, async () => {
  const domain = "d3.example";
  const res = await fetch(`${s.url}/api/domains/${domain}/overview?days=30`, {
    headers: { authorization: `Bearer ${s.tokens.reader}` },
  });
  assert.equal(res.status, 200);
  const o = await json(res);
  const filter = { domain, since: new Date(NOW.getTime() - 30 * DAY), until: NOW };
  const byDay = await s.store.summary(filter, "day");
  assert.ok(byDay.reports > 0);
  assert.deepEqual(o.total, { ...byDay.total, reports: byDay.reports });
  assert.deepEqual(
    o.days.map((d: { day: string; successful: number; failed: number }) => [
      d.day,
      d.successful,
      d.failed,
    ]),
    byDay.rows.map((r) => [r.key, r.successful, r.failed]),
  );
  const byMx = await s.store.summary(filter, "mx");
  assert.deepEqual(
    o.byMx,
    byMx.rows.map((r) => ({ key: r.key, reports: r.reports, failed: r.failed })),
  );
  const list = await json(
    fetch(`${s.url}/api/domains`, { headers: { authorization: `Bearer ${s.tokens.reader}` } }),
  );
  const row = list.domains.find((d: { domain: string }) => d.domain === domain);
  assert.deepEqual({ successful: row.last30.successful, failed: row.last30.failed }, byDay.total);
});
