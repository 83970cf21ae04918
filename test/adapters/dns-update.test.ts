// RFC 2136 updates signed with TSIG against a real, private BIND named (test/
// support/named.ts), plus hand-made servers that answer with hostile bytes.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  type DnsUpdate,
  parseTsigKey,
  sendUpdate,
  type TsigKey,
  type UpdateOptions,
  type UpdateResult,
} from "../../src/adapters/dns-update.ts";
import { readReply } from "../../src/adapters/dns-update-reply.ts";
import { encodeUpdate } from "../../src/adapters/dns-update-wire.ts";
import { signMessage } from "../../src/adapters/tsig.ts";
import { type NamedServer, namedSkip, startNamed } from "../support/named.ts";

const ZONE = "example.test";
const newKey = (name: string, algorithm: TsigKey["algorithm"] = "hmac-sha256"): TsigKey => ({
  name,
  algorithm,
  secret: randomBytes(algorithm === "hmac-sha512" ? 64 : 32).toString("base64"),
});
const KEY = newKey("rollout-key");
const SHA512_KEY = newKey("sha512-key", "hmac-sha512");
const UNGRANTED_KEY = newKey("reader-key");

function failed(result: UpdateResult): Extract<UpdateResult, { ok: false }> {
  assert.equal(result.ok, false, "the update should have failed");
  return result as Extract<UpdateResult, { ok: false }>;
}

describe("dns-update against a real named", { skip: namedSkip(), timeout: 120_000 }, () => {
  let named: NamedServer;
  let options: UpdateOptions;
  const send = (update: Omit<DnsUpdate, "zone">, extra: Partial<UpdateOptions> = {}) =>
    sendUpdate({ zone: ZONE, ...update }, { ...options, ...extra });

  before(async () => {
    named = await startNamed({
      zone: ZONE,
      key: KEY,
      extraKeys: [SHA512_KEY, UNGRANTED_KEY],
      updatePolicy: `grant "${KEY.name}" zonesub ANY; grant "${SHA512_KEY.name}" zonesub ANY;`,
      records: [
        { name: "_mta-sts", type: "TXT", value: "v=STSv1; id=20260101" },
        { name: "mta-sts", type: "A", value: "192.0.2.10" },
        { name: "old", type: "TXT", value: "to be deleted" },
      ],
    });
    options = { server: { host: named.host, port: named.port }, key: named.key, timeoutMs: 5000 };
  });
  after(() => named?.close());

  test("adds a TXT record and reads it back (the signed reply verifies)", async () => {
    const result = await send({
      add: [
        {
          name: "_smtp._tls.example.test",
          type: "TXT",
          value: "v=TLSRPTv1; rua=mailto:tlsrpt@example.test",
        },
      ],
    });
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(await named.query("_smtp._tls.example.test", "TXT"), [
      "v=TLSRPTv1; rua=mailto:tlsrpt@example.test",
    ]);
  });

  test("a TXT value over 255 bytes goes out as several strings and reads back joined", async () => {
    // 2-byte characters astride the 255-byte boundary must not be cut in half.
    const value = `v=STSv1; id=${"a".repeat(242)}${"é".repeat(200)}`;
    assert.deepEqual(await send({ add: [{ name: "long.example.test", type: "TXT", value }] }), {
      ok: true,
    });
    assert.deepEqual(await named.query("long.example.test", "TXT"), [value]);
  });

  test("STS-OPS-01 a new TXT id replaces the old one in one update, leaving exactly one record", async () => {
    assert.deepEqual(await named.query("_mta-sts.example.test", "TXT"), ["v=STSv1; id=20260101"]);
    const result = await send({
      replace: [{ name: "_mta-sts.example.test", type: "TXT" }],
      add: [
        { name: "_mta-sts.example.test", type: "TXT", ttl: 600, value: "v=STSv1; id=20260202" },
      ],
    });
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(await named.query("_mta-sts.example.test", "TXT"), ["v=STSv1; id=20260202"]);
  });

  test("deletes an RRset", async () => {
    assert.deepEqual(await named.query("old.example.test", "TXT"), ["to be deleted"]);
    assert.deepEqual(await send({ delete: [{ name: "old.example.test", type: "TXT" }] }), {
      ok: true,
    });
    assert.deepEqual(await named.query("old.example.test", "TXT"), []);
  });

  test("STS-OPS-02 delegation: _mta-sts TXT and mta-sts A become CNAMEs to the provider in one update", async () => {
    const result = await send({
      replace: [
        { name: "_mta-sts.deleg.example.test", type: "TXT" },
        { name: "mta-sts.example.test", type: "A" },
      ],
      add: [
        { name: "_mta-sts.deleg.example.test", type: "CNAME", value: "_mta-sts.provider.test" },
        { name: "mta-sts.example.test", type: "CNAME", value: "mta-sts.provider.test." },
      ],
    });
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(await named.query("_mta-sts.deleg.example.test", "CNAME"), [
      "_mta-sts.provider.test",
    ]);
    assert.deepEqual(await named.query("mta-sts.example.test", "CNAME"), ["mta-sts.provider.test"]);
    assert.deepEqual(await named.query("mta-sts.example.test", "A"), []);
  });

  test("STS-OPS-02 without replace, named ignores a CNAME added beside other data (RFC 2136 §3.4.2.2)", async () => {
    // The update succeeds but changes nothing: why delegation must delete the TXT in the same update.
    const add = [
      { name: "_mta-sts.example.test", type: "CNAME" as const, value: "_mta-sts.provider.test" },
    ];
    assert.deepEqual(await send({ add }), { ok: true });
    assert.deepEqual(await named.query("_mta-sts.example.test", "CNAME"), []);
    assert.equal((await named.query("_mta-sts.example.test", "TXT")).length, 1);
  });

  test("adds A and AAAA records, over TCP when asked", async () => {
    const result = await send(
      {
        add: [
          { name: "host.example.test", type: "A", value: "192.0.2.7" },
          { name: "host.example.test", type: "AAAA", value: "2001:db8::7" },
          { name: "host.example.test", type: "AAAA", value: "::ffff:192.0.2.8" },
        ],
      },
      { tcp: true },
    );
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(await named.query("host.example.test", "A"), ["192.0.2.7"]);
    assert.deepEqual(
      (await named.query("host.example.test", "AAAA")).sort(),
      ["2001:db8::7", "::ffff:c000:208"].sort(),
    );
  });

  test("an update too big for 512 bytes goes over TCP", async () => {
    const add = Array.from({ length: 12 }, (_, i) => ({
      name: `many.example.test`,
      type: "TXT" as const,
      value: `record ${i} ${"x".repeat(60)}`,
    }));
    assert.deepEqual(await send({ add }), { ok: true });
    assert.equal((await named.query("many.example.test", "TXT")).length, 12);
  });

  test("signs with hmac-sha512 too", async () => {
    const result = await send(
      { add: [{ name: "sha512.example.test", type: "A", value: "192.0.2.9" }] },
      { key: SHA512_KEY },
    );
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(await named.query("sha512.example.test", "A"), ["192.0.2.9"]);
  });

  test("a wrong secret is BADSIG: the TSIG secret does not match the server's", async () => {
    const wrong = { ...KEY, secret: randomBytes(32).toString("base64") };
    const result = failed(
      await send(
        { add: [{ name: "x.example.test", type: "A", value: "192.0.2.1" }] },
        { key: wrong },
      ),
    );
    assert.equal(result.rcode, "BADSIG");
    assert.match(result.message, /the TSIG secret does not match the server's/);
    assert.deepEqual(await named.query("x.example.test", "A"), []);
  });

  test("a key the server does not know is BADKEY", async () => {
    const result = failed(
      await send(
        { add: [{ name: "x.example.test", type: "A", value: "192.0.2.1" }] },
        { key: newKey("unknown-key") },
      ),
    );
    assert.equal(result.rcode, "BADKEY");
    assert.match(result.message, /does not know TSIG key "unknown-key"/);
  });

  test("a clock far off is BADTIME, and says to check the clocks", async () => {
    const now = () => new Date(Date.now() - 3600_000);
    const result = failed(
      await send({ add: [{ name: "x.example.test", type: "A", value: "192.0.2.1" }] }, { now }),
    );
    assert.equal(result.rcode, "BADTIME");
    assert.match(result.message, /clock/);
  });

  test("a name outside the zone is NOTZONE, and nothing in the update is applied", async () => {
    const result = failed(
      await send({
        add: [
          { name: "inside.example.test", type: "A", value: "192.0.2.2" },
          { name: "outside.other.test", type: "A", value: "192.0.2.2" },
        ],
      }),
    );
    assert.equal(result.rcode, "NOTZONE");
    assert.match(result.message, /not inside zone example\.test/);
    assert.deepEqual(await named.query("inside.example.test", "A"), []);
  });

  test("no key where the zone requires one is REFUSED, with the update-policy hint", async () => {
    const result = failed(
      await send(
        { add: [{ name: "x.example.test", type: "A", value: "192.0.2.1" }] },
        { key: undefined },
      ),
    );
    assert.equal(result.rcode, "REFUSED");
    assert.match(
      result.message,
      /is the key allowed to update zone example\.test \(update-policy\)\?/,
    );
    assert.match(result.message, /No TSIG key was given/);
  });

  test("a known key the policy does not grant is REFUSED, naming the key", async () => {
    const result = failed(
      await send(
        { add: [{ name: "x.example.test", type: "A", value: "192.0.2.1" }] },
        { key: UNGRANTED_KEY },
      ),
    );
    assert.equal(result.rcode, "REFUSED");
    assert.match(
      result.message,
      /is the key allowed to update zone example\.test \(update-policy\)\? The key "reader-key" needs a grant/,
    );
  });

  test("an update with no changes checks server, zone and key, and changes nothing", async () => {
    // What a pre-flight can send: BIND verifies the TSIG and the zone, not the grants.
    assert.deepEqual(await send({}), { ok: true });
    const wrong = { ...KEY, secret: randomBytes(32).toString("base64") };
    assert.equal(failed(await send({}, { key: wrong })).rcode, "BADSIG");
    assert.equal(failed(await sendUpdate({ zone: "other.test" }, options)).rcode, "NOTAUTH");
  });

  test("a reply altered on the way (REFUSED turned into NOERROR) fails TSIG verification", async () => {
    // A relay between us and named that rewrites the rcode of every reply.
    const relay = createSocket("udp4");
    await new Promise<void>((resolve) => relay.bind(0, "127.0.0.1", resolve));
    const upstream = createSocket("udp4");
    let client: { port: number; address: string } | undefined;
    relay.on("message", (query, peer) => {
      client = peer;
      upstream.send(query, named.port, named.host);
    });
    upstream.on("message", (reply) => {
      const forged = Buffer.from(reply);
      forged[3] = (forged[3] ?? 0) & 0xf0; // rcode NOERROR
      if (client) relay.send(forged, client.port, client.address);
    });
    try {
      const server = { host: "127.0.0.1", port: relay.address().port };
      const update = { add: [{ name: "x.example.test", type: "A" as const, value: "192.0.2.1" }] };
      const result = failed(await send(update, { server, key: UNGRANTED_KEY }));
      assert.equal(result.rcode, "BADSIG");
      assert.match(result.message, /does not verify with our key/);
    } finally {
      relay.close();
      upstream.close();
    }
  });

  test("a zone the server does not serve is NOTAUTH", async () => {
    const result = failed(
      await sendUpdate(
        { zone: "other.test", add: [{ name: "a.other.test", type: "A", value: "192.0.2.1" }] },
        options,
      ),
    );
    assert.equal(result.rcode, "NOTAUTH");
    assert.match(result.message, /not authoritative for zone other\.test/);
  });
});

describe("dns-update with the narrow update-policy of docs/dns-update.md", {
  skip: namedSkip(),
  timeout: 60_000,
}, () => {
  let named: NamedServer;
  before(async () => {
    named = await startNamed({
      zone: "example.com",
      key: KEY,
      updatePolicy: [
        `grant ${KEY.name} name _mta-sts.example.com. TXT CNAME;`,
        `grant ${KEY.name} name _smtp._tls.example.com. TXT;`,
        `grant ${KEY.name} name mta-sts.example.com. A AAAA CNAME;`,
      ].join(" "),
    });
  });
  after(() => named?.close());

  test("the granted names and types update; anything else is REFUSED", async () => {
    const options = { server: { host: named.host, port: named.port }, key: KEY };
    const granted = await sendUpdate(
      {
        zone: "example.com",
        replace: [{ name: "_mta-sts.example.com", type: "TXT" }],
        add: [
          { name: "_mta-sts.example.com", type: "TXT", value: "v=STSv1; id=1" },
          { name: "mta-sts.example.com", type: "AAAA", value: "2001:db8::443" },
        ],
      },
      options,
    );
    assert.deepEqual(granted, { ok: true });
    assert.deepEqual(await named.query("_mta-sts.example.com", "TXT"), ["v=STSv1; id=1"]);
    const other = failed(
      await sendUpdate(
        { zone: "example.com", add: [{ name: "www.example.com", type: "A", value: "192.0.2.80" }] },
        options,
      ),
    );
    assert.equal(other.rcode, "REFUSED");
    assert.match(other.message, /update-policy/);
  });
});

describe("the named harness", { skip: namedSkip(), timeout: 60_000 }, () => {
  test("close() stops named and removes its temp dir", async () => {
    const named = await startNamed({
      zone: "harness.test",
      records: [{ name: "@", type: "TXT", value: "here" }],
    });
    assert.deepEqual(await named.query("harness.test", "TXT"), ["here"]);
    assert.ok(existsSync(named.dir));
    await named.close();
    await named.close(); // twice is harmless
    assert.equal(existsSync(named.dir), false);
    await assert.rejects(named.query("harness.test", "TXT"), /connection refused/);
  });

  test("a zone named cannot load fails startNamed with named's log, not a hang", async () => {
    await assert.rejects(
      startNamed({
        zone: "broken.test",
        records: [{ name: "www", type: "A", value: "not-an-address" }],
      }),
      (error: Error) =>
        /does not (serve|answer)/.test(error.message) && /broken\.test/.test(error.message),
    );
  });
});

describe("namedSkip", () => {
  test("without named: a skip message off CI, an error on CI", () => {
    const saved = { named: process.env.MTASTS_TEST_NAMED, ci: process.env.CI };
    try {
      process.env.MTASTS_TEST_NAMED = "/nonexistent/named";
      delete process.env.CI;
      assert.match(
        String(namedSkip()),
        /named is not installed at \/nonexistent\/named; install Debian's bind9/,
      );
      process.env.CI = "1";
      assert.throws(() => namedSkip(), /CI is set, so a missing named fails/);
    } finally {
      for (const [name, value] of [
        ["MTASTS_TEST_NAMED", saved.named],
        ["CI", saved.ci],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe("dns-update without a server", () => {
  test("invalid input is INVALID, before anything is sent", async () => {
    const server = { host: "127.0.0.1", port: 9 };
    const cases: [DnsUpdate, RegExp, UpdateOptions["server"]?][] = [
      [
        { zone: ZONE, add: [{ name: "a.example.test", type: "A", value: "2001:db8::1" }] },
        /not an IPv4 address/,
      ],
      [
        { zone: ZONE, add: [{ name: "a.example.test", type: "AAAA", value: "192.0.2.1" }] },
        /not an IPv6 address/,
      ],
      [
        { zone: ZONE, add: [{ name: `${"l".repeat(64)}.example.test`, type: "TXT", value: "x" }] },
        /longer than 63 bytes/,
      ],
      [{ zone: ZONE, add: [{ name: "a..example.test", type: "TXT", value: "x" }] }, /empty label/],
      [
        { zone: ZONE, add: [{ name: "a.example.test", type: "TXT", ttl: -1, value: "x" }] },
        /ttl -1/,
      ],
      [
        { zone: ZONE, add: [{ name: "a.example.test", type: "TXT", value: "x".repeat(70_000) }] },
        /too long/,
      ],
      [
        { zone: ZONE, delete: [{ name: "a.example.test", type: "MX" as "A" }] },
        /unsupported type "MX"/,
      ],
      [
        { zone: ZONE, add: [{ name: "bücher.example.test", type: "A", value: "192.0.2.1" }] },
        /A-label form/,
      ],
      [{ zone: ZONE, add: [] }, /must be an IP address/, { host: "ns1.example.test", port: 53 }],
      [{ zone: ZONE, add: [] }, /port from 1 to 65535/, { host: "127.0.0.1", port: 0 }],
    ];
    for (const [update, pattern, where = server] of cases) {
      const result = failed(await sendUpdate(update, { server: where, timeoutMs: 1000 }));
      assert.equal(result.rcode, "INVALID");
      assert.match(result.message, pattern);
    }
  });

  test("a server that is down is CONNREFUSED over UDP and TCP", async () => {
    const port = await closedPort();
    for (const tcp of [false, true]) {
      const result = failed(
        await sendUpdate(
          { zone: ZONE, delete: [{ name: "a.example.test", type: "A" }] },
          { server: { host: "127.0.0.1", port }, key: KEY, tcp, timeoutMs: 3000 },
        ),
      );
      assert.equal(result.rcode, "CONNREFUSED", result.message);
      assert.match(result.message, /is named running and listening there\?/);
      assert.equal(result.temporary, true);
    }
  });

  test("a server that never answers is TIMEOUT", async () => {
    const silent = await fakeServer(() => null);
    try {
      const result = failed(
        await sendUpdate(
          { zone: ZONE, delete: [{ name: "a.example.test", type: "A" }] },
          { server: silent.server, key: KEY, timeoutMs: 200 },
        ),
      );
      assert.equal(result.rcode, "TIMEOUT");
      assert.match(result.message, /no reply over UDP within \d+ ms/);
    } finally {
      await silent.close();
    }
  });

  test("hostile or short replies never crash; each is a failure that says why", async () => {
    // [label, reply to the query, expected rcode, message pattern]
    const replies: [string, (query: Buffer) => Buffer, string, RegExp][] = [
      ["wrong opcode", (q) => header(q, 0x8000), "BADREPLY", /opcode 0, not UPDATE/],
      [
        "claims 65535 records",
        (q) => header(q, 0xa800, [0, 0xffff, 0, 0]),
        "BADREPLY",
        /cut short/,
      ],
      [
        "compression loop",
        (q) =>
          Buffer.concat([header(q, 0xa800, [1, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 6, 0, 1])]),
        "BADREPLY",
        /compression pointer/,
      ],
      [
        "compression loop through a label",
        (q) =>
          Buffer.concat([
            header(q, 0xa800, [1, 0, 0, 0]),
            Buffer.from([1, 97, 0xc0, 12, 0, 6, 0, 1]),
          ]),
        "BADREPLY",
        /compression pointer/,
      ],
      [
        "TSIG record cut short",
        (q) =>
          Buffer.concat([
            header(q, 0xa800, [0, 0, 0, 1]),
            Buffer.from([0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 4, 11, 104, 109]),
          ]),
        "BADREPLY",
        /cut short/,
      ],
      [
        "NOERROR but unsigned",
        (q) => header(q, 0xa800),
        "BADREPLY",
        /not signed, so it cannot be trusted/,
      ],
      // Signed with the right key but not over our request's MAC: a replayed or forged success.
      [
        "signed, not bound to our request",
        (q) => signMessage(header(q, 0xa800), KEY, new Date()).bytes,
        "BADSIG",
        /does not verify with our key/,
      ],
    ];
    for (const [label, reply, rcode, pattern] of replies) {
      for (const tcp of [false, true]) {
        const hostile = await fakeServer(reply);
        try {
          const update: DnsUpdate = { zone: ZONE, delete: [{ name: "a.example.test", type: "A" }] };
          const result = failed(
            await sendUpdate(update, { server: hostile.server, key: KEY, tcp, timeoutMs: 2000 }),
          );
          assert.equal(
            result.rcode,
            rcode,
            `${label} over ${tcp ? "TCP" : "UDP"}: ${result.message}`,
          );
          assert.match(result.message, pattern);
        } finally {
          await hostile.close();
        }
      }
    }
  });

  test("a reply shorter than a header: ignored over UDP (then TIMEOUT), BADREPLY over TCP", async () => {
    const short = await fakeServer((q) => Buffer.concat([q.subarray(0, 2), Buffer.from([0x80])]));
    try {
      const update: DnsUpdate = { zone: ZONE, delete: [{ name: "a.example.test", type: "A" }] };
      const udp = failed(
        await sendUpdate(update, { server: short.server, key: KEY, timeoutMs: 300 }),
      );
      assert.equal(udp.rcode, "TIMEOUT");
      const tcp = failed(
        await sendUpdate(update, { server: short.server, key: KEY, tcp: true, timeoutMs: 2000 }),
      );
      assert.equal(tcp.rcode, "BADREPLY");
      assert.match(tcp.message, /shorter than a DNS header/);
    } finally {
      await short.close();
    }
  });

  test("a truncated UDP reply is retried over TCP", async () => {
    const seen: string[] = [];
    const server = await fakeServer((q, transport) => {
      seen.push(transport);
      return header(q, transport === "udp" ? 0xaa00 : 0xa805); // TC, then REFUSED
    });
    try {
      const result = failed(
        await sendUpdate(
          { zone: ZONE, delete: [{ name: "a.example.test", type: "A" }] },
          { server: server.server, timeoutMs: 2000 },
        ),
      );
      assert.equal(result.rcode, "REFUSED");
      assert.deepEqual(seen, ["udp", "tcp"]);
    } finally {
      await server.close();
    }
  });

  test("readReply survives random bytes", () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(i % 300);
      if (i % 3 === 0 && bytes.length >= 12) bytes.writeUInt16BE(1, 10); // more often reach the record walk
      const reply = readReply(bytes);
      assert.ok("error" in reply || typeof reply.rcode === "number");
    }
  });

  test("TXT strings are at most 255 bytes each", () => {
    const encoded = encodeUpdate(
      {
        zone: ZONE,
        deletes: [],
        adds: [{ name: "t.example.test", type: "TXT", ttl: 300, value: "z".repeat(600) }],
      },
      1,
    );
    assert.ok(encoded.ok);
    const rdata = encoded.bytes.subarray(encoded.bytes.length - 603);
    assert.deepEqual([rdata[0], rdata[256], rdata[512]], [255, 255, 90]);
  });
});

describe("parseTsigKey", () => {
  const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IS8vKys=";

  test("reads NAME:ALG:BASE64 and nsupdate's ALG:NAME:BASE64", () => {
    const expected = { name: "rollout", algorithm: "hmac-sha256", secret: SECRET };
    assert.deepEqual(parseTsigKey(`rollout:hmac-sha256:${SECRET}`), expected);
    assert.deepEqual(parseTsigKey(`HMAC-SHA256:rollout.:${SECRET}\n`), expected);
  });

  test("reads a BIND key statement, comments and all, with // inside the secret", () => {
    const text = `# made by tsig-keygen\nkey "rollout.example" { // for mtasts\n  algorithm hmac-sha512; /* strong */\n  secret "${SECRET}";\n};\n`;
    assert.deepEqual(parseTsigKey(text), {
      name: "rollout.example",
      algorithm: "hmac-sha512",
      secret: SECRET,
    });
  });

  test("reads what tsig-keygen prints", {
    skip: existsSync("/usr/sbin/tsig-keygen") ? false : "no tsig-keygen",
  }, () => {
    const text = execFileSync("/usr/sbin/tsig-keygen", ["-a", "hmac-sha256", "made.by.keygen"], {
      encoding: "utf8",
    });
    const key = parseTsigKey(text);
    assert.ok(!("error" in key), JSON.stringify(key));
    assert.equal(key.name, "made.by.keygen");
    assert.equal(Buffer.from(key.secret, "base64").length, 32);
  });

  test("never throws on junk", () => {
    const pieces = [
      "key",
      '"',
      "{",
      "}",
      ";",
      ":",
      "hmac-sha256",
      "secret",
      "algorithm",
      "/*",
      "//",
      "#",
      "\n",
      "a",
      "==",
    ];
    for (let i = 0; i < 3000; i++) {
      const text = Array.from(
        { length: i % 25 },
        (_, j) => pieces[(i * 7 + j * 13) % pieces.length],
      ).join(i % 2 ? " " : "");
      const parsed = parseTsigKey(text);
      assert.ok("error" in parsed || typeof parsed.secret === "string");
    }
  });

  test("says what is wrong, never echoing the secret", () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["just-a-name", /not in a known form/],
      [`k:hmac-md5:${SECRET}`, /"hmac-md5" is not supported: use hmac-sha256 or hmac-sha512/],
      [`k:rot13:${SECRET}`, /not a TSIG algorithm/],
      ["k:hmac-sha256:not base64!", /not base64/],
      ["k:hmac-sha256:c2hvcnQ=", /shorter than 16 bytes/],
      [
        `key "a" { algorithm hmac-sha256; secret "${SECRET}"; };\nkey "b" { algorithm hmac-sha256; secret "${SECRET}"; };`,
        /holds 2 keys \(a, b\)/,
      ],
      ['key "a" { secret "x"; };', /no `algorithm/],
      ['key "a" { algorithm hmac-sha256; };', /no `secret/],
      [`a..b:hmac-sha256:${SECRET}`, /not a DNS name/],
    ];
    for (const [text, pattern] of cases) {
      const parsed = parseTsigKey(text);
      assert.ok("error" in parsed, `${JSON.stringify(text)} should not parse`);
      assert.match(parsed.error, pattern);
      assert.ok(!parsed.error.includes(SECRET), "the error must not contain the secret");
    }
  });
});

/** A reply header for query `q`: its ID, the given flags and section counts. */
function header(
  q: Buffer,
  flags: number,
  counts: [number, number, number, number] = [0, 0, 0, 0],
): Buffer {
  const r = Buffer.alloc(12);
  q.copy(r, 0, 0, 2);
  r.writeUInt16BE(flags, 2);
  counts.forEach((count, i) => {
    r.writeUInt16BE(count, 4 + 2 * i);
  });
  return r;
}

/** A port nothing listens on (for UDP or TCP) right after this returns. */
async function closedPort(): Promise<number> {
  const tcp = createServer();
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  const address = tcp.address();
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

/** UDP and TCP on one loopback port, answering each query with `answer`'s bytes (null: silence). */
async function fakeServer(
  answer: (query: Buffer, transport: "udp" | "tcp") => Buffer | null,
): Promise<{ server: { host: string; port: number }; close(): Promise<void> }> {
  // The UDP port picked may be taken for TCP: then close it and pick again.
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    const port = udp.address().port;
    udp.on("message", (query, peer) => {
      const reply = answer(query, "udp");
      if (reply) udp.send(reply, peer.port, peer.address);
    });
    const sockets = new Set<Socket>();
    const tcp = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      let buffered = Buffer.alloc(0);
      socket.on("data", (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
        const reply = answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0)), "tcp");
        if (!reply) return;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        socket.end(Buffer.concat([length, reply]));
      });
    });
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, "127.0.0.1", () => resolve(true));
    });
    const closeUdp = () => new Promise<void>((resolve) => udp.close(() => resolve()));
    if (!listening) {
      await closeUdp();
      if (attempt >= 20) throw new Error("no loopback port free for both UDP and TCP");
      continue;
    }
    return {
      server: { host: "127.0.0.1", port },
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        await closeUdp();
      },
    };
  }
}
