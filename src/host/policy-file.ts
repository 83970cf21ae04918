// Reading one policy file: bounded (STS-FETCH-07), with a signature of the
// file's identity and version so an unchanged file is not read again.

import type { Stats } from "node:fs";
import { open } from "node:fs/promises";
import { MAX_POLICY_BYTES } from "../core/policy.ts";

export type Read = { bytes: Buffer; seen: string } | { error: string; missing: boolean };

/** Reads at most MAX_POLICY_BYTES + 1 bytes (STS-FETCH-07: a bigger file is refused, not truncated). */
export async function readPolicy(file: string): Promise<Read> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const st = await handle.stat({ bigint: false });
    if (!st.isFile()) return { error: "not a regular file", missing: false };
    if (st.size > MAX_POLICY_BYTES)
      return {
        error: `${st.size} bytes; a policy must be at most ${MAX_POLICY_BYTES} bytes (STS-FETCH-07: senders refuse larger ones)`,
        missing: false,
      };
    const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_POLICY_BYTES)
        return { error: `larger than ${MAX_POLICY_BYTES} bytes`, missing: false };
    }
    return { bytes: Buffer.from(buf.subarray(0, n)), seen: signature(st, n) };
  } catch (err) {
    const c = errorCode(err);
    return { error: `cannot read: ${c}`, missing: c === "ENOENT" };
  } finally {
    await handle?.close();
  }
}

function signature(st: Stats, size: number): string {
  return `${st.ino}:${st.mtimeMs}:${st.ctimeMs}:${size}`;
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? String(err);
}
