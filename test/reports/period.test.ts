// --since / --until / --keep values: durations back from now and ISO dates.

import assert from "node:assert/strict";
import { test } from "node:test";
import { durationMs, pointInTime } from "../../src/cli/reports-period.ts";

const now = new Date("2026-06-15T12:00:00Z");

test("durations: s m h d w, whole numbers only", () => {
  assert.equal(durationMs("30d"), 30 * 86_400_000);
  assert.equal(durationMs("12h"), 12 * 3_600_000);
  assert.equal(durationMs("2w"), 14 * 86_400_000);
  assert.equal(durationMs("400d"), 400 * 86_400_000);
  for (const bad of ["", "d", "1.5d", "-3d", "3 days", "3y", "99999999d"]) {
    assert.equal(durationMs(bad), null, bad);
  }
});

test("points in time: a duration back from now, a date (UTC midnight), a date-time", () => {
  assert.equal(pointInTime("30d", now)?.toISOString(), "2026-05-16T12:00:00.000Z");
  assert.equal(pointInTime("2025-05-01", now)?.toISOString(), "2025-05-01T00:00:00.000Z");
  assert.equal(pointInTime("2025-05-01T08:30:00Z", now)?.toISOString(), "2025-05-01T08:30:00.000Z");
  assert.equal(
    pointInTime("2025-05-01T08:30", now)?.toISOString(),
    "2025-05-01T08:30:00.000Z",
    "no offset is UTC",
  );
  assert.equal(
    pointInTime("2025-05-01T08:30:00+02:00", now)?.toISOString(),
    "2025-05-01T06:30:00.000Z",
  );
  for (const bad of [
    "yesterday",
    "2025-02-30",
    "2025-13-01",
    "05/01/2025",
    "2025-05-01T25:00:00Z",
  ]) {
    assert.equal(pointInTime(bad, now), null, bad);
  }
});
