// Reads a POST body under two caps without ever holding more than the first:
// the bytes as sent (kept, up to `maxBytes`) and, when they are gzip, what
// they inflate to (counted while they arrive and thrown away, up to
// `maxInflatedBytes`). A gzip bomb therefore stops at the cap after a few
// zlib chunks, and an oversize upload stops at the cap, not at its end.
//
// On "too large" the stream is left paused, not destroyed: the caller still
// answers 413 on the same connection, and destroying the request would take
// the socket (and the answer) down with it.

import type { Readable } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";

export interface BodyLimits {
  maxBytes: number;
  maxInflatedBytes: number;
}

export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "too-large"; detail: string }
  /** The client went away or the connection broke before the body ended. */
  | { ok: false; reason: "aborted"; detail: string };

export function readCappedBody(stream: Readable, limits: BodyLimits): Promise<BodyResult> {
  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let ended = false;
    const meter = new InflateMeter(limits.maxInflatedBytes);
    const inflatedTooLarge = (): BodyResult => ({
      ok: false,
      reason: "too-large",
      detail: `gzip body inflates to over ${limits.maxInflatedBytes} bytes`,
    });

    const finish = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
      if (!result.ok) {
        meter.stop();
        stream.pause();
      }
      resolve(result);
    };

    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        finish({ ok: false, reason: "too-large", detail: `body over ${limits.maxBytes} bytes` });
        return;
      }
      chunks.push(chunk);
      const first = size === chunk.length;
      if (!first && !meter.active) return;
      // zlib works off the main thread: hold the upload until it has caught up.
      stream.pause();
      meter.feed(chunk, first).then(
        () => {
          if (meter.over) finish(inflatedTooLarge());
          else if (!settled) stream.resume();
        },
        () => {
          if (!settled) stream.resume();
        },
      );
    };

    const onEnd = (): void => {
      ended = true;
      meter.finish().then(() => {
        if (meter.over) {
          finish(inflatedTooLarge());
          return;
        }
        const bytes = Buffer.concat(chunks, size);
        finish({ ok: true, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) });
      });
    };
    const onError = (err: Error): void =>
      finish({ ok: false, reason: "aborted", detail: err.message });
    // 'close' follows 'end' at once, while the meter may still be finishing.
    const onClose = (): void => {
      if (!ended) finish({ ok: false, reason: "aborted", detail: "connection closed" });
    };

    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

/**
 * Counts the inflated size of a gzip stream. Not gzip, or gzip zlib cannot
 * read: the meter goes quiet and ingest judges the bytes (a corrupt or
 * truncated report is quarantined there with its own reason).
 */
class InflateMeter {
  readonly cap: number;
  active = false;
  over = false;
  inflated = 0;
  gunzip: Gunzip | null = null;
  /** The first byte, held until the second says whether this is gzip. */
  pending: Buffer | null = null;
  done: Promise<void> = Promise.resolve();

  constructor(cap: number) {
    this.cap = cap;
  }

  async feed(chunk: Buffer, first: boolean): Promise<void> {
    let data = chunk;
    if (first || this.pending) {
      data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
      this.pending = null;
      if (data.length < 2) {
        this.pending = data;
        this.active = true;
        return;
      }
      if (data[0] !== 0x1f || data[1] !== 0x8b) {
        this.active = false;
        return;
      }
      this.start();
    }
    const gunzip = this.gunzip;
    if (!gunzip || !this.active) return;
    if (!gunzip.write(data)) {
      await new Promise<void>((resolve) => {
        const settle = () => {
          gunzip.off("drain", settle);
          gunzip.off("close", settle);
          resolve();
        };
        gunzip.on("drain", settle);
        gunzip.on("close", settle);
      });
    }
  }

  start(): void {
    const gunzip = createGunzip();
    this.gunzip = gunzip;
    this.active = true;
    this.done = new Promise<void>((resolve) => {
      gunzip.on("data", (out: Buffer) => {
        this.inflated += out.length;
        if (this.inflated > this.cap) {
          this.over = true;
          this.stop();
        }
      });
      gunzip.on("error", () => {
        // Corrupt or truncated: no longer measurable, and ingest will say why.
        this.active = false;
        resolve();
      });
      gunzip.on("end", resolve);
      gunzip.on("close", resolve);
    });
  }

  async finish(): Promise<void> {
    if (!this.gunzip || !this.active) return;
    this.gunzip.end();
    await this.done;
  }

  stop(): void {
    this.active = false;
    this.gunzip?.destroy();
  }
}
