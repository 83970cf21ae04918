// `npm start` is one of the two commands the README promises work on a fresh
// machine: run it as CI would (no terminal) and check it tours every part and
// ends on a dashboard that answered a logged-in request.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";

const root = new URL("../..", import.meta.url).pathname;

test("npm start's offline demo runs every tour and ends on the dashboard with a login", {
  timeout: 120_000,
}, async () => {
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      ["scripts/demo.ts"],
      { cwd: root, timeout: 110_000, env: { ...process.env, NO_COLOR: "1" } },
      (err, stdout) =>
        resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout }),
    );
  });
  assert.equal(code, 0, stdout.slice(-2000));
  assert.match(stdout, /\$ mtasts check expired\.test/);
  assert.match(stdout, /socketmap:inet:/);
  assert.match(stdout, /\$ mtasts validate report examples\/report\.eml/);
  assert.match(stdout, /90 TLS-RPT reports \(30 days, 3 reporters\) ingested/);
  assert.match(stdout, /Open http:\/\/127\.0\.0\.1:\d+\/ and log in as demo \/ \S{12}/);
  assert.match(stdout, /the overview answered 200/);
});
