// `npm pack` must yield a package that installs into another folder and runs
// there: Node does not strip types under node_modules, so it ships dist/ JS.
// Installs offline from npm's cache (filled by `npm ci`), never the network:
// the probe app gets a lock file holding our runtime dependencies exactly as
// the repo's lock pins them, because an unlocked install needs registry
// metadata that `npm ci` never caches.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
  const spec = `file:../${tarball}`;
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "pack-probe", private: true, dependencies: { mtasts: spec } }),
  );
  writeFileSync(join(app, "package-lock.json"), JSON.stringify(probeLock(spec)));
  sh("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--silent"], app);
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

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
}

/** A lock for the probe app: the packed tarball plus the repo's non-dev entries. */
function probeLock(spec: string) {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const root = lock.packages[""] as LockEntry;
  const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  const packages: Record<string, unknown> = {
    "": { name: "pack-probe", dependencies: { mtasts: spec } },
    "node_modules/mtasts": {
      version: manifest.version,
      resolved: spec,
      dependencies: root.dependencies,
      bin: manifest.bin,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key !== "" && !entry.dev && !entry.devOptional) packages[key] = entry;
  }
  return { name: "pack-probe", lockfileVersion: 3, requires: true, packages };
}
