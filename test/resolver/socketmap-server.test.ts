import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeNetstring } from "../../src/resolver/netstring.ts";
import {
  type ServerEvent,
  type SocketmapServer,
  type SocketmapServerOptions,
  startSocketmapServer,
} from "../../src/resolver/socketmap-server.ts";
import type { SocketmapLookup } from "../../src/resolver/types.ts";
import { connectSocketmap, type SocketmapTarget } from "./socketmap-client.ts";

const SECURE = "OK secure match=mail.loc servername=hostname";
const SLOW = "OK secure match=slow.loc";
const NOTFOUND = "NOTFOUND ";
const TEMP = "TEMP internal error";
const SLOW_MS = 150;

/** Lookups started and not yet settled, to see the server's concurrency. */
let inFlight = 0;
let maxInFlight = 0;
/** Resolves the next time a slow lookup starts. */
let slowStarted: () => void = () => {};

const delayed = (reply: string, ms: number): Promise<string> => {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  return new Promise((resolve) =>
    setTimeout(() => {
      inFlight--;
      resolve(reply);
    }, ms),
  );
};

const lookup: SocketmapLookup = (zone, key) => {
  if (key === "slow.loc") {
    slowStarted();
    return delayed(SLOW, SLOW_MS);
  }
  if (key === "hang.loc") return new Promise(() => {});
  if (key === "throw.loc") throw new Error("boom");
  if (key === "reject.loc") return Promise.reject(new Error("boom"));
  if (key.startsWith("echo-")) {
    const n = Number(key.slice(5));
    // A mix of synchronous answers and answers that settle out of order.
    return n % 3 === 0 ? delayed(`OK ${key}`, n % 7) : `OK ${key}`;
  }
  if (key.startsWith("hold-")) return delayed(`OK ${key}`, 20);
  return (zone === "test" || zone === "test2") && key === "good.loc" ? SECURE : NOTFOUND;
};

const TCP = { kind: "tcp", host: "127.0.0.1", port: 0, reusePort: false } as const;

async function withServer(
  options: Partial<SocketmapServerOptions>,
  body: (server: SocketmapServer, target: SocketmapTarget, events: ServerEvent[]) => Promise<void>,
): Promise<void> {
  const events: ServerEvent[] = [];
  const server = await startSocketmapServer({
    listen: TCP,
    lookup,
    onEvent: (e) => events.push(e),
    ...options,
  });
  try {
    await body(server, server.address(), events);
  } finally {
    await server.close(500);
  }
}

/** Waits until `cond` holds, polling; fails after `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail("condition not met in time");
    await sleep(5);
  }
}

const nextSlowStart = () =>
  new Promise<void>((resolve) => {
    slowStarted = () => {
      slowStarted = () => {};
      resolve();
    };
  });

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mtasts-socketmap-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("SM-PROTO-01 answers one request over TCP", async () => {
  await withServer({}, async (server, target) => {
    assert.ok("port" in target && target.port > 0 && target.host === "127.0.0.1");
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    assert.equal(await c.request("test2", "good.loc"), SECURE);
    assert.equal(await c.request("other", "good.loc"), NOTFOUND);
    assert.equal(server.connections(), 1);
    await c.close();
    await until(() => server.connections() === 0);
  });
});

test("SM-PROTO-01 splits at the first space only; the key is passed unmodified", async () => {
  const seen: [string, string][] = [];
  await withServer(
    {
      lookup: (zone, key) => {
        seen.push([zone, key]);
        return NOTFOUND;
      },
    },
    async (_server, target) => {
      const c = await connectSocketmap(target);
      const asked: [string, string][] = [
        ["test", " [Good.loc]:25 x"],
        ["zöne", "bücher.example"],
        ["", "k"],
        // The previous zone is reused only when its bytes are the same.
        ["tesT", "a"],
        ["test", "b"],
        ["test", "c"],
        ["tes", "t d"],
        ["zöne", "e"],
        ["zöne", "f"],
      ];
      for (const [zone, key] of asked) await c.request(zone, key);
      assert.deepEqual(seen, asked);
      await c.close();
    },
  );
});

test("SM-PROTO-04 many sequential requests on one connection", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    for (let i = 0; i < 50; i++) assert.equal(await c.request("test", "good.loc"), SECURE);
    await c.close();
  });
});

test("SM-NET-02 a request split at every byte is answered", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    const req = encodeNetstring("test good.loc");
    for (let i = 1; i < req.length; i++) {
      c.send(req.subarray(0, i));
      await sleep(2);
      c.send(req.subarray(i));
      assert.deepEqual(await c.readReplies(1), [SECURE], `split at ${i}`);
    }
    for (const byte of req) {
      c.send(Buffer.from([byte]));
      await sleep(1);
    }
    assert.deepEqual(await c.readReplies(1), [SECURE], "one byte at a time");
    await c.close();
  });
});

test("SM-PMSR-11 two back-to-back requests get two identical answers in order", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    c.send(Buffer.concat([encodeNetstring("test good.loc"), encodeNetstring("test good.loc")]));
    assert.deepEqual(await c.readReplies(2), [SECURE, SECURE]);
    await c.close();
  });
});

test("SM-PMSR-11 replies keep request order when the first lookup is slow", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    const started = Date.now();
    c.send(Buffer.concat([encodeNetstring("test slow.loc"), encodeNetstring("test good.loc")]));
    assert.deepEqual(await c.readReplies(2), [SLOW, SECURE]);
    assert.ok(Date.now() - started >= SLOW_MS - 10);
    await c.close();
  });
});

test("SM-PMSR-11 requests on one connection are looked up concurrently", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    const started = Date.now();
    c.send(Buffer.concat(Array.from({ length: 5 }, () => encodeNetstring("test slow.loc"))));
    assert.deepEqual(await c.readReplies(5), Array(5).fill(SLOW));
    assert.ok(Date.now() - started < SLOW_MS * 3, "five slow lookups overlapped");
    await c.close();
  });
});

test("SM-PMSR-11 1000 pipelined requests are answered in order", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    const keys = Array.from({ length: 1000 }, (_, i) => `echo-${i}`);
    c.send(Buffer.concat(keys.map((k) => encodeNetstring(`test ${k}`))));
    assert.deepEqual(
      await c.readReplies(1000, 5000),
      keys.map((k) => `OK ${k}`),
    );
    assert.equal(await c.request("test", "good.loc"), SECURE);
    await c.close();
  });
});

test("SM-PMSR-11 at most maxPending requests per connection are in flight", async () => {
  maxInFlight = 0;
  await withServer({ maxPending: 3 }, async (_server, target) => {
    const c = await connectSocketmap(target);
    const keys = Array.from({ length: 12 }, (_, i) => `hold-${i}`);
    c.send(Buffer.concat(keys.map((k) => encodeNetstring(`test ${k}`))));
    assert.deepEqual(
      await c.readReplies(12),
      keys.map((k) => `OK ${k}`),
    );
    assert.equal(maxInFlight, 3);
    await c.close();
  });
});

test("SM-PMSR-12 a corrupt netstring closes the connection without a reply", async () => {
  await withServer({}, async (_server, target, events) => {
    const bad = await connectSocketmap(target);
    const good = await connectSocketmap(target);
    bad.send("13:test good.loc!");
    assert.equal(await bad.ended(), true);
    assert.equal(bad.buffered(), 0);
    assert.equal(await good.request("test", "good.loc"), SECURE);
    assert.ok(
      events.some(
        (e) => e.type === "bad-request" && e.reason === "bad-terminator" && e.closed === true,
      ),
    );
    await until(() =>
      events.some((e) => e.type === "connection-close" && e.reason === "bad-request"),
    );
    await good.close();
  });
});

test("SM-PMSR-12 non-digit and empty lengths close the connection", async () => {
  await withServer({}, async (_server, target) => {
    for (const raw of ["x:abc,", ":abc,", "1 :X,"]) {
      const c = await connectSocketmap(target);
      c.send(raw);
      assert.equal(await c.ended(), true, raw);
      assert.equal(c.buffered(), 0, raw);
    }
  });
});

test("SM-PMSR-12 a declared length over maxRequestBytes closes before the bytes arrive", async () => {
  await withServer({}, async (_server, target, events) => {
    const c = await connectSocketmap(target);
    c.send("1025:");
    assert.equal(await c.ended(), true);
    assert.ok(events.some((e) => e.type === "bad-request" && e.reason === "too-long"));
    // Exactly the limit is fine.
    const ok = await connectSocketmap(target);
    assert.equal(await ok.request("test", "x".repeat(1019)), NOTFOUND);
    await ok.close();
  });
  await withServer({ maxRequestBytes: 20 }, async (_server, target) => {
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    c.send(encodeNetstring(`test ${"x".repeat(16)}`));
    assert.equal(await c.ended(), true);
    assert.equal(c.buffered(), 0);
  });
});

test("SM-PMSR-12 replies to earlier requests are flushed before the close", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    c.send(
      Buffer.concat([
        encodeNetstring("test slow.loc"),
        encodeNetstring("test good.loc"),
        Buffer.from("13:test good.loc!"),
        encodeNetstring("test good.loc"),
      ]),
    );
    assert.deepEqual(await c.readReplies(2), [SLOW, SECURE]);
    assert.equal(await c.ended(), true);
    assert.equal(c.buffered(), 0);
  });
});

test("SM-WEAK-10 an invalid UTF-8 payload is answered NOTFOUND and the connection stays", async () => {
  await withServer({}, async (_server, target, events) => {
    const c = await connectSocketmap(target);
    const payload = Buffer.concat([
      Buffer.from("test good"),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(".loc"),
    ]);
    c.send(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(",")]));
    assert.deepEqual(await c.readReplies(1), [NOTFOUND]);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    assert.ok(
      events.some((e) => e.type === "bad-request" && e.reason === "invalid-utf8" && !e.closed),
    );
    await c.close();
  });
});

test("SM-WEAK-10 a payload without a space is answered NOTFOUND", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    c.send(
      Buffer.concat([encodeNetstring("test"), encodeNetstring(""), encodeNetstring("good.loc")]),
    );
    assert.deepEqual(await c.readReplies(3), [NOTFOUND, NOTFOUND, NOTFOUND]);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    // The space of the next request in the same chunk is not this one's.
    c.send(Buffer.concat([encodeNetstring("test"), encodeNetstring("test good.loc")]));
    assert.deepEqual(await c.readReplies(2), [NOTFOUND, SECURE]);
    // A chunk full of them: each is answered, and the connection still serves.
    c.send(Buffer.concat(Array.from({ length: 5000 }, () => encodeNetstring("x"))));
    const replies = await c.readReplies(5000);
    assert.equal(replies.length, 5000);
    assert.ok(replies.every((r) => r === NOTFOUND));
    assert.equal(await c.request("test", "good.loc"), SECURE);
    await c.close();
  });
});

test("SM-WEAK-10 a failing lookup is answered TEMP and the connection stays usable", async () => {
  await withServer({}, async (_server, target, events) => {
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "throw.loc"), TEMP);
    assert.equal(await c.request("test", "reject.loc"), TEMP);
    c.send(
      Buffer.concat([
        encodeNetstring("test reject.loc"),
        encodeNetstring("test good.loc"),
        encodeNetstring("test throw.loc"),
      ]),
    );
    assert.deepEqual(await c.readReplies(3), [TEMP, SECURE, TEMP]);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    assert.equal(events.filter((e) => e.type === "lookup-error").length, 4);
    await c.close();
  });
});

test("SM-PROTO-02 request events carry zone, key, reply and time", async () => {
  await withServer({}, async (_server, target, events) => {
    const c = await connectSocketmap(target);
    await c.request("test", "good.loc");
    await c.request("test", "slow.loc");
    const requests = events.filter((e) => e.type === "request");
    assert.equal(requests.length, 2);
    const [fast, slow] = requests;
    assert.deepEqual(
      { ...fast, ms: 0 },
      { type: "request", zone: "test", key: "good.loc", reply: SECURE, ms: 0 },
    );
    assert.ok(slow?.type === "request" && slow.reply === SLOW && slow.ms >= SLOW_MS - 10);
    await c.close();
  });
});

test("requestEvents: false answers the same and emits every event but request", async () => {
  await withServer({ requestEvents: false }, async (_server, target, events) => {
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    assert.equal(await c.request("test", "slow.loc"), SLOW);
    await c.close();
    await until(() => events.some((e) => e.type === "connection-close"));
    assert.deepEqual(
      events.map((e) => e.type),
      ["connection-open", "connection-close"],
    );
  });
});

test("SM-PROTO-04 a client that shuts down its side still gets every answer", async () => {
  await withServer({}, async (_server, target) => {
    const c = await connectSocketmap(target);
    c.send(Buffer.concat([encodeNetstring("test slow.loc"), encodeNetstring("test good.loc")]));
    c.socket.end();
    assert.deepEqual(await c.readReplies(2), [SLOW, SECURE]);
    assert.equal(await c.ended(), true);
  });
});

test("SM-PROTO-04 idle connections are closed after idleTimeoutMs", async () => {
  await withServer({ idleTimeoutMs: 200 }, async (server, target, events) => {
    const idle = await connectSocketmap(target);
    const busy = await connectSocketmap(target);
    // Bytes that never complete a request are not activity.
    const trickle = await connectSocketmap(target);
    const started = Date.now();
    const stop = Date.now() + 400;
    trickle.send("10");
    while (Date.now() < stop) {
      assert.equal(await busy.request("test", "good.loc"), SECURE);
      trickle.send("0");
      await sleep(40);
    }
    assert.equal(await idle.ended(0), true);
    assert.equal(await trickle.ended(0), true);
    assert.equal(await busy.ended(0), false);
    assert.ok(Date.now() - started >= 200);
    await until(() => server.connections() === 1);
    assert.ok(events.some((e) => e.type === "connection-close" && e.reason === "idle"));
    assert.equal(await busy.ended(), true, "closed once it falls idle too");
  });
});

test("SM-PROTO-04 a connection waiting for its own answer is not idle", async () => {
  await withServer({ idleTimeoutMs: 40 }, async (_server, target) => {
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "slow.loc"), SLOW);
    assert.equal(await c.ended(), true);
  });
});

test("SM-PROTO-04 an empty dialog and an early disconnect do not disturb the server", async () => {
  await withServer({}, async (server, target) => {
    const empty = await connectSocketmap(target);
    await empty.close();
    const early = await connectSocketmap(target);
    early.send(Buffer.concat([encodeNetstring("test slow.loc"), Buffer.from("13:test go")]));
    await sleep(10);
    early.socket.destroy();
    const reset = await connectSocketmap(target);
    reset.send(encodeNetstring("test hang.loc"));
    reset.socket.resetAndDestroy();
    await sleep(SLOW_MS + 20);
    await until(() => server.connections() === 0);
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    await c.close();
  });
});

test("SM-PMSR-13 connections beyond maxConnections are refused", async () => {
  await withServer({ maxConnections: 2 }, async (server, target, events) => {
    const a = await connectSocketmap(target);
    const b = await connectSocketmap(target);
    assert.equal(await a.request("test", "good.loc"), SECURE);
    assert.equal(await b.request("test", "good.loc"), SECURE);
    const refused = await connectSocketmap(target);
    assert.equal(await refused.ended(), true);
    assert.ok(
      events.some((e) => e.type === "connection-refused" && e.reason === "max-connections"),
    );
    assert.equal(server.connections(), 2);
    await a.close();
    await until(() => server.connections() === 1);
    const c = await connectSocketmap(target);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    await Promise.all([b.close(), c.close()]);
  });
});

test("SM-PMSR-13 close drains in-flight lookups, closes idle connections and refuses new ones", async () => {
  const server = await startSocketmapServer({ listen: TCP, lookup });
  const target = server.address();
  const busy = await connectSocketmap(target);
  const idle = await connectSocketmap(target);
  assert.equal(await idle.request("test", "good.loc"), SECURE);
  const started = nextSlowStart();
  busy.send(encodeNetstring("test slow.loc"));
  await started;
  const t0 = Date.now();
  const closed = server.close(5000);
  assert.equal(await idle.ended(SLOW_MS / 2), true, "idle connection closed at once");
  await assert.rejects(connectSocketmap(target), { code: "ECONNREFUSED" });
  assert.deepEqual(await busy.readReplies(1), [SLOW]);
  assert.equal(await busy.ended(), true);
  await closed;
  assert.equal(server.connections(), 0);
  assert.ok(Date.now() - t0 < 2000, "did not wait for the grace period");
});

test("SM-PMSR-13 close cuts lookups still running when the grace period ends", async () => {
  const server = await startSocketmapServer({ listen: TCP, lookup });
  const c = await connectSocketmap(server.address());
  c.send(encodeNetstring("test hang.loc"));
  await sleep(20);
  const t0 = Date.now();
  await server.close(100);
  const took = Date.now() - t0;
  assert.ok(took >= 90 && took < 1000, `took ${took} ms`);
  assert.equal(await c.ended(), true);
  assert.equal(c.buffered(), 0);
});

test("SM-PMSR-13 listens on a unix socket, chmods it to mode and removes it on close", async () => {
  const path = join(dir, "a.sock");
  const server = await startSocketmapServer({
    listen: { kind: "unix", path, mode: 0o666 },
    lookup,
  });
  assert.deepEqual(server.address(), { path });
  const st = await stat(path);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o666);
  const c = await connectSocketmap({ path });
  assert.equal(await c.request("test", "good.loc"), SECURE);
  c.send(Buffer.concat([encodeNetstring("test slow.loc"), encodeNetstring("test good.loc")]));
  assert.deepEqual(await c.readReplies(2), [SLOW, SECURE]);
  await c.close();
  await server.close(500);
  await assert.rejects(stat(path), { code: "ENOENT" });
});

test("SM-PMSR-13 a unix socket without mode keeps the umask's permissions", async () => {
  const path = join(dir, "b.sock");
  const server = await startSocketmapServer({ listen: { kind: "unix", path, mode: null }, lookup });
  const c = await connectSocketmap({ path });
  assert.equal(await c.request("test", "good.loc"), SECURE);
  await c.close();
  await server.close(500);
});

test("SM-PMSR-13 a stale socket file from a dead server is replaced", async () => {
  const path = join(dir, "stale.sock");
  // A process killed while listening leaves its socket file behind.
  const child = spawn(
    process.execPath,
    [
      "-e",
      "require('node:net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))",
      path,
    ],
    { stdio: "ignore" },
  );
  await new Promise((resolve) => child.once("exit", resolve));
  assert.ok((await stat(path)).isSocket(), "the dead server left its socket");
  const server = await startSocketmapServer({ listen: { kind: "unix", path, mode: null }, lookup });
  const c = await connectSocketmap({ path });
  assert.equal(await c.request("test", "good.loc"), SECURE);
  await c.close();
  await server.close(500);
});

test("SM-PMSR-13 a socket a live server accepts on is not taken over", async () => {
  const path = join(dir, "live.sock");
  const first = await startSocketmapServer({ listen: { kind: "unix", path, mode: null }, lookup });
  await assert.rejects(
    startSocketmapServer({ listen: { kind: "unix", path, mode: null }, lookup }),
    { code: "EADDRINUSE" },
  );
  const c = await connectSocketmap({ path });
  assert.equal(await c.request("test", "good.loc"), SECURE);
  await c.close();
  await first.close(500);
});

test("SM-PMSR-13 a regular file at the socket path is left alone", async () => {
  const path = join(dir, "regular");
  await writeFile(path, "precious");
  await assert.rejects(
    startSocketmapServer({ listen: { kind: "unix", path, mode: 0o666 }, lookup }),
    /exists and is not a socket/,
  );
  assert.equal(await readFile(path, "utf8"), "precious");
});

test("SM-PMSR-13 a busy TCP port is an error", async () => {
  await withServer({}, async (_server, target) => {
    assert.ok("port" in target);
    await assert.rejects(startSocketmapServer({ listen: { ...TCP, port: target.port }, lookup }), {
      code: "EADDRINUSE",
    });
  });
});

test("SM-PMSR-13 reusePort lets two servers share a port", async () => {
  const a = await startSocketmapServer({ listen: { ...TCP, reusePort: true }, lookup });
  const addr = a.address();
  assert.ok("port" in addr);
  const b = await startSocketmapServer({
    listen: { ...TCP, port: addr.port, reusePort: true },
    lookup,
  });
  for (let i = 0; i < 4; i++) {
    const c = await connectSocketmap(addr);
    assert.equal(await c.request("test", "good.loc"), SECURE);
    await c.close();
  }
  await Promise.all([a.close(500), b.close(500)]);
});
