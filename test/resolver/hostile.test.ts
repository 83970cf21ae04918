// Bad input at the daemon (issue: malformed netstrings, oversize keys, binary
// bytes, IP literals, a flood of connections, a policy host that hangs or
// sends too much, DNS that lies): the daemon answers or closes that one
// connection, never crashes, never blocks other clients.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { encodeNetstring } from "../../src/resolver/netstring.ts";
import { type LabResolver, startLabResolver } from "./lab-resolver.ts";
import { connectSocketmap } from "./socketmap-client.ts";

const SECURE = "OK secure match=mx1.good.test servername=hostname";
let lab: Lab;
let r: LabResolver;

before(async () => {
  lab = await startLab(
    scenario(
      { domain: "good.test" },
      { domain: "hangs.test", faults: ["policy:slow-headers"] },
      { domain: "trickle.test", faults: ["policy:slow-body"] },
      { domain: "huge.test", faults: ["policy:oversize"] },
      { domain: "dns-garbage.test" },
    ),
  );
  r = await startLabResolver(lab, (c) => {
    c.defaultZone.timeoutMs = 1000;
  });
  assert.equal(await r.ask("postfix", "good.test"), SECURE);
});
after(async () => {
  await r?.close();
  await lab?.close();
});

async function stillServing(): Promise<void> {
  assert.equal(await r.ask("postfix", "good.test"), SECURE);
}

test("SM-PMSR-12 a malformed netstring closes that connection only, after earlier replies", async () => {
  const c = await connectSocketmap(r.daemon.address());
  c.send(Buffer.concat([encodeNetstring("postfix good.test"), Buffer.from("13:test good.loc!")]));
  assert.deepEqual(await c.readReplies(1, 5000), [SECURE]);
  assert.equal(await c.ended(5000), true);
  await stillServing();
});

test("SM-NET-03 an oversize request (declared length over the limit) is refused without reading it", async () => {
  const c = await connectSocketmap(r.daemon.address());
  c.send(`2000000:postfix ${"a".repeat(100)}`);
  assert.equal(await c.ended(5000), true);
  await stillServing();
});

test("SM-WEAK-10 binary bytes, huge labels, IP literals and non-domains get NOTFOUND on a live connection", async () => {
  const c = await connectSocketmap(r.daemon.address());
  try {
    for (const key of [
      "\u0000\u0001\u0002",
      `${"a".repeat(64)}.test`,
      "good..test",
      "[192.0.2.1]",
      "[ipv6:2001:db8::1]:25",
      "2001:db8::1",
      "-bad-.test",
      "",
    ]) {
      assert.equal(await c.request("postfix", key), "NOTFOUND ", JSON.stringify(key));
    }
    c.send(
      Buffer.concat([
        Buffer.from("11:postfix "),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(","),
      ]),
    );
    assert.deepEqual(await c.readReplies(1, 5000), ["NOTFOUND "]);
    assert.equal(await c.request("postfix", "good.test"), SECURE, "the connection still works");
  } finally {
    await c.close();
  }
});

test("a policy host that never answers, or trickles, delays only its own domain; others are answered at once", async () => {
  const slow = [r.ask("postfix", "hangs.test"), r.ask("postfix", "trickle.test")];
  const started = performance.now();
  await stillServing();
  assert.ok(performance.now() - started < 1000, "a known domain is not stuck behind slow fetches");
  // The zone timeout (1 s here) bounds the slow ones: no policy.
  assert.deepEqual(await Promise.all(slow), ["NOTFOUND ", "NOTFOUND "]);
});

test("STS-FETCH-07 a policy host sending an oversize body gives no policy, not a crash", async () => {
  assert.equal(await r.ask("postfix", "huge.test"), "NOTFOUND ");
});

test("a flood of 300 connections, each pipelining requests, is served in order", async () => {
  const clients = await Promise.all(
    Array.from({ length: 300 }, () => connectSocketmap(r.daemon.address())),
  );
  try {
    const replies = await Promise.all(
      clients.map(async (c, i) => {
        c.send(
          Buffer.concat([
            encodeNetstring("postfix good.test"),
            encodeNetstring(`postfix [10.0.0.${i % 250}]`),
            encodeNetstring("postfix good.test."),
          ]),
        );
        return c.readReplies(3, 20_000);
      }),
    );
    for (const rs of replies) assert.deepEqual(rs, [SECURE, "NOTFOUND ", SECURE]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  await stillServing();
});

test("connections the client abandons mid-request do not disturb the daemon", async () => {
  for (let i = 0; i < 50; i++) {
    const c = await connectSocketmap(r.daemon.address());
    c.send(i % 2 ? "17:postfix hangs." : encodeNetstring("postfix hangs.test"));
    c.socket.destroy();
  }
  await stillServing();
});
