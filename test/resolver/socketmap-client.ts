// A minimal socketmap client for tests: what Postfix's dict_sockmap does,
// plus raw writes for malformed input.

import { connect, type Socket } from "node:net";
import { encodeNetstring, NetstringDecoder } from "../../src/resolver/netstring.ts";

export type SocketmapTarget = { host: string; port: number } | { path: string };

export interface SocketmapClient {
  readonly socket: Socket;
  /** Sends one request and resolves with its reply payload. */
  request(zone: string, key: string): Promise<string>;
  /** Writes bytes as they are: fragments, garbage, several netstrings at once. */
  send(raw: Buffer | string): void;
  /** The next `n` reply payloads; rejects on timeout, EOF or a malformed reply. */
  readReplies(n: number, timeoutMs?: number): Promise<string[]>;
  /**
   * True once the server has closed the connection (EOF or reset), false when
   * it is still open after `timeoutMs`.
   */
  ended(timeoutMs?: number): Promise<boolean>;
  /** Replies received and not yet read. */
  buffered(): number;
  close(): Promise<void>;
}

const MAX_REPLY = 100_000; // Postfix socketmap_max_reply_size (SM-NET-03)

export function connectSocketmap(target: SocketmapTarget): Promise<SocketmapClient> {
  return new Promise((resolve, reject) => {
    const socket = "path" in target ? connect({ path: target.path }) : connect(target);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(wrap(socket));
    });
  });
}

function wrap(socket: Socket): SocketmapClient {
  const decoder = new NetstringDecoder({ maxLength: MAX_REPLY });
  const replies: string[] = [];
  let failure: Error | null = null;
  let closed = false;
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const w of [...wakers]) w();
  };

  socket.setNoDelay(true);
  socket.on("data", (chunk: Buffer) => {
    decoder.push(chunk);
    for (;;) {
      const r = decoder.next();
      if (r === null) break;
      if (!(r instanceof Uint8Array)) {
        failure = new Error(`malformed reply: ${r.error}`);
        break;
      }
      replies.push(r.toString("utf8"));
    }
    wake();
  });
  // A reset is how some closes look from this side; the tests only care that it closed.
  socket.on("error", () => {});
  socket.on("end", () => {
    closed = true;
    wake();
  });
  socket.on("close", () => {
    closed = true;
    wake();
  });

  const waitFor = (ready: () => boolean, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (ready()) return resolve(true);
      const check = () => {
        if (!ready()) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        wakers.delete(check);
        resolve(ok);
      };
      wakers.add(check);
    });

  const client: SocketmapClient = {
    socket,
    async request(zone, key) {
      client.send(encodeNetstring(`${zone} ${key}`));
      const [reply] = await client.readReplies(1);
      return reply as string;
    },
    send(raw) {
      socket.write(raw);
    },
    async readReplies(n, timeoutMs = 2000) {
      const ok = await waitFor(() => replies.length >= n || failure !== null || closed, timeoutMs);
      if (replies.length >= n) return replies.splice(0, n);
      if (failure !== null) throw failure;
      if (!ok)
        throw new Error(`timed out after ${timeoutMs} ms with ${replies.length}/${n} replies`);
      throw new Error(`connection closed after ${replies.length}/${n} replies`);
    },
    ended(timeoutMs = 2000) {
      return waitFor(() => closed, timeoutMs);
    },
    buffered() {
      return replies.length;
    },
    close() {
      return new Promise((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once("close", () => resolve());
        socket.end();
        // Do not wait on a server that ignores our FIN.
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    },
  };
  return client;
}
