// The lab DNS server, seen by a real client (dig) and by raw packets over
// UDP and TCP on loopback: answers, negative answers, faults, truncation,
// the AD bit, malformed input, the query log, and a clean close.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { type DecodedPacket, decode, encode, type Packet } from "dns-packet";
import { type DnsServer, startDnsServer, type ZoneData } from "../../lab/dns-server.ts";

const run = promisify(execFile);

const ZONE: ZoneData = {
  apex: "example.com",
  records: [
    { type: "MX", name: "example.com", preference: 10, exchange: "mx1.example.com" },
    { type: "A", name: "mx1.example.com", address: "127.0.0.10" },
    { type: "AAAA", name: "mx1.example.com", address: "2001:db8::10" },
    { type: "TXT", name: "_mta-sts.example.com", strings: ["v=STSv1; id=", "20240101"] },
    { type: "CNAME", name: "alias.example.com", target: "mx1.example.com", ttl: 120 },
    { type: "A", name: "deep.below.example.com", address: "127.0.0.11" },
    {
      type: "TLSA",
      name: "_25._tcp.mx1.example.com",
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    },
    { type: "CNAME", name: "loop1.example.com", target: "loop2.example.com" },
    { type: "CNAME", name: "loop2.example.com", target: "loop1.example.com" },
    { type: "A", name: "tc.example.com", address: "127.0.0.12" },
  ],
  faults: {
    "servfail.example.com": "servfail",
    "refused.example.com": "refused",
    "silent.example.com": "timeout",
    "garbage.example.com": "garbage",
    "tc.example.com": "truncated",
    "gone.example.com": "nxdomain",
    "mx1.example.com": { type: "MX", fault: "servfail" },
  },
};

const SIGNED: ZoneData = {
  apex: "signed.test",
  authenticated: true,
  records: [{ type: "A", name: "mx.signed.test", address: "127.0.0.20" }],
};

async function lab(t: TestContext, zones: ZoneData[] = [ZONE, SIGNED]): Promise<DnsServer> {
  const server = await startDnsServer({ zones });
  t.after(() => server.close());
  return server;
}

interface Dig {
  status: string;
  flags: string[];
  answers: string[];
  authority: string[];
  text: string;
}

/** Runs dig against the lab (never the system resolver) and reads its report. */
async function dig(server: DnsServer, ...args: string[]): Promise<Dig> {
  const argv = [`@${server.address}`, "-p", String(server.port), "+time=1", "+tries=1", ...args];
  let text: string;
  try {
    text = (await run("dig", argv, { timeout: 10_000 })).stdout;
  } catch (e) {
    text = (e as { stdout?: string }).stdout ?? "";
  }
  const section = (title: string) => {
    const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(text);
    return (m?.[1] ?? "")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => l.replace(/\s+/g, " ").trim());
  };
  return {
    status: /status: (\w+)/.exec(text)?.[1] ?? "none",
    flags: (/;; flags: ([^;]*);/.exec(text)?.[1] ?? "").trim().split(/\s+/),
    answers: section("ANSWER"),
    authority: section("AUTHORITY"),
    text,
  };
}

for (const transport of ["+notcp", "+tcp"]) {
  test(`dig ${transport}: A, AAAA, MX, multi-string TXT, TLSA, authoritative`, async (t) => {
    const s = await lab(t);
    const a = await dig(s, transport, "A", "mx1.example.com");
    assert.equal(a.status, "NOERROR");
    assert.ok(a.flags.includes("aa"));
    assert.deepEqual(a.answers, ["mx1.example.com. 300 IN A 127.0.0.10"]);
    assert.deepEqual((await dig(s, transport, "AAAA", "mx1.example.com")).answers, [
      "mx1.example.com. 300 IN AAAA 2001:db8::10",
    ]);
    assert.deepEqual((await dig(s, transport, "MX", "example.com")).answers, [
      "example.com. 300 IN MX 10 mx1.example.com.",
    ]);
    // STS-REC-03: one RR, two character-strings, as published.
    assert.deepEqual((await dig(s, transport, "TXT", "_mta-sts.example.com")).answers, [
      '_mta-sts.example.com. 300 IN TXT "v=STSv1; id=" "20240101"',
    ]);
    const tlsa = await dig(s, transport, "TLSA", "_25._tcp.mx1.example.com");
    assert.match(tlsa.answers[0] ?? "", /IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF/);
    assert.match(tlsa.text, transport === "+tcp" ? /\(TCP\)/ : /\(UDP\)/);
    const entries = s.log.map((e) => `${e.transport} ${e.type} ${e.name}`);
    const via = transport === "+tcp" ? "tcp" : "udp";
    assert.ok(entries.includes(`${via} TLSA _25._tcp.mx1.example.com`), entries.join("\n"));
  });
}

test("STS-REC-02 dig: a CNAME is followed inside the answer", async (t) => {
  const s = await lab(t);
  const r = await dig(s, "A", "alias.example.com");
  assert.equal(r.status, "NOERROR");
  assert.deepEqual(r.answers, [
    "alias.example.com. 120 IN CNAME mx1.example.com.",
    "mx1.example.com. 300 IN A 127.0.0.10",
  ]);
  // Asking for the CNAME itself returns only the alias.
  assert.deepEqual((await dig(s, "CNAME", "alias.example.com")).answers, [
    "alias.example.com. 120 IN CNAME mx1.example.com.",
  ]);
});

test("STS-REC-02 dig: a CNAME loop stops instead of spinning", async (t) => {
  const s = await lab(t);
  const r = await dig(s, "TXT", "loop1.example.com");
  assert.equal(r.status, "NOERROR");
  assert.deepEqual(r.answers, [
    "loop1.example.com. 300 IN CNAME loop2.example.com.",
    "loop2.example.com. 300 IN CNAME loop1.example.com.",
  ]);
});

test("dig: a chain stops after 8 CNAMEs", async (t) => {
  const records: ZoneData["records"] = [];
  for (let i = 0; i < 12; i++) {
    records.push({ type: "CNAME", name: `c${i}.chain.test`, target: `c${i + 1}.chain.test` });
  }
  const s = await lab(t, [{ apex: "chain.test", records }]);
  const r = await dig(s, "A", "c0.chain.test");
  assert.equal(r.status, "NOERROR");
  assert.equal(r.answers.length, 8);
});

test("STS-REC-12 dig: NXDOMAIN, NODATA and an empty non-terminal carry the SOA", async (t) => {
  const s = await lab(t);
  const soa = "example.com. 60 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 60";
  const nx = await dig(s, "TXT", "_mta-sts.nowhere.example.com");
  assert.equal(nx.status, "NXDOMAIN");
  assert.ok(nx.flags.includes("aa"));
  assert.deepEqual(nx.authority, [soa]);
  const nodata = await dig(s, "TXT", "mx1.example.com");
  assert.equal(nodata.status, "NOERROR");
  assert.deepEqual(nodata.answers, []);
  assert.deepEqual(nodata.authority, [soa]);
  // below.example.com owns nothing but has a name under it: it exists (RFC 8020).
  const ent = await dig(s, "A", "below.example.com");
  assert.equal(ent.status, "NOERROR");
  assert.deepEqual(ent.answers, []);
  assert.equal((await dig(s, "SOA", "example.com")).answers[0], soa);
});

test("dig: names outside every zone are REFUSED, not answered", async (t) => {
  const s = await lab(t);
  const r = await dig(s, "A", "example.org");
  assert.equal(r.status, "REFUSED");
  assert.ok(!r.flags.includes("aa"));
  // Other classes are refused too; an unknown type in a zone is NODATA.
  assert.equal((await dig(s, "CH", "TXT", "version.bind")).status, "REFUSED");
  const odd = await dig(s, "TYPE65280", "mx1.example.com");
  assert.equal(odd.status, "NOERROR");
  assert.deepEqual(odd.answers, []);
});

test("STS-DANE-01 dig: AD only for an authenticated zone, only when asked by AD or DO", async (t) => {
  const s = await lab(t);
  assert.ok((await dig(s, "+adflag", "A", "mx.signed.test")).flags.includes("ad"));
  assert.ok((await dig(s, "+noadflag", "+dnssec", "A", "mx.signed.test")).flags.includes("ad"));
  assert.ok(!(await dig(s, "+noadflag", "A", "mx.signed.test")).flags.includes("ad"));
  assert.ok(!(await dig(s, "+dnssec", "A", "mx1.example.com")).flags.includes("ad"));
  // A validated denial is authenticated too.
  const nx = await dig(s, "+dnssec", "A", "none.signed.test");
  assert.equal(nx.status, "NXDOMAIN");
  assert.ok(nx.flags.includes("ad"));
});

test("STS-DANE-02 dig: named faults SERVFAIL, REFUSED, NXDOMAIN, per type too", async (t) => {
  const s = await lab(t);
  assert.equal((await dig(s, "TXT", "servfail.example.com")).status, "SERVFAIL");
  assert.equal((await dig(s, "+tcp", "TXT", "servfail.example.com")).status, "SERVFAIL");
  assert.equal((await dig(s, "TXT", "refused.example.com")).status, "REFUSED");
  assert.equal((await dig(s, "A", "gone.example.com")).status, "NXDOMAIN");
  // The fault on mx1 is for MX only; its A still answers.
  assert.equal((await dig(s, "MX", "mx1.example.com")).status, "SERVFAIL");
  assert.equal((await dig(s, "A", "mx1.example.com")).status, "NOERROR");
});

test("STS-REC-12 dig: the timeout fault never answers; garbage is not DNS", async (t) => {
  const s = await lab(t);
  const silent = await dig(s, "TXT", "silent.example.com");
  assert.equal(silent.status, "none");
  assert.match(silent.text, /timed out/);
  const garbage = await dig(s, "TXT", "garbage.example.com");
  assert.equal(garbage.status, "none");
  assert.ok(s.log.some((e) => e.name === "garbage.example.com"));
  // The server still answers afterwards.
  assert.equal((await dig(s, "A", "mx1.example.com")).status, "NOERROR");
});

test("dig: the truncated fault sets TC over UDP and answers in full over TCP", async (t) => {
  const s = await lab(t);
  const udpOnly = await dig(s, "+notcp", "+ignore", "A", "tc.example.com");
  assert.ok(udpOnly.flags.includes("tc"));
  assert.deepEqual(udpOnly.answers, []);
  const retried = await dig(s, "+notcp", "A", "tc.example.com");
  assert.match(retried.text, /Truncated, retrying in TCP mode/);
  assert.deepEqual(retried.answers, ["tc.example.com. 300 IN A 127.0.0.12"]);
  assert.deepEqual(
    s.log.filter((e) => e.name === "tc.example.com").map((e) => e.transport),
    ["udp", "udp", "tcp"],
  );
});

test("dig: UDP answers over 512 bytes (or the EDNS size) get TC, TCP carries them", async (t) => {
  const records: ZoneData["records"] = [];
  for (let i = 0; i < 20; i++) {
    records.push({ type: "TXT", name: "big.test", strings: [`${i}-${"x".repeat(90)}`] });
  }
  const s = await lab(t, [{ apex: "big.test", records }]);
  const classic = await dig(s, "+noedns", "+ignore", "TXT", "big.test");
  assert.ok(classic.flags.includes("tc"));
  const edns = await dig(s, "+bufsize=4096", "+ignore", "TXT", "big.test");
  assert.ok(!edns.flags.includes("tc"));
  assert.equal(edns.answers.length, 20);
  const fallback = await dig(s, "+bufsize=1232", "TXT", "big.test");
  assert.equal(fallback.answers.length, 20);
  assert.match(fallback.text, /\(TCP\)/);
});

function query(id: number, name: string, type = "A", extra: Partial<Packet> = {}): Buffer {
  return encode({
    type: "query",
    id,
    flags: 1 << 8,
    questions: [{ type: type as "A", name }],
    ...extra,
  });
}

function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

/** Sends datagrams and collects what comes back within `waitMs`. */
async function udpExchange(s: DnsServer, messages: Buffer[], waitMs = 300): Promise<Buffer[]> {
  const socket = createSocket("udp4");
  const got: Buffer[] = [];
  socket.on("message", (m) => got.push(m));
  await new Promise<void>((resolve) => socket.connect(s.port, s.address, resolve));
  for (const m of messages) socket.send(m);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  socket.close();
  return got;
}

test("TCP: several queries on one connection, framing split byte by byte", async (t) => {
  const s = await lab(t);
  const socket = connect({ host: s.address, port: s.port });
  t.after(() => socket.destroy());
  const replies: DecodedPacket[] = [];
  const allIn = new Promise<void>((resolve) => {
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        replies.push(decode(pending.subarray(2, 2 + pending.readUInt16BE(0))));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (replies.length === 3) resolve();
    });
  });
  const bytes = Buffer.concat([
    frame(query(1, "mx1.example.com")),
    frame(query(2, "example.com", "MX")),
    frame(query(3, "nowhere.example.com")),
  ]);
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  for (const byte of bytes) {
    socket.write(Buffer.from([byte]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await allIn;
  assert.deepEqual(
    replies.map((r) => [r.id, (r as unknown as { rcode: string }).rcode, r.answers?.length]),
    [
      [1, "NOERROR", 1],
      [2, "NOERROR", 1],
      [3, "NXDOMAIN", 0],
    ],
  );
  assert.ok(s.log.every((e) => e.transport === "tcp"));
});

test("malformed queries are dropped or answered FORMERR, and never stop the server", async (t) => {
  const s = await lab(t);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0xbeef, 0);
  header.writeUInt16BE(5, 4); // claims 5 questions, carries none
  const twoQuestions = encode({
    type: "query",
    id: 0x1234,
    questions: [
      { type: "A", name: "a.example.com" },
      { type: "A", name: "b.example.com" },
    ],
  });
  const response = encode({ type: "response", id: 7, questions: [{ type: "A", name: "x" }] });
  const got = await udpExchange(s, [
    Buffer.from([1, 2, 3]),
    header,
    twoQuestions,
    response,
    Buffer.from("not dns at all, just some text"),
  ]);
  const decoded = got.map((m) => decode(m) as unknown as { id: number; rcode: string });
  for (const d of decoded) assert.equal(d.rcode, "FORMERR");
  assert.ok(decoded.some((d) => d.id === 0xbeef));
  assert.ok(decoded.some((d) => d.id === 0x1234));
  assert.ok(!decoded.some((d) => d.id === 7), "a response is never answered");
  // Same over TCP, then a good query on the same connection.
  const socket = connect({ host: s.address, port: s.port });
  t.after(() => socket.destroy());
  const answer = new Promise<DecodedPacket>((resolve) => {
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const p = decode(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
        if (p.id === 9) resolve(p);
      }
    });
  });
  socket.write(
    Buffer.concat([frame(Buffer.from([0xff])), frame(header), frame(query(9, "mx1.example.com"))]),
  );
  assert.equal((await answer).answers?.length, 1);
});

test("the query log records name, type, transport and time", async (t) => {
  const s = await lab(t);
  const before = Date.now();
  await udpExchange(s, [query(1, "MX1.Example.COM.", "AAAA")]);
  assert.equal(s.log.length, 1);
  const [entry] = s.log;
  assert.equal(entry?.name, "mx1.example.com");
  assert.equal(entry?.type, "AAAA");
  assert.equal(entry?.transport, "udp");
  assert.ok((entry?.at ?? 0) >= before && (entry?.at ?? 0) <= Date.now());
});

test("setZones replaces the zones; bad zone data is a thrown error", async (t) => {
  const s = await lab(t);
  assert.equal((await dig(s, "A", "mx1.example.com")).status, "NOERROR");
  s.setZones([
    { apex: "other.test", records: [{ type: "A", name: "other.test", address: "127.0.0.9" }] },
  ]);
  assert.equal((await dig(s, "A", "mx1.example.com")).status, "REFUSED");
  assert.deepEqual((await dig(s, "A", "other.test")).answers, ["other.test. 300 IN A 127.0.0.9"]);
  assert.throws(
    () =>
      s.setZones([
        { apex: "a.test", records: [{ type: "A", name: "b.test", address: "127.0.0.1" }] },
      ]),
    /outside zone/,
  );
  assert.throws(
    () =>
      s.setZones([
        { apex: "a.test", records: [{ type: "TXT", name: "a.test", strings: ["x".repeat(256)] }] },
      ]),
    /over 255 bytes/,
  );
  assert.throws(
    () =>
      s.setZones([{ apex: "a.test", records: [{ type: "A", name: "a.test", address: "nope" }] }]),
    /cannot encode/,
  );
});

test("close() ends open TCP connections and frees the port", async () => {
  const s = await startDnsServer({ zones: [ZONE] });
  const socket = connect({ host: s.address, port: s.port });
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await s.close();
  await closed;
  // The same port can be bound again for both transports.
  const again = await startDnsServer({ zones: [ZONE], port: s.port });
  assert.equal(again.port, s.port);
  await Promise.all([again.close(), again.close()]);
  await again.close();
});

test("binds ::1 when asked", async (t) => {
  const s = await startDnsServer({ zones: [ZONE], address: "::1" });
  t.after(() => s.close());
  const r = await dig(s, "+tcp", "A", "mx1.example.com");
  assert.equal(r.status, "NOERROR");
});
