// The policy directory `mtasts host --policies DIR` serves: one file per
// domain, `DIR/<domain>.txt`. Writes go to a temporary file in the same
// directory and are renamed over the old one, so the host (which reloads on
// change) never reads half a policy.

import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PolicyFiles } from "./types.ts";

/** Policy files are small; anything bigger in the directory is not ours to read whole. */
const MAX_READ = 1 << 20;

export function policyDirectory(dir: string): PolicyFiles {
  const path = (domain: string) => join(dir, `${domain}.txt`);
  return {
    path,
    read: async (domain) => {
      try {
        const text = await readFile(path(domain), "utf8");
        return text.length > MAX_READ ? text.slice(0, MAX_READ) : text;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    write: async (domain, text) => {
      const tmp = join(dir, `.${domain}.txt.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await writeFile(tmp, text, { mode: 0o644, flush: true });
        await rename(tmp, path(domain));
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    },
  };
}
