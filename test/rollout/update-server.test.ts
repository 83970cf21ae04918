// `--update-server` by address or by the primary nameserver's name, resolved
// through real DNS (a private named serving the zone).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createResolver } from "../../src/adapters/dns.ts";
import { parseUpdateServer, updateServerAddress } from "../../src/cli/update-server.ts";
import { type NamedServer, namedSkip, startNamed } from "../support/named.ts";

test("addresses and host names parse, with port 53 by default; anything else is refused", () => {
  assert.deepEqual(parseUpdateServer("192.0.2.53"), { host: "192.0.2.53", port: 53 });
  assert.deepEqual(parseUpdateServer("192.0.2.53:5353"), { host: "192.0.2.53", port: 5353 });
  assert.deepEqual(parseUpdateServer("[2001:db8::53]:5353"), { host: "2001:db8::53", port: 5353 });
  assert.deepEqual(parseUpdateServer("NS1.Example.COM."), { name: "ns1.example.com", port: 53 });
  assert.deepEqual(parseUpdateServer("ns1.example.com:5300"), {
    name: "ns1.example.com",
    port: 5300,
  });
  for (const bad of [
    "",
    "ns..example:53",
    "ns example",
    "ns.example:0",
    "ns.example:70000",
    "[ns.example]:53",
    "-ns.example",
  ])
    assert.equal(parseUpdateServer(bad), null, bad);
});

describe("a name is resolved with the rollout's resolvers", { skip: namedSkip() }, () => {
  let named: NamedServer;
  before(async () => {
    named = await startNamed({
      zone: "good.test",
      records: [{ name: "ns", type: "A", value: "127.0.0.1" }],
    });
  });
  after(() => named?.close());

  test("ns.good.test becomes its address, keeping the port given", async () => {
    const resolver = createResolver({ servers: [{ host: named.host, port: named.port }] });
    const server = parseUpdateServer(`ns.good.test:${named.port}`);
    assert.ok(server);
    assert.deepEqual(await updateServerAddress(server, resolver), {
      host: "127.0.0.1",
      port: named.port,
    });
    const missing = parseUpdateServer("nowhere.good.test");
    assert.ok(missing);
    const answer = await updateServerAddress(missing, resolver);
    assert.ok("error" in answer);
    assert.match(answer.error, /nowhere\.good\.test: the name has no A or AAAA record/);
  });
});
