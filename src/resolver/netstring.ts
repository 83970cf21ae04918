// Netstrings (SM-NET-01..03): `<decimal byte length>:<bytes>,`. Pure: no I/O.

export type NetstringError = { error: "bad-length" | "too-long" | "bad-terminator" };

/** The netstring frame for `payload` as a string, ready for a utf8 socket write. */
export function frameNetstring(payload: string): string {
  return `${Buffer.byteLength(payload, "utf8")}:${payload},`;
}

/** The netstring for `payload`: length in UTF-8 bytes, shortest decimal (SM-NET-02). */
export function encodeNetstring(payload: string): Buffer {
  return Buffer.from(frameNetstring(payload), "utf8");
}

// More digits than this cannot be a sane length even with a few leading zeros,
// and waiting for the colon would let a peer stream digits forever.
const MAX_DIGITS = 10;

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

const S_LENGTH = 0;
const S_DATA = 1;
const S_TERMINATOR = 2;
const S_FAILED = 3;

const EMPTY = Buffer.alloc(0);

/**
 * Streaming decoder: {@link push} bytes as they arrive, then call {@link next}
 * until it returns null. Payloads that arrive whole are zero-copy views of the
 * pushed chunk, so a pushed Buffer must not be modified afterwards. An error is
 * returned once; after it the decoder returns null forever and the connection
 * is meant to be closed (SM-PMSR-12).
 *
 * {@link advance} is {@link next} without the view: the payload is left as
 * `source[start, end)`, for a server that decodes requests by the hundred
 * thousand a second and would otherwise allocate a Buffer object for each.
 */
export class NetstringDecoder {
  readonly maxLength: number;
  #buf: Buffer = EMPTY;
  #pos = 0;
  #state = S_LENGTH;
  #digits = 0;
  #length = 0;
  // Only used when a payload straddles chunks; whole payloads skip the copy.
  #partial: Buffer | null = null;
  #filled = 0;
  // Where the payload lies while its terminator is awaited.
  #payloadSource: Buffer = EMPTY;
  #payloadStart = 0;
  #payloadEnd = 0;
  /** After {@link advance} returned true: the payload is `source[start, end)`. */
  source: Buffer = EMPTY;
  start = 0;
  end = 0;

  constructor(options: { maxLength?: number } = {}) {
    this.maxLength = options.maxLength ?? Number.MAX_SAFE_INTEGER;
  }

  push(chunk: Buffer): void {
    if (this.#state === S_FAILED || chunk.length === 0) return;
    // Unconsumed bytes remain only when the caller stopped pulling (backpressure).
    if (this.#pos < this.#buf.length) {
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    } else {
      this.#buf = chunk;
    }
    this.#pos = 0;
  }

  /** True when bytes of an unfinished netstring are held. */
  get pending(): boolean {
    return (
      this.#state !== S_FAILED &&
      (this.#state !== S_LENGTH || this.#digits > 0 || this.#pos < this.#buf.length)
    );
  }

  /** The next complete payload, an error (once), or null when more bytes are needed. */
  next(): Buffer | NetstringError | null {
    const r = this.advance();
    return r === true ? this.source.subarray(this.start, this.end) : r;
  }

  /** True when the next payload is ready in `source[start, end)`; otherwise as {@link next}. */
  advance(): true | NetstringError | null {
    // Released at once, so an idle connection does not hold its last chunk.
    this.source = EMPTY;
    const buf = this.#buf;
    const end = buf.length;
    let pos = this.#pos;
    for (;;) {
      switch (this.#state) {
        case S_LENGTH: {
          for (;;) {
            if (pos >= end) {
              this.#pos = pos;
              return null;
            }
            const c = buf[pos++] as number;
            if (c === COLON) {
              if (this.#digits === 0) return this.#fail("bad-length");
              break;
            }
            if (c < ZERO || c > NINE || ++this.#digits > MAX_DIGITS) {
              return this.#fail("bad-length");
            }
            this.#length = this.#length * 10 + (c - ZERO);
            if (this.#length > this.maxLength) return this.#fail("too-long");
          }
          const len = this.#length;
          if (end - pos >= len) {
            this.#payloadSource = buf;
            this.#payloadStart = pos;
            this.#payloadEnd = pos + len;
            pos += len;
            this.#state = S_TERMINATOR;
          } else {
            this.#partial = Buffer.allocUnsafe(len);
            this.#filled = buf.copy(this.#partial, 0, pos, end);
            pos = end;
            this.#state = S_DATA;
          }
          break;
        }
        case S_DATA: {
          const partial = this.#partial as Buffer;
          const want = partial.length - this.#filled;
          const take = Math.min(want, end - pos);
          buf.copy(partial, this.#filled, pos, pos + take);
          this.#filled += take;
          pos += take;
          if (take < want) {
            this.#pos = pos;
            return null;
          }
          this.#payloadSource = partial;
          this.#payloadStart = 0;
          this.#payloadEnd = partial.length;
          this.#partial = null;
          this.#state = S_TERMINATOR;
          break;
        }
        case S_TERMINATOR: {
          if (pos >= end) {
            this.#pos = pos;
            return null;
          }
          if (buf[pos++] !== COMMA) return this.#fail("bad-terminator");
          this.source = this.#payloadSource;
          this.start = this.#payloadStart;
          this.end = this.#payloadEnd;
          this.#payloadSource = EMPTY;
          this.#state = S_LENGTH;
          this.#digits = 0;
          this.#length = 0;
          if (pos >= end) {
            // Drop the reference so a finished chunk can be collected.
            this.#buf = EMPTY;
            this.#pos = 0;
          } else {
            this.#pos = pos;
          }
          return true;
        }
        default:
          return null;
      }
    }
  }

  #fail(error: NetstringError["error"]): NetstringError {
    this.#state = S_FAILED;
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#partial = null;
    this.#payloadSource = EMPTY;
    return { error };
  }
}
