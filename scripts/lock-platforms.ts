// Some registries (mirrors) carry only this platform's native binaries, so
// `npm install` leaves other platforms' optional packages out of the lock file
// and `npm ci` then refuses it. This adds the missing entries, marked for
// their os/cpu so npm skips them here. Run `npm run lock:fix` after changing deps.

import { readFileSync, writeFileSync } from "node:fs";

type Entry = Record<string, unknown> & {
  version?: string;
  optionalDependencies?: Record<string, string>;
};
const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, Entry> };

/** `@scope/cli-<os>-<cpu>[-musl]` → platform fields npm uses to skip a package. */
function platformOf(name: string): Entry | null {
  const m = /-(android|darwin|linux|win32|freebsd)-(arm64|x64|arm|ia32)(-musl)?$/.exec(name);
  if (!m) return null;
  const entry: Entry = { os: [m[1]], cpu: [m[2]] };
  if (m[1] === "linux") entry.libc = [m[3] ? "musl" : "glibc"];
  return entry;
}

const added: string[] = [];
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (depKey in lock.packages) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    lock.packages[depKey] = { version: range, dev: entry.dev, optional: true, ...platform };
    added.push(`${dep} (for ${key})`);
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  added.length > 0
    ? `added ${added.length} platform entries:\n  ${added.join("\n  ")}`
    : "lock file complete",
);
