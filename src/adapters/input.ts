// Reads what a command was pointed at (a file or standard input) with a hard
// byte cap, so a huge or endless input can never exhaust memory.

import { open } from "node:fs/promises";

export type ReadResult =
  | { ok: true; bytes: Uint8Array /** more bytes existed past the cap */; truncated: boolean }
  | { ok: false; error: string };

/**
 * Reads up to `maxBytes + 1` bytes, so the caller's parser can tell
 * "exactly at the limit" from "over it" without holding the whole input.
 */
export async function readInput(source: string, maxBytes: number): Promise<ReadResult> {
  if (source === "-") return readStream(process.stdin, maxBytes, "standard input");
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(source, "r");
  } catch (err) {
    return { ok: false, error: describeOpenError(source, err) };
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) return { ok: false, error: `${source} is a directory, not a file` };
    const cap = maxBytes + 1;
    const buf = new Uint8Array(cap);
    let filled = 0;
    while (filled < cap) {
      const { bytesRead } = await handle.read(buf, filled, cap - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return {
      ok: true,
      bytes: buf.subarray(0, Math.min(filled, maxBytes + 1)),
      truncated: filled > maxBytes,
    };
  } catch (err) {
    return { ok: false, error: `cannot read ${source}: ${errorText(err)}` };
  } finally {
    await handle.close().catch(() => {});
  }
}

async function readStream(
  stream: NodeJS.ReadableStream,
  maxBytes: number,
  name: string,
): Promise<ReadResult> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const bytes =
        typeof chunk === "string" ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
      chunks.push(bytes);
      total += bytes.length;
      // Stop pulling as soon as we know the input is over the cap.
      if (total > maxBytes) break;
    }
  } catch (err) {
    return { ok: false, error: `cannot read ${name}: ${errorText(err)}` };
  }
  const joined = Buffer.concat(chunks, total);
  const keep = Math.min(total, maxBytes + 1);
  return {
    ok: true,
    bytes: new Uint8Array(joined.buffer, joined.byteOffset, keep),
    truncated: total > maxBytes,
  };
}

function describeOpenError(source: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT")
    return `${source}: no such file (give a path, or - to read standard input)`;
  if (code === "EACCES" || code === "EPERM") return `${source}: permission denied`;
  if (code === "EISDIR") return `${source} is a directory, not a file`;
  return `cannot open ${source}: ${errorText(err)}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
