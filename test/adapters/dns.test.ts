// Our stub resolver against the lab DNS server (and a few hand-made servers
// that misbehave on purpose), over real UDP and TCP on loopback.

import assert from "node:assert/strict";
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { type TestContext, test } from "node:test";
import { type DecodedPacket, decode, encode } from "dns-packet";
import { type DnsServer, startDnsServer, type ZoneData } from "../../lab/dns-server.ts";
import {
  createResolver,
  type DnsServerAddress,
  parseServerAddress,
  type Resolver,
  systemServers,
} from "../../src/adapters/dns.ts";

const HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const EXAMPLE: ZoneData = {
  apex: "example.com",
  records: [
    { type: "MX", name: "example.com", preference: 20, exchange: "MX2.Example.COM." },
    { type: "MX", name: "example.com", preference: 10, exchange: "mx1.example.com" },
    { type: "A", name: "mx1.example.com", address: "127.0.0.10" },
    { type: "A", name: "mx1.example.com", address: "127.0.0.11" },
    { type: "AAAA", name: "mx1.example.com", address: "2001:db8::10" },
    { type: "TXT", name: "_mta-sts.example.com", strings: ["v=STSv1; ", "id=20240101;"] },
    { type: "TXT", name: "_mta-sts.example.com", strings: ["google-site-verification=x"] },
    { type: "TXT", name: "_smtp._tls.example.com", strings: ["v=TLSRPTv1;", "rua=mailto:r@x"] },
    { type: "CNAME", name: "alias.example.com", target: "alias2.example.com", ttl: 90 },
    { type: "CNAME", name: "alias2.example.com", target: "mx1.example.com", ttl: 600 },
    { type: "CNAME", name: "loop1.example.com", target: "loop2.example.com" },
    { type: "CNAME", name: "loop2.example.com", target: "loop3.example.com" },
    { type: "CNAME", name: "loop3.example.com", target: "loop1.example.com" },
    { type: "CNAME", name: "dangling.example.com", target: "nothing.example.com" },
    { type: "CNAME", name: "to-other.example.com", target: "_mta-sts.provider.test" },
    { type: "CNAME", name: "to-insecure.example.com", target: "host.insecure.test" },
    { type: "A", name: "deep.below.example.com", address: "127.0.0.12" },
    {
      type: "TLSA",
      name: "_25._tcp.mx1.example.com",
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: HASH,
    },
    { type: "CNAME", name: "tc-alias.example.com", target: "tc.example.com" },
    { type: "A", name: "tc.example.com", address: "127.0.0.13" },
  ],
  faults: {
    "servfail.example.com": "servfail",
    "refused.example.com": "refused",
    "silent.example.com": "timeout",
    "garbage.example.com": "garbage",
    "tc.example.com": "truncated",
    "_25._tcp.mx2.example.com": { type: "TLSA", fault: "servfail" },
  },
};

const SIGNED: ZoneData = {
  apex: "signed.test",
  authenticated: true,
  records: [
    { type: "A", name: "mx.signed.test", address: "127.0.0.20" },
    {
      type: "TLSA",
      name: "_25._tcp.mx.signed.test",
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: Uint8Array.from(Buffer.from(HASH, "hex")),
    },
    { type: "CNAME", name: "to-insecure.signed.test", target: "host.insecure.test" },
    { type: "CNAME", name: "alias.signed.test", target: "mx.signed.test" },
  ],
  faults: { "_25._tcp.broken.signed.test": { type: "TLSA", fault: "servfail" } },
};

const INSECURE: ZoneData = {
  apex: "insecure.test",
  records: [{ type: "A", name: "host.insecure.test", address: "127.0.0.30" }],
};

const PROVIDER: ZoneData = {
  apex: "provider.test",
  records: [{ type: "TXT", name: "_mta-sts.provider.test", strings: ["v=STSv1; id=p1;"] }],
};

async function lab(
  t: TestContext,
  zones = [EXAMPLE, SIGNED, INSECURE, PROVIDER],
): Promise<DnsServer> {
  const server = await startDnsServer({ zones });
  t.after(() => server.close());
  return server;
}

const at = (s: { address: string; port: number }): DnsServerAddress => ({
  host: s.address,
  port: s.port,
});

function resolverFor(servers: DnsServer[], timeoutMs = 1000, attempts = 2): Resolver {
  return createResolver({ servers: servers.map(at), timeoutMs, attempts });
}

test("A, AAAA: every address at the name", async (t) => {
  const r = resolverFor([await lab(t)]);
  const a = await r.a("mx1.example.com");
  assert.equal(a.kind, "answer");
  assert.deepEqual(a.kind === "answer" && [...a.records].sort(), ["127.0.0.10", "127.0.0.11"]);
  assert.deepEqual(await r.aaaa("MX1.example.com."), {
    kind: "answer",
    records: ["2001:db8::10"],
    authenticated: false,
    cnames: [],
    ttl: 300,
  });
});

test("MX: exchange lowercase without the trailing dot", async (t) => {
  const r = resolverFor([await lab(t)]);
  const mx = await r.mx("example.com");
  assert.equal(mx.kind, "answer");
  assert.deepEqual(
    mx.kind === "answer" && [...mx.records].sort((x, y) => x.preference - y.preference),
    [
      { preference: 10, exchange: "mx1.example.com" },
      { preference: 20, exchange: "mx2.example.com" },
    ],
  );
});

test("STS-REC-03 joins multi-string TXT with no separator, one value per RR", async (t) => {
  const r = resolverFor([await lab(t)]);
  const txt = await r.txt("_mta-sts.example.com");
  assert.equal(txt.kind, "answer");
  assert.deepEqual(txt.kind === "answer" && [...txt.records].sort(), [
    "google-site-verification=x",
    "v=STSv1; id=20240101;",
  ]);
  const rpt = await r.txt("_smtp._tls.example.com");
  assert.deepEqual(rpt.kind === "answer" && rpt.records, ["v=TLSRPTv1;rua=mailto:r@x"]);
});

test("TLSA: usage, selector, matching type and the association bytes", async (t) => {
  const r = resolverFor([await lab(t)]);
  for (const name of ["_25._tcp.mx1.example.com", "_25._tcp.mx.signed.test"]) {
    const tlsa = await r.tlsa(name);
    assert.equal(tlsa.kind, "answer");
    assert.deepEqual(tlsa.kind === "answer" && tlsa.records, [
      { usage: 3, selector: 1, matchingType: 1, data: Uint8Array.from(Buffer.from(HASH, "hex")) },
    ]);
  }
});

test("STS-REC-02 follows a CNAME chain answered in one response", async (t) => {
  const s = await lab(t);
  const a = await resolverFor([s]).a("alias.example.com");
  assert.equal(a.kind, "answer");
  assert.deepEqual(a.kind === "answer" && a.cnames, ["alias2.example.com", "mx1.example.com"]);
  assert.equal(a.kind === "answer" && a.ttl, 90, "the smallest TTL along the chain");
  assert.equal(s.log.length, 1);
});

test("STS-REC-02 follows a CNAME into another zone on the same server", async (t) => {
  const txt = await resolverFor([await lab(t)]).txt("to-other.example.com");
  assert.deepEqual(txt, {
    kind: "answer",
    records: ["v=STSv1; id=p1;"],
    authenticated: false,
    cnames: ["_mta-sts.provider.test"],
    ttl: 300,
  });
});

test("STS-REC-02 re-queries the target when the chain ends without the type", async (t) => {
  // The first server knows only example.com and refuses provider.test; the second serves it.
  const first = await lab(t, [EXAMPLE]);
  const second = await lab(t, [PROVIDER]);
  const txt = await resolverFor([first, second]).txt("to-other.example.com");
  assert.equal(txt.kind, "answer");
  assert.deepEqual(txt.kind === "answer" && txt.records, ["v=STSv1; id=p1;"]);
  assert.deepEqual(txt.kind === "answer" && txt.cnames, ["_mta-sts.provider.test"]);
  assert.deepEqual(
    first.log.map((e) => e.name),
    ["to-other.example.com", "_mta-sts.provider.test"],
  );
  assert.deepEqual(
    second.log.map((e) => e.name),
    ["_mta-sts.provider.test"],
  );
});

test("STS-REC-02 re-queries a target the server would not follow (a faulty name, over TCP)", async (t) => {
  const s = await lab(t);
  const a = await resolverFor([s]).a("tc-alias.example.com");
  assert.equal(a.kind, "answer");
  assert.deepEqual(a.kind === "answer" && [a.records, a.cnames], [
    ["127.0.0.13"],
    ["tc.example.com"],
  ]);
  assert.deepEqual(
    s.log.map((e) => `${e.transport} ${e.name}`),
    ["udp tc-alias.example.com", "udp tc.example.com", "tcp tc.example.com"],
  );
});

test("STS-REC-02 a CNAME loop is an error naming the loop", async (t) => {
  const txt = await resolverFor([await lab(t)]).txt("loop1.example.com");
  assert.equal(txt.kind, "error");
  assert.match(
    txt.kind === "error" ? txt.message : "",
    /loop.*loop1\.example\.com → loop2\.example\.com → loop3\.example\.com → loop1\.example\.com/,
  );
});

test("STS-REC-02 a chain of more than 8 CNAMEs is an error; 8 is fine", async (t) => {
  const records: ZoneData["records"] = [{ type: "TXT", name: "c9.chain.test", strings: ["end"] }];
  for (let i = 0; i < 9; i++) {
    records.push({ type: "CNAME", name: `c${i}.chain.test`, target: `c${i + 1}.chain.test` });
  }
  const r = resolverFor([await lab(t, [{ apex: "chain.test", records }])]);
  const eight = await r.txt("c1.chain.test");
  assert.equal(eight.kind, "answer");
  assert.equal(eight.kind === "answer" && eight.cnames.length, 8);
  const nine = await r.txt("c0.chain.test");
  assert.equal(nine.kind, "error");
  assert.match(nine.kind === "error" ? nine.message : "", /longer than 8/);
});

test("STS-REC-12 NXDOMAIN and NODATA are told apart (empty non-terminal is NODATA)", async (t) => {
  const r = resolverFor([await lab(t)]);
  assert.deepEqual(await r.txt("_mta-sts.nowhere.example.com"), {
    kind: "nxdomain",
    authenticated: false,
    cnames: [],
  });
  assert.deepEqual(await r.txt("mx1.example.com"), {
    kind: "nodata",
    authenticated: false,
    cnames: [],
  });
  assert.deepEqual(await r.a("below.example.com"), {
    kind: "nodata",
    authenticated: false,
    cnames: [],
  });
  // Through an alias: the rcode speaks for the chain's last name (RFC 6604).
  assert.deepEqual(await r.txt("dangling.example.com"), {
    kind: "nxdomain",
    authenticated: false,
    cnames: ["nothing.example.com"],
  });
  assert.deepEqual(await r.txt("alias.example.com"), {
    kind: "nodata",
    authenticated: false,
    cnames: ["alias2.example.com", "mx1.example.com"],
  });
});

test("STS-REC-12 SERVFAIL and REFUSED are their own outcomes", async (t) => {
  const s = await lab(t);
  const r = resolverFor([s]);
  assert.deepEqual(await r.txt("servfail.example.com"), { kind: "servfail" });
  assert.deepEqual(await r.txt("refused.example.com"), { kind: "refused" });
  assert.deepEqual(await r.txt("_mta-sts.example.org"), { kind: "refused" });
});

test("STS-REC-12 silence is a timeout within attempts × timeoutMs", async (t) => {
  const s = await lab(t);
  const started = performance.now();
  assert.deepEqual(await resolverFor([s], 150, 2).txt("silent.example.com"), { kind: "timeout" });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 600, `took ${elapsed} ms`);
  assert.equal(s.log.length, 2, "one try per attempt");
});

test("STS-REC-12 garbage responses are waited out, never thrown", async (t) => {
  const s = await lab(t);
  const started = performance.now();
  const txt = await resolverFor([s], 150, 2).txt("garbage.example.com");
  assert.equal(txt.kind, "error");
  assert.match(txt.kind === "error" ? txt.message : "", /malformed/);
  assert.ok(performance.now() - started < 600);
});

test("a truncated UDP answer is fetched again over TCP", async (t) => {
  const records: ZoneData["records"] = [];
  for (let i = 0; i < 30; i++) {
    records.push({ type: "TXT", name: "big.test", strings: [`${i}-`, "y".repeat(100)] });
  }
  const s = await lab(t, [{ apex: "big.test", records }]);
  const txt = await resolverFor([s]).txt("big.test");
  assert.equal(txt.kind, "answer");
  assert.equal(txt.kind === "answer" && txt.records.length, 30);
  assert.deepEqual(
    s.log.map((e) => e.transport),
    ["udp", "tcp"],
  );
});

test("STS-DANE-01 authenticated is the AD bit, set only for authenticated zones", async (t) => {
  const r = resolverFor([await lab(t)]);
  const signed = await r.tlsa("_25._tcp.mx.signed.test");
  assert.equal(signed.kind === "answer" && signed.authenticated, true);
  const plain = await r.tlsa("_25._tcp.mx1.example.com");
  assert.equal(plain.kind === "answer" && plain.authenticated, false);
  const denial = await r.tlsa("_25._tcp.none.signed.test");
  assert.deepEqual(denial, { kind: "nxdomain", authenticated: true, cnames: [] });
  const alias = await r.a("alias.signed.test");
  assert.equal(alias.kind === "answer" && alias.authenticated, true);
});

test("STS-DANE-01 a chain through an unsigned zone is not authenticated", async (t) => {
  // One server: the server follows the chain itself; two servers: we re-query.
  const all = await lab(t);
  const a = await resolverFor([all]).a("to-insecure.signed.test");
  assert.equal(a.kind === "answer" && a.authenticated, false);
  const signedOnly = await lab(t, [SIGNED]);
  const insecureOnly = await lab(t, [INSECURE]);
  const b = await resolverFor([signedOnly, insecureOnly]).a("to-insecure.signed.test");
  assert.equal(b.kind, "answer");
  assert.equal(b.kind === "answer" && b.authenticated, false);
});

test("STS-DANE-02 a failing TLSA lookup in a signed zone is SERVFAIL, not an absence", async (t) => {
  const r = resolverFor([await lab(t)]);
  assert.deepEqual(await r.tlsa("_25._tcp.broken.signed.test"), { kind: "servfail" });
  assert.deepEqual(await r.tlsa("_25._tcp.mx2.example.com"), { kind: "servfail" });
});

/** A hand-made UDP server: `reply` decides what to send for each query. */
async function fakeServer(
  t: TestContext,
  reply: (query: DecodedPacket, raw: Buffer, send: (b: Buffer) => void) => void,
): Promise<UdpSocket & { port: number }> {
  const socket = createSocket("udp4");
  socket.on("message", (raw: Buffer, from: RemoteInfo) => {
    const send = (b: Buffer) => socket.send(b, from.port, from.address);
    reply(decode(raw), raw, send);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return Object.assign(socket, { port: socket.address().port });
}

function answerTo(q: DecodedPacket, address: string, patch: { id?: number; name?: string } = {}) {
  const question = q.questions?.[0] as { name: string; type: "A" };
  return encode({
    type: "response",
    id: patch.id ?? q.id,
    flags: 1 << 10,
    questions: [{ ...question, name: patch.name ?? question.name }],
    answers: [{ type: "A", name: question.name, ttl: 60, data: address }],
  });
}

test("queries carry RD, AD and EDNS0 with DO, with a fresh random id each time", async (t) => {
  const seen: { flags: number; id: number; opt: unknown }[] = [];
  const fake = await fakeServer(t, (q, raw, send) => {
    seen.push({ flags: raw.readUInt16BE(2), id: q.id ?? -1, opt: q.additionals?.[0] });
    send(answerTo(q, "127.0.0.1"));
  });
  const r = createResolver({ servers: [{ host: "127.0.0.1", port: fake.port }], timeoutMs: 500 });
  for (let i = 0; i < 4; i++) assert.equal((await r.a("x.test")).kind, "answer");
  for (const q of seen) {
    assert.ok(q.flags & (1 << 8), "RD");
    assert.ok(q.flags & (1 << 5), "AD");
    assert.equal((q.opt as { type: string; flag_do: boolean }).type, "OPT");
    assert.equal((q.opt as { flag_do: boolean }).flag_do, true);
  }
  assert.ok(new Set(seen.map((q) => q.id)).size > 1, "ids vary");
});

test("spoofed or mismatched responses are ignored; the real one is taken", async (t) => {
  const fake = await fakeServer(t, (q, _raw, send) => {
    send(Buffer.from("junk that is not DNS"));
    send(answerTo(q, "192.0.2.66", { id: ((q.id ?? 0) + 1) & 0xffff }));
    send(answerTo(q, "192.0.2.67", { name: "other.test" }));
    setTimeout(() => send(answerTo(q, "127.0.0.5")), 20);
  });
  const a = await createResolver({
    servers: [{ host: "127.0.0.1", port: fake.port }],
    timeoutMs: 1000,
  }).a("x.test");
  assert.deepEqual(a.kind === "answer" && a.records, ["127.0.0.5"]);
});

test("servers are tried in order: a dead or silent one is skipped", async (t) => {
  const good = await lab(t);
  const silent = await fakeServer(t, () => {});
  const dead = createSocket("udp4");
  await new Promise<void>((resolve) => dead.bind(0, "127.0.0.1", resolve));
  const deadPort = dead.address().port;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  const r = createResolver({
    servers: [
      { host: "127.0.0.1", port: deadPort },
      { host: "127.0.0.1", port: silent.port },
      at(good),
    ],
    timeoutMs: 150,
    attempts: 2,
  });
  const started = performance.now();
  const a = await r.a("mx.signed.test");
  assert.equal(a.kind, "answer");
  assert.ok(performance.now() - started < 450);
  // Every server failing: bounded by attempts × timeoutMs.
  const none = createResolver({
    servers: [
      { host: "127.0.0.1", port: silent.port },
      { host: "127.0.0.1", port: deadPort },
    ],
    timeoutMs: 100,
    attempts: 2,
  });
  const t0 = performance.now();
  const failed = await none.a("x.test");
  assert.ok(failed.kind === "error" || failed.kind === "timeout", failed.kind);
  assert.ok(performance.now() - t0 < 500);
});

test("SERVFAIL from one server moves on to the next", async (t) => {
  const failing = await lab(t, [{ ...SIGNED, faults: { "mx.signed.test": "servfail" } }]);
  const good = await lab(t);
  const a = await resolverFor([failing, good]).a("mx.signed.test");
  assert.deepEqual(a.kind === "answer" && a.records, ["127.0.0.20"]);
});

test("bad input names and an empty server list are errors, not exceptions", async () => {
  const r = createResolver({ servers: [] });
  assert.equal((await r.a("x.test")).kind, "error");
  const s = createResolver({ servers: [{ host: "127.0.0.1", port: 9 }], timeoutMs: 50 });
  assert.equal((await s.a("")).kind, "error");
  assert.equal((await s.a("a..b")).kind, "error");
  assert.equal((await s.txt(`${"x".repeat(64)}.test`)).kind, "error");
  // Servers must be IP literals with a valid port; anything else fails the try, not the process.
  const named = createResolver({ servers: [{ host: "dns.example", port: 53 }], timeoutMs: 50 });
  assert.match(JSON.stringify(await named.a("x.test")), /not an IP address/);
  const badPort = createResolver({ servers: [{ host: "127.0.0.1", port: 70000 }], timeoutMs: 50 });
  assert.equal((await badPort.a("x.test")).kind, "error");
});

test("parseServerAddress: HOST:PORT, [V6]:PORT, bare addresses on 53", () => {
  assert.deepEqual(parseServerAddress("127.0.0.1:5353"), { host: "127.0.0.1", port: 5353 });
  assert.deepEqual(parseServerAddress("127.0.0.1"), { host: "127.0.0.1", port: 53 });
  assert.deepEqual(parseServerAddress("[::1]:53"), { host: "::1", port: 53 });
  assert.deepEqual(parseServerAddress("[::1]"), { host: "::1", port: 53 });
  assert.deepEqual(parseServerAddress("::1"), { host: "::1", port: 53 });
  assert.deepEqual(parseServerAddress(" 10.0.0.1:1 "), { host: "10.0.0.1", port: 1 });
  for (const bad of [
    "",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "dns.example:53",
    "[127.0.0.1]:53",
    "::1:53x",
    "1.2.3:53",
  ]) {
    assert.equal(parseServerAddress(bad), null, bad);
  }
});

test("systemServers reads nameserver lines, falling back to 127.0.0.1:53", () => {
  const conf =
    "# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:1\n";
  assert.deepEqual(systemServers(conf), [
    { host: "10.0.0.2", port: 53 },
    { host: "fe80::1%eth0", port: 53 },
  ]);
  assert.deepEqual(systemServers(""), [{ host: "127.0.0.1", port: 53 }]);
  assert.ok(systemServers().length > 0);
});
