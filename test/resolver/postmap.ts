// Postfix's own client for our daemon: `postmap -q KEY socketmap:…`. It runs
// with a private, empty configuration directory, so the host's main.cf (or
// its absence) never changes what the tests see.

import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
let configDir: string | undefined;

export interface PostmapResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function postmapQuery(key: string, map: string): Promise<PostmapResult> {
  if (configDir === undefined) {
    configDir = mkdtempSync(join(tmpdir(), "mtasts-postfix-"));
    writeFileSync(join(configDir, "main.cf"), "");
  }
  try {
    const r = await run("postmap", ["-c", configDir, "-q", key, map], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & {
      code: number | string;
      stdout: string;
      stderr: string;
    };
    if (e.code === "ENOENT")
      throw new Error("postmap not found: install Debian's postfix (apt-get install postfix)");
    return { code: Number(e.code), stdout: e.stdout, stderr: e.stderr };
  }
}
