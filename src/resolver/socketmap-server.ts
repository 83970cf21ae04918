// The Postfix socketmap listener (SM-PROTO-*, SM-PMSR-11..13): netstring
// requests in, lookup replies out in request order. Policy logic is injected.

import { isAscii, isUtf8 } from "node:buffer";
import { chmod, lstat, unlink } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { frameNetstring, NetstringDecoder } from "./netstring.ts";
import type { ListenConfig, SocketmapLookup } from "./types.ts";

export type ConnectionCloseReason = "client" | "idle" | "bad-request" | "error" | "shutdown";

export type ServerEvent =
  | { type: "connection-open" }
  | { type: "connection-close"; reason: ConnectionCloseReason }
  /** Refused because `maxConnections` are already open. */
  | { type: "connection-refused"; reason: "max-connections"; remote: string }
  /**
   * `closed`: a broken netstring ends the connection (SM-PMSR-12); a well-formed
   * one that is not UTF-8 or has no space is answered `NOTFOUND␠` (SM-WEAK-10).
   */
  | {
      type: "bad-request";
      reason: "bad-length" | "too-long" | "bad-terminator" | "invalid-utf8" | "no-space";
      closed: boolean;
      remote: string;
    }
  | { type: "lookup-error"; error: unknown }
  | { type: "request"; zone: string; key: string; reply: string; ms: number };

export interface SocketmapServerOptions {
  listen: ListenConfig;
  lookup: SocketmapLookup;
  /** Largest request payload accepted (SM-NET-03; PMSR: 1024). */
  maxRequestBytes?: number;
  /** Close a connection after this long without a complete request; 0 = never. */
  idleTimeoutMs?: number;
  maxConnections?: number;
  /** Unanswered requests per connection before reading pauses (SM-PMSR-11). */
  maxPending?: number;
  onEvent?: (e: ServerEvent) => void;
  /**
   * Also emit a `request` event for every answer (default true). The daemon
   * turns it off: its metrics come from the lookup, and on the hot path a
   * clock read and an event object per request are a measurable share.
   */
  requestEvents?: boolean;
}

export interface SocketmapServer {
  address(): { host: string; port: number } | { path: string };
  connections(): number;
  /**
   * Stop accepting, let requests already received be answered for up to
   * `graceMs`, then cut what remains. Resolves when every socket is closed.
   */
  close(graceMs: number): Promise<void>;
}

const NOTFOUND = "NOTFOUND ";
// The commonest reply by far (most destinations publish no policy), framed once.
const NOTFOUND_FRAME = frameNetstring(NOTFOUND);
const TEMP_INTERNAL = "TEMP internal error";
const SPACE = 0x20;
// Reclaim the consumed head of a reply queue that never empties completely.
const QUEUE_COMPACT = 1024;

/** An answer still being looked up; `reply` is set when it settles. */
interface Slot {
  reply: string | null;
}

interface Shared {
  lookup: SocketmapLookup;
  maxRequestBytes: number;
  maxPending: number;
  onEvent: ((e: ServerEvent) => void) | undefined;
  /** `onEvent` when request events are wanted, else undefined. */
  onRequest: ((e: ServerEvent) => void) | undefined;
  /** Coarse clock for idle detection, advanced by one sweep timer. */
  tick: number;
  connections: Set<Connection>;
}

/** Whether `source[start, end)` holds exactly the bytes of `known`. */
function sameBytes(known: Buffer | null, source: Buffer, start: number, end: number): boolean {
  if (known === null || known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (source[start + i] !== known[i]) return false;
  return true;
}

function remoteOf(socket: Socket): string {
  const addr = socket.remoteAddress;
  return addr === undefined ? "unix" : `${addr}:${socket.remotePort}`;
}

class Connection {
  readonly socket: Socket;
  readonly shared: Shared;
  readonly decoder: NetstringDecoder;
  /** Replies not yet written, in request order: strings are ready, slots may be. */
  queue: (string | Slot)[] = [];
  head = 0;
  lastTick: number;
  /** No further requests are taken; the socket ends once the queue is written. */
  closing = false;
  /** The peer shut down its side; requests already received are still answered. */
  eof = false;
  ended = false;
  closeReason: ConnectionCloseReason | null = null;
  fullPause = false;
  writePause = false;
  flushScheduled = false;
  // split()'s results and memory: the chunk last checked for non-ASCII bytes,
  // and the previous request's zone (as text and as bytes).
  checked: Buffer | null = null;
  ascii = false;
  zone = "";
  /** null: `zone` was not decoded from ASCII bytes and is not reused. */
  zoneBytes: Buffer | null = null;
  bad: "invalid-utf8" | "no-space" = "no-space";

  constructor(socket: Socket, shared: Shared) {
    this.socket = socket;
    this.shared = shared;
    this.decoder = new NetstringDecoder({ maxLength: shared.maxRequestBytes });
    this.lastTick = shared.tick;
  }

  onData(chunk: Buffer): void {
    if (this.closing) return;
    this.decoder.push(chunk);
    if (!this.fullPause) this.pump();
  }

  /** Decodes and answers buffered requests until the data or the queue room runs out. */
  pump(): void {
    const shared = this.shared;
    const lookup = shared.lookup;
    const onEvent = shared.onEvent;
    const maxPending = shared.maxPending;
    let out = "";
    let requests = 0;
    while (!this.closing) {
      if (this.queue.length - this.head >= maxPending) {
        this.fullPause = true;
        this.socket.pause();
        break;
      }
      const decoder = this.decoder;
      const status = decoder.advance();
      if (status === null) {
        // After the peer's EOF nothing can complete what is left (SM-PROTO-04 reconnects).
        if (this.eof) {
          this.closing = true;
          this.closeReason ??= "client";
        }
        break;
      }
      if (status !== true) {
        onEvent?.({
          type: "bad-request",
          reason: status.error,
          closed: true,
          remote: remoteOf(this.socket),
        });
        this.closing = true;
        this.closeReason ??= "bad-request";
        break;
      }
      requests++;
      let reply: string;
      const key = this.split(decoder.source, decoder.start, decoder.end);
      if (key === null) {
        onEvent?.({
          type: "bad-request",
          reason: this.bad,
          closed: false,
          remote: remoteOf(this.socket),
        });
        reply = NOTFOUND;
      } else {
        const zone = this.zone;
        const onRequest = shared.onRequest;
        const started = onRequest === undefined ? 0 : performance.now();
        let result: string | Promise<string>;
        try {
          result = lookup(zone, key);
        } catch (error) {
          onEvent?.({ type: "lookup-error", error });
          result = TEMP_INTERNAL;
        }
        if (typeof result === "string") {
          reply = result;
          if (onRequest !== undefined) {
            onRequest({ type: "request", zone, key, reply, ms: performance.now() - started });
          }
        } else {
          this.queue.push(this.track(result, zone, key, started));
          continue;
        }
      }
      if (this.head === this.queue.length)
        out += reply === NOTFOUND ? NOTFOUND_FRAME : frameNetstring(reply);
      else this.queue.push(reply);
    }
    this.checked = null;
    if (requests > 0) this.lastTick = shared.tick;
    if (out !== "") this.write(out);
    if (this.closing) this.endIfDone();
  }

  /**
   * The key of the request in `source[start, end)`, with its zone left in
   * `zone`; null when it is unusable, with the reason in `bad` (SM-WEAK-10).
   * Zone and key are decoded as two flat strings straight from the bytes:
   * slices of one decoded request would make every hash and compare of the
   * key (the cache's map keys) walk the slice, and at full load that was a
   * tenth of the daemon's time. The zone is nearly always the previous
   * request's, so its bytes are compared before anything is decoded.
   */
  split(source: Buffer, start: number, end: number): string | null {
    // Searched within the request only: indexOf would run on through the rest
    // of the chunk, and a chunk of space-less requests would cost its square.
    let space = -1;
    for (let i = start; i < end; i++) {
      if (source[i] === SPACE) {
        space = i;
        break;
      }
    }
    if (source !== this.checked) {
      this.checked = source;
      this.ascii = isAscii(source);
    }
    if (!this.ascii && !isUtf8(source.subarray(start, end))) {
      this.bad = "invalid-utf8";
      return null;
    }
    // A space byte is a space character in UTF-8 too: no multi-byte sequence holds one.
    if (space === -1) {
      this.bad = "no-space";
      return null;
    }
    if (!this.ascii) {
      this.zone = source.toString("utf8", start, space);
      this.zoneBytes = null;
    } else if (!sameBytes(this.zoneBytes, source, start, space)) {
      this.zone = source.toString("latin1", start, space);
      this.zoneBytes = Buffer.from(source.subarray(start, space));
    }
    return source.toString(this.ascii ? "latin1" : "utf8", space + 1, end);
  }

  track(result: Promise<string>, zone: string, key: string, started: number): Slot {
    const slot: Slot = { reply: null };
    const settle = (reply: string): void => {
      slot.reply = reply;
      const onRequest = this.shared.onRequest;
      if (onRequest !== undefined) {
        onRequest({ type: "request", zone, key, reply, ms: performance.now() - started });
      }
      // Lookups settling in the same tick share one write.
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    };
    Promise.resolve(result).then(
      (value) => {
        if (typeof value === "string") return settle(value);
        this.shared.onEvent?.({
          type: "lookup-error",
          error: new TypeError("lookup returned no string"),
        });
        settle(TEMP_INTERNAL);
      },
      (error: unknown) => {
        this.shared.onEvent?.({ type: "lookup-error", error });
        settle(TEMP_INTERNAL);
      },
    );
    return slot;
  }

  /** Writes the ready replies at the head of the queue, in order. */
  flush(): void {
    this.flushScheduled = false;
    if (this.socket.destroyed) return;
    const queue = this.queue;
    let head = this.head;
    let out = "";
    while (head < queue.length) {
      const item = queue[head] as string | Slot;
      if (typeof item === "string") out += frameNetstring(item);
      else if (item.reply !== null) out += frameNetstring(item.reply);
      else break;
      head++;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head >= QUEUE_COMPACT) {
      queue.splice(0, head);
      head = 0;
    }
    this.head = head;
    if (out !== "") this.write(out);
    if (this.fullPause && queue.length - head < this.shared.maxPending) {
      this.fullPause = false;
      // Requests held in the decoder while paused count as activity now.
      this.pump();
      if (!this.fullPause && !this.writePause) this.socket.resume();
    }
    if (this.closing) this.endIfDone();
  }

  write(out: string): void {
    if (this.socket.destroyed) return;
    if (!this.socket.write(out) && !this.writePause) {
      // A peer that does not read its replies must not make us buffer without bound.
      this.writePause = true;
      this.socket.pause();
      this.socket.once("drain", () => {
        this.writePause = false;
        if (!this.fullPause && !this.closing) this.socket.resume();
      });
    }
  }

  /** Ends the socket once every queued reply is written. */
  endIfDone(): void {
    if (this.ended || this.head !== this.queue.length) return;
    this.ended = true;
    const socket = this.socket;
    if (socket.destroyed) return;
    // Keep consuming so unread input cannot turn our close into a reset that
    // discards the replies just written.
    socket.resume();
    socket.end(() => socket.destroy());
  }

  /** Stops taking requests: no more are decoded, and the connection ends when its replies are out. */
  stop(reason: ConnectionCloseReason): void {
    this.closeReason ??= reason;
    this.closing = true;
    this.lastTick = this.shared.tick;
    this.endIfDone();
  }

  onEnd(): void {
    this.eof = true;
    if (!this.fullPause && !this.closing) this.pump();
  }
}

/** Starts listening; rejects when the address cannot be bound. */
export async function startSocketmapServer(
  options: SocketmapServerOptions,
): Promise<SocketmapServer> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const shared: Shared = {
    lookup: options.lookup,
    maxRequestBytes: options.maxRequestBytes ?? 1024,
    maxPending: Math.max(1, options.maxPending ?? 128),
    onEvent: options.onEvent,
    onRequest: options.requestEvents === false ? undefined : options.onEvent,
    tick: 0,
    connections: new Set(),
  };
  const onEvent = options.onEvent;
  const listen = options.listen;

  // allowHalfOpen: a client that sends its requests and then shuts down its
  // side still gets every answer (PMSR answers all queued requests on EOF).
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  server.maxConnections = options.maxConnections ?? 10_000;
  server.on("drop", (data) => {
    onEvent?.({
      type: "connection-refused",
      reason: "max-connections",
      remote:
        data?.remoteAddress === undefined ? "unix" : `${data.remoteAddress}:${data.remotePort}`,
    });
  });
  server.on("connection", (socket) => {
    const conn = new Connection(socket, shared);
    shared.connections.add(conn);
    onEvent?.({ type: "connection-open" });
    socket.on("data", (chunk: Buffer) => conn.onData(chunk));
    socket.on("end", () => conn.onEnd());
    socket.on("error", () => {
      conn.closeReason ??= "error";
    });
    socket.on("close", () => {
      shared.connections.delete(conn);
      onEvent?.({ type: "connection-close", reason: conn.closeReason ?? "client" });
    });
  });

  let sweep: NodeJS.Timeout | undefined;
  if (idleTimeoutMs > 0 && Number.isFinite(idleTimeoutMs)) {
    const interval = Math.max(10, Math.min(1000, Math.floor(idleTimeoutMs / 4)));
    const ticks = Math.ceil(idleTimeoutMs / interval);
    sweep = setInterval(() => {
      const now = ++shared.tick;
      for (const conn of shared.connections) {
        if (conn.closing) {
          // Its peer neither reads the last replies nor closes (or a lookup hangs).
          if (now - conn.lastTick >= ticks) conn.socket.destroy();
        } else if (conn.head !== conn.queue.length) {
          // Waiting for its own answers is not idleness.
          conn.lastTick = now;
        } else if (now - conn.lastTick >= ticks) {
          conn.stop("idle");
        }
      }
    }, interval);
    sweep.unref();
  }

  let unixSocket: { path: string; ino: number } | null = null;
  try {
    if (listen.kind === "tcp") {
      await listenTcp(server, listen.host, listen.port, listen.reusePort);
    } else {
      await removeStaleSocket(listen.path);
      await listenOn(server, { path: listen.path });
      unixSocket = { path: listen.path, ino: (await lstat(listen.path)).ino };
      if (listen.mode !== null) await chmod(listen.path, listen.mode);
    }
  } catch (error) {
    if (sweep !== undefined) clearInterval(sweep);
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }

  let closing: Promise<void> | null = null;
  return {
    address() {
      if (listen.kind === "unix") return { path: listen.path };
      const addr = server.address();
      if (addr === null || typeof addr === "string")
        return { host: listen.host, port: listen.port };
      return { host: addr.address, port: addr.port };
    },
    connections() {
      return shared.connections.size;
    },
    close(graceMs: number) {
      closing ??= (async () => {
        if (sweep !== undefined) clearInterval(sweep);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const conn of shared.connections) conn.stop("shutdown");
        let timer: NodeJS.Timeout | undefined;
        if (shared.connections.size > 0) {
          timer = setTimeout(
            () => {
              for (const conn of shared.connections) conn.socket.destroy();
            },
            Math.max(0, graceMs),
          );
        }
        await closed;
        if (timer !== undefined) clearTimeout(timer);
        if (unixSocket !== null) await removeOwnSocket(unixSocket.path, unixSocket.ino);
      })();
      return closing;
    },
  };
}

function listenOn(server: Server, opts: Parameters<Server["listen"]>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(opts, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

async function listenTcp(
  server: Server,
  host: string,
  port: number,
  reusePort: boolean,
): Promise<void> {
  if (!reusePort) return listenOn(server, { host, port });
  try {
    await listenOn(server, { host, port, reusePort: true });
  } catch (error) {
    // SO_REUSEPORT is an optimisation for restarts; a platform without it still serves.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ERR_INVALID_ARG_VALUE")
      throw error;
    await listenOn(server, { host, port });
  }
}

/**
 * Clears the way for a unix socket: a socket file nobody accepts on is a
 * leftover of a dead server; anything else at the path is not ours to remove.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (!stat.isSocket()) {
    throw new Error(`socketmap listen path ${path} exists and is not a socket; not replacing it`);
  }
  const alive = await new Promise<boolean>((resolve, reject) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", (error: NodeJS.ErrnoException) => {
      // Only a refusal proves nobody listens; EACCES and the like prove nothing.
      if (error.code === "ECONNREFUSED" || error.code === "ENOENT") resolve(false);
      else reject(error);
    });
  });
  if (alive) {
    const error: NodeJS.ErrnoException = new Error(
      `socketmap listen path ${path} is in use by a running server`,
    );
    error.code = "EADDRINUSE";
    throw error;
  }
  await unlink(path);
}

/** Removes the socket file we bound, unless a newer server has already replaced it. */
async function removeOwnSocket(path: string, ino: number): Promise<void> {
  try {
    const stat = await lstat(path);
    if (stat.isSocket() && stat.ino === ino) await unlink(path);
  } catch {
    // Already gone: libuv may unlink it when the listener closes.
  }
}
