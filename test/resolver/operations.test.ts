// What an operator sees: Prometheus metrics, /healthz, graceful shutdown that
// drains in-flight lookups, and the reply rules that keep Postfix's attribute
// syntax intact (SM-WEAK-11).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { parsePolicy } from "../../src/core/policy.ts";
import { policyStrings, stsReply } from "../../src/resolver/answer.ts";
import { encodeNetstring } from "../../src/resolver/netstring.ts";
import { type LabResolver, startLabResolver } from "./lab-resolver.ts";
import { connectSocketmap } from "./socketmap-client.ts";

let lab: Lab;
let r: LabResolver;

before(async () => {
  lab = await startLab(
    scenario(
      { domain: "good.test" },
      { domain: "broken.test", faults: ["policy:404"] },
      { domain: "plain.test", faults: ["dns:sts-missing"] },
      { domain: "hangs.test", faults: ["policy:slow-headers"] },
    ),
  );
  r = await startLabResolver(lab, (c) => {
    c.metricsListen = "127.0.0.1:0";
    c.defaultZone.timeoutMs = 1500;
  });
});
after(async () => {
  await r?.close();
  await lab?.close();
});

async function scrape(path = "/metrics"): Promise<{ status: number; type: string; body: string }> {
  const a = r.daemon.metricsAddress();
  assert.ok(a, "metrics listen address");
  const res = await fetch(`http://${a.host}:${a.port}${path}`);
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: await res.text(),
  };
}

const sample = (body: string, line: string) => {
  const m = body.split("\n").find((l) => l.startsWith(`${line} `));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
};

test("metrics count lookups by reply, cache results, fetch failures by kind, and latency", async () => {
  await r.ask("postfix", "good.test");
  await r.ask("postfix", "good.test");
  await r.ask("postfix", "broken.test");
  await r.ask("postfix", "plain.test");
  await r.ask("postfix", "plain.test");
  await r.ask("postfix", "[192.0.2.1]");
  const m = await scrape();
  assert.equal(m.status, 200);
  assert.match(m.type, /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(m.body, 'mtasts_resolver_lookups_total{reply="secure"}'), 2);
  assert.equal(sample(m.body, 'mtasts_resolver_lookups_total{reply="notfound"}'), 3);
  assert.equal(sample(m.body, 'mtasts_resolver_lookups_total{reply="skip"}'), 1);
  assert.equal(sample(m.body, 'mtasts_resolver_cache_total{result="hit"}'), 1);
  assert.equal(sample(m.body, 'mtasts_resolver_cache_total{result="negative"}'), 1);
  assert.equal(sample(m.body, 'mtasts_resolver_fetches_total{result="ok"}'), 1);
  assert.equal(sample(m.body, 'mtasts_resolver_fetches_total{result="fetch.status"}'), 1);
  assert.equal(sample(m.body, 'mtasts_resolver_txt_lookups_total{outcome="none"}'), 1);
  assert.equal(sample(m.body, "mtasts_resolver_lookup_duration_seconds_count"), 6);
  assert.equal(sample(m.body, 'mtasts_resolver_lookup_duration_seconds_bucket{le="+Inf"}'), 6);
  assert.equal(sample(m.body, "mtasts_resolver_policies_in_memory"), 1);
  assert.equal(sample(m.body, "mtasts_resolver_policies_stored"), 1);
  // The process's own memory, read at scrape time: resident holds the heap.
  const resident = sample(m.body, "mtasts_resolver_memory_resident_bytes") ?? 0;
  const heapUsed = sample(m.body, "mtasts_resolver_memory_heap_used_bytes") ?? 0;
  assert.ok(heapUsed > 0 && resident > heapUsed, `resident ${resident}, heap used ${heapUsed}`);
  assert.ok((sample(m.body, "mtasts_resolver_memory_heap_total_bytes") ?? 0) >= heapUsed);
  assert.ok((sample(m.body, "mtasts_resolver_memory_external_bytes") ?? 0) > 0);
});

test("/healthz answers ok; other paths 404; writes are refused", async () => {
  assert.deepEqual(await scrape("/healthz"), { status: 200, type: "text/plain", body: "ok\n" });
  assert.equal((await scrape("/nope")).status, 404);
  const a = r.daemon.metricsAddress();
  const post = await fetch(`http://${a?.host}:${a?.port}/metrics`, { method: "POST" });
  assert.equal(post.status, 405);
});

test("SM-WEAK-11 policy lines that could break Postfix's { … } syntax are left out of policy_string", () => {
  const parsed = parsePolicy(
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\nx-note: a}b\nx-ok: fine\n",
  );
  assert.ok(parsed.ok);
  assert.deepEqual(policyStrings(parsed.value), [
    "mx: mail.example.com",
    "version: STSv1",
    "mode: enforce",
    "max_age: 86400",
    "x-ok: fine",
  ]);
  const zone = { strictTesting: false, timeoutMs: 1000, requireSni: false, tlsrpt: true };
  const reply = stsReply(parsed.value, "example.com", zone);
  assert.doesNotMatch(reply, /a\}b/);
  assert.equal((reply.match(/\{/g) ?? []).length, (reply.match(/\}/g) ?? []).length);
});

test("STS-POL-10 a policy whose every mx is an IP literal names no host: TEMP, not an empty match list", () => {
  const parsed = parsePolicy("version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmax_age: 86400\n");
  assert.ok(parsed.ok, JSON.stringify(parsed.diagnostics));
  const zone = { strictTesting: false, timeoutMs: 1000, requireSni: true, tlsrpt: false };
  assert.match(stsReply(parsed.value, "example.com", zone), /^TEMP /);
});

test("graceful shutdown: an in-flight lookup is answered before the daemon stops", async () => {
  const d = await startLabResolver(lab, (c) => {
    c.defaultZone.timeoutMs = 800;
    c.shutdownTimeoutMs = 5000;
  });
  const c = await connectSocketmap(d.daemon.address());
  c.send(encodeNetstring("postfix hangs.test"));
  await new Promise((res) => setTimeout(res, 100));
  const closing = d.close();
  assert.deepEqual(await c.readReplies(1, 5000), ["NOTFOUND "]);
  await closing;
  assert.equal(await c.ended(2000), true);
});

test("SM-WEAK-02 the TLSRPT attributes are matched to the local Postfix version", async () => {
  const { tlsrptAdvice } = await import("../../src/resolver/postfix-version.ts");
  const zone = { strictTesting: false, timeoutMs: 4000, requireSni: true, tlsrpt: false };
  const on = new Map([["postfix", { ...zone, tlsrpt: true }]]);
  assert.match(
    tlsrptAdvice("3.7.11", zone, on) ?? "",
    /rejects the TLSRPT attributes that zones\.postfix/,
  );
  assert.equal(tlsrptAdvice("3.7.11", zone, new Map()), null);
  assert.match(tlsrptAdvice("3.10.5", zone, new Map()) ?? "", /connects only to MX hosts/);
  assert.equal(tlsrptAdvice("3.11.0", zone, on), null);
  assert.equal(tlsrptAdvice("3.10.1", zone, new Map()), null);
});

test("a fetcher that throws (a bug) costs that answer, not the daemon", async () => {
  const d = await startLabResolver(lab, undefined, {
    fetchPolicy: () => {
      throw new Error("boom");
    },
  });
  try {
    assert.equal(await d.ask("postfix", "good.test"), "NOTFOUND ");
    assert.equal(await d.ask("postfix", "[192.0.2.7]"), "NOTFOUND ");
    const m = d.daemon.metrics.render({});
    assert.match(m, /mtasts_resolver_store_errors_total 1/);
  } finally {
    await d.close();
  }
});
