// A socketmap load client: C TCP connections, each keeping D requests in
// flight (closed loop: a reply frees the slot for the next request, as a
// Postfix process does with D = 1). Requests are netstrings encoded once up
// front and cycled; replies are scanned in place (length, first byte,
// terminator) without copying or allocating, so that at a few hundred
// thousand replies a second the figure is the daemon's and not this client's.
// All replies that arrive in one read are answered with one write. Latency is
// from the write of a request to the read that completed its reply.

import { connect, type Socket } from "node:net";
import { encodeNetstring } from "../../src/resolver/netstring.ts";

export interface LoadOptions {
  host: string;
  port: number;
  connections: number;
  /** Requests in flight per connection. */
  depth: number;
  /** Socketmap payloads (`<zone> <key>`), sent in order, shared by all connections, cycled. */
  requests: readonly string[];
  /** Send each request once, then stop (a cold run); otherwise cycle for warmupMs + durationMs. */
  once?: boolean;
  warmupMs?: number;
  durationMs?: number;
  /** With `once`: stop sending new requests after this long (the rest is not sent). */
  maxMs?: number;
  /** No reply for this long fails the run. */
  stallMs?: number;
  /** Called when the measured window opens and closes (e.g. to read the daemon's CPU time). */
  onWindow?: (edge: "start" | "end") => void;
}

export interface LoadResult {
  /** Replies counted (inside the measured window). */
  replies: number;
  seconds: number;
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  kinds: { ok: number; notfound: number; temp: number; other: number };
  /** CPU seconds this client process used in the window (user + system). */
  clientCpu: number;
}

const O = 0x4f; // "OK …"
const N = 0x4e; // "NOTFOUND "
const T = 0x54; // "TEMP …"

class Samples {
  data = new Float64Array(1 << 16);
  n = 0;
  push(v: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = v;
  }
  sorted(): Float64Array {
    return this.data.subarray(0, this.n).sort();
  }
}

const quantile = (s: Float64Array, q: number) =>
  s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number);

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  const frames = o.requests.map(encodeNetstring);
  if (frames.length === 0) throw new Error("load: no requests");
  const samples = new Samples();
  const kinds = { ok: 0, notfound: 0, temp: 0, other: 0 };
  let cursor = 0;
  let issuing = true;
  let recording = false;
  let windowStart = 0;
  let windowEnd = 0;
  let cpuStart = process.cpuUsage();
  let cpuUsed = 0;
  let inflight = 0;
  let lastProgress = performance.now();
  const sockets: Socket[] = [];

  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      if (err) {
        reject(err);
        return;
      }
      const seconds = (windowEnd - windowStart) / 1000;
      const sorted = samples.sorted();
      resolve({
        replies: samples.n,
        seconds,
        rps: samples.n / seconds,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
        kinds,
        clientCpu: cpuUsed,
      });
    };

    const startWindow = () => {
      o.onWindow?.("start");
      recording = true;
      windowStart = performance.now();
      cpuStart = process.cpuUsage();
    };
    const endWindow = () => {
      recording = false;
      windowEnd = performance.now();
      const c = process.cpuUsage(cpuStart);
      cpuUsed = (c.user + c.system) / 1e6;
      o.onWindow?.("end");
    };

    const next = (): Buffer | null => {
      if (!issuing) return null;
      if (o.once && cursor >= frames.length) {
        issuing = false;
        return null;
      }
      const f = frames[cursor % frames.length] as Buffer;
      cursor++;
      if (!o.once && cursor === frames.length * 1024) cursor = 0;
      return f;
    };

    const open = (): Promise<() => void> =>
      new Promise((ok, fail) => {
        const socket = connect({ host: o.host, port: o.port, noDelay: true });
        sockets.push(socket);
        const sent = new Float64Array(o.depth);
        let head = 0;
        let tail = 0;
        let waiting = 0;
        // Bytes of an unfinished reply carried over to the next read.
        let rest: Buffer | null = null;
        const out: Buffer[] = [];
        const fill = () => {
          while (waiting < o.depth) {
            const f = next();
            if (f === null) break;
            out.push(f);
            waiting++;
            inflight++;
          }
          if (out.length === 0) return;
          const t = performance.now();
          for (let i = 0; i < out.length; i++) {
            sent[tail] = t;
            tail = tail + 1 === o.depth ? 0 : tail + 1;
          }
          socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
          out.length = 0;
        };
        socket.once("connect", () => ok(fill));
        socket.on("data", (chunk: Buffer) => {
          const t = performance.now();
          lastProgress = t;
          const buf = rest === null ? chunk : Buffer.concat([rest, chunk]);
          rest = null;
          let pos = 0;
          while (pos < buf.length) {
            // <digits>:<payload>,
            let len = 0;
            let i = pos;
            let c = buf[i] as number;
            while (c >= 0x30 && c <= 0x39) {
              len = len * 10 + (c - 0x30);
              c = buf[++i] as number;
            }
            if (i >= buf.length) break; // length not complete yet
            if (c !== 0x3a || i === pos || i - pos > 10) {
              finish(new Error("load: bad reply netstring (length)"));
              return;
            }
            const end = i + 1 + len;
            if (end >= buf.length) break; // payload or terminator not here yet
            if (buf[end] !== 0x2c) {
              finish(new Error("load: bad reply netstring (terminator)"));
              return;
            }
            const first = len > 0 ? buf[i + 1] : -1;
            pos = end + 1;
            waiting--;
            inflight--;
            const began = sent[head] as number;
            head = head + 1 === o.depth ? 0 : head + 1;
            if (recording) {
              samples.push(t - began);
              if (first === O) kinds.ok++;
              else if (first === N) kinds.notfound++;
              else if (first === T) kinds.temp++;
              else kinds.other++;
            }
          }
          if (pos < buf.length) rest = buf.subarray(pos);
          fill();
          if (o.once && !issuing && inflight === 0) {
            endWindow();
            finish();
          }
        });
        socket.on("error", (err) => {
          fail(err);
          finish(err);
        });
        socket.on("close", () => {
          if (!settled) finish(new Error("load: the daemon closed a connection"));
        });
      });

    const stall = o.stallMs ?? 20_000;
    const watchdog = () => {
      if (settled) return;
      if (performance.now() - lastProgress > stall)
        finish(new Error(`load: no reply for ${stall / 1000} s (${inflight} in flight)`));
      else timers.push(setTimeout(watchdog, 1000));
    };

    Promise.all(Array.from({ length: o.connections }, open)).then((fills) => {
      lastProgress = performance.now();
      watchdog();
      if (o.once) {
        startWindow();
        if (o.maxMs !== undefined)
          timers.push(
            setTimeout(() => {
              issuing = false;
            }, o.maxMs),
          );
      }
      for (const fill of fills) fill();
      if (o.once) return;
      timers.push(
        setTimeout(() => {
          startWindow();
          timers.push(
            setTimeout(() => {
              endWindow();
              issuing = false;
              finish();
            }, o.durationMs ?? 5000),
          );
        }, o.warmupMs ?? 1000),
      );
    }, finish);
  });
}
