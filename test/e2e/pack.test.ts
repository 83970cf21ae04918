// `npm pack` must yield a package that installs into another folder and runs
// there: Node does not strip types under node_modules, so it ships dist/ JS.
// Installs offline from npm's cache (filled by `npm ci`), never the network.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const repo = new URL("../../", import.meta.url).pathname;

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 240_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("npm pack installs into another folder and runs `mtasts --help` there", {
  timeout: 300_000,
}, () => {
  const work = mkdtempSync(join(tmpdir(), "mtasts-pack-"));
  sh("npm", ["pack", "--silent", "--pack-destination", work], repo);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");
  const app = join(work, "app");
  sh("mkdir", ["-p", app], work);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "pack-probe", private: true }));
  sh(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--silent", join(work, tarball)],
    app,
  );
  const installed = join(app, "node_modules", "mtasts");
  assert.deepEqual(
    readdirSync(installed).filter((f) => f === "src"),
    [],
    "the package ships built JS, not TypeScript sources",
  );
  const help = sh(join(app, "node_modules", ".bin", "mtasts"), ["--help"], app);
  assert.match(help, /mtasts validate/);
  const policy = join(repo, "examples", "mta-sts.txt");
  const out = sh(
    join(app, "node_modules", ".bin", "mtasts"),
    ["validate", "policy", "--json", policy],
    app,
  );
  assert.equal(JSON.parse(out).valid, true);
});
