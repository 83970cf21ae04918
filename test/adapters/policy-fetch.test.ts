// fetchPolicy against the lab: the test CA and one HTTPS policy host on
// loopback. Every site is a domain `<case>.test`; the injected lookup sends
// every name to the lab host.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import { type CertFault, createTestCa, type TestCa } from "../../lab/ca.ts";
import {
  defaultPolicy,
  type HttpsFault,
  type PolicyHost,
  type PolicySite,
  startPolicyHost,
} from "../../lab/https-host.ts";
import {
  fetchPolicy,
  type PolicyFetchOptions,
  type PolicyFetchResult,
} from "../../src/adapters/policy-fetch.ts";
import { resultTypeFor } from "../../src/core/result-type.ts";

let ca: TestCa;
let host: PolicyHost;

const httpsFaults: HttpsFault[] = [
  "404",
  "500",
  "redirect",
  "content-type-html",
  "no-content-type",
  "charset-latin1",
  "oversize",
  "oversize-chunked",
  "slow-body",
  "slow-headers",
  "tls-1.0",
];
const certFaults = [
  "expired",
  "not-yet-valid",
  "wrong-name",
  "self-signed",
  "untrusted-root",
  "missing-intermediate",
  "cn-only",
  "weak-key",
] as const satisfies readonly CertFault[];

const exactly = (n: number) => `${defaultPolicy("mta-sts.x.test")}${"#".repeat(n)}`.slice(0, n);

before(async () => {
  ca = await createTestCa();
  const site = async (
    domain: string,
    extra: Partial<PolicySite> = {},
  ): Promise<[string, PolicySite]> => [
    `mta-sts.${domain}`,
    { cert: await ca.issue({ names: [`mta-sts.${domain}`] }), ...extra },
  ];
  const entries = await Promise.all([
    site("ok.test"),
    site("cache.test", {
      headers: { "cache-control": "max-age=600", expires: "Thu, 01 Jan 2099 00:00:00 GMT" },
    }),
    site("flowed.test", { headers: { "content-type": "Text/Plain; format=flowed" } }),
    site("upper.test", { headers: { "content-type": 'TEXT/PLAIN; Charset="UTF-8"' } }),
    site("max.test", { body: exactly(65_536) }),
    site("over.test", { body: exactly(65_537) }),
    site("latin1-bytes.test", {
      body: Uint8Array.from([
        ...Buffer.from("version: STSv1\nmode: none\nmax_age: 0\nx: "),
        0xe9,
        0x0a,
      ]),
    }),
    ...httpsFaults.map((fault) => site(`${fault}.fault.test`, { fault })),
    (async (): Promise<[string, PolicySite]> => [
      "mta-sts.absurd.cert.test",
      { cert: await ca.issue({ names: ["mta-sts.absurd.cert.test"], fault: "absurd-fields" }) },
    ])(),
    ...certFaults.map(
      async (fault): Promise<[string, PolicySite]> => [
        `mta-sts.${fault}.cert.test`,
        { cert: await ca.issue({ names: [`mta-sts.${fault}.cert.test`], fault }) },
      ],
    ),
    ca
      .issue({ names: ["*.wildcard.test"] })
      .then((cert): [string, PolicySite] => ["mta-sts.wildcard.test", { cert }]),
    ca
      .issue({ names: ["mta-sts.provider.test"] })
      .then((cert): [string, PolicySite] => ["mta-sts.customer.test", { cert }]),
    Promise.resolve<[string, PolicySite]>(["mta-sts.nocert.test", { cert: null }]),
  ]);
  host = await startPolicyHost({ sites: Object.fromEntries(entries) });
});

after(async () => {
  await host.close();
});

function options(extra: PolicyFetchOptions = {}): PolicyFetchOptions {
  return {
    lookup: async () => ["127.0.0.1"],
    port: host.port,
    ca: [ca.rootPem],
    timeoutMs: 5_000,
    ...extra,
  };
}

function failure(result: PolicyFetchResult) {
  assert.equal(
    result.ok,
    false,
    `expected a failure, got ${JSON.stringify(result.ok && result.contentType)}`,
  );
  return result as Extract<PolicyFetchResult, { ok: false }>;
}

function success(result: PolicyFetchResult) {
  assert.equal(result.ok, true, result.ok ? "" : `${result.kind}: ${result.detail}`);
  return result as Extract<PolicyFetchResult, { ok: true }>;
}

const requestsFor = (name: string) => host.requests.filter((r) => r.sni === name);

test("STS-FETCH-01 GETs https://mta-sts.<domain>/.well-known/mta-sts.txt and returns the body", async () => {
  const r = success(await fetchPolicy("OK.test.", options()));
  assert.equal(r.url, "https://mta-sts.ok.test/.well-known/mta-sts.txt");
  assert.equal(new TextDecoder().decode(r.body), defaultPolicy("mta-sts.ok.test"));
  assert.equal(r.contentType, "text/plain; charset=utf-8");
  assert.equal(r.address, "127.0.0.1");
  assert.equal(r.charsetWarning, undefined);
  assert.ok(r.elapsedMs >= 0 && r.elapsedMs < 5_000);
  const [req] = requestsFor("mta-sts.ok.test");
  assert.equal(req?.path, "/.well-known/mta-sts.txt");
  assert.equal(req?.host, `mta-sts.ok.test:${host.port}`);
});

test("STS-FETCH-03 sends the policy host as SNI and negotiates TLS 1.2 or newer", async () => {
  const before = host.handshakes.length;
  const r = success(await fetchPolicy("ok.test", options()));
  assert.deepEqual(host.handshakes.slice(before), [{ sni: "mta-sts.ok.test" }]);
  assert.match(r.tls.version, /^TLSv1\.[23]$/);
  assert.ok(r.tls.cipher.length > 0);
  // The chain as verified: the leaf for the policy host, then the lab intermediate and root.
  assert.deepEqual(r.tls.chain[0]?.dnsNames, ["mta-sts.ok.test"]);
  assert.match(r.tls.chain[1]?.subject ?? "", /mtasts lab intermediate/);
});

test("STS-FETCH-02 ✓ a SAN *.wildcard.test covers mta-sts.wildcard.test", async () => {
  const r = success(await fetchPolicy("wildcard.test", options()));
  assert.deepEqual(r.tls.chain[0]?.dnsNames, ["*.wildcard.test"]);
});

test("STS-FETCH-02 ✗ the provider's certificate served for the customer's policy host (§8.2)", async () => {
  const r = failure(await fetchPolicy("customer.test", options()));
  assert.equal(r.kind, "fetch.certificate");
  assert.equal(r.certificateError, "hostname-mismatch");
  assert.deepEqual(r.certificate?.dnsNames, ["mta-sts.provider.test"]);
  assert.match(r.detail, /mta-sts\.provider\.test.*do not cover mta-sts\.customer\.test/);
});

const certCodes: Record<(typeof certFaults)[number], string> = {
  expired: "CERT_HAS_EXPIRED",
  "not-yet-valid": "CERT_NOT_YET_VALID",
  "wrong-name": "hostname-mismatch",
  "self-signed": "DEPTH_ZERO_SELF_SIGNED_CERT",
  "untrusted-root": "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "missing-intermediate": "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "cn-only": "hostname-mismatch",
  "weak-key": "EE_KEY_TOO_SMALL",
};

for (const fault of certFaults) {
  test(`STS-FETCH-02 ✗ certificate fault ${fault} → fetch.certificate ${certCodes[fault]}`, async () => {
    const domain = `${fault}.cert.test`;
    const r = failure(await fetchPolicy(domain, options()));
    assert.equal(r.kind, "fetch.certificate");
    assert.equal(r.certificateError, certCodes[fault]);
    assert.equal(r.address, "127.0.0.1");
    const issued = await ca.issue({ names: [`mta-sts.${domain}`], fault });
    assert.deepEqual(r.certificate?.der, issued.leafDer, "the presented leaf is reported");
    assert.match(r.detail, /STS-FETCH-02/);
    // No HTTP request is ever sent over an unverified connection.
    assert.deepEqual(requestsFor(`mta-sts.${domain}`), []);
  });
}

test("STS-FETCH-02 ✓ a certificate with absurd fields but a valid name is accepted and summarised", async () => {
  const r = success(await fetchPolicy("absurd.cert.test", options()));
  const leaf = r.tls.chain[0];
  assert.ok(leaf);
  assert.equal(leaf.dnsNames.length, 401);
  assert.equal(leaf.dnsNames.at(-1), "mta-sts.absurd.cert.test");
  assert.equal(leaf.notAfter, "9999-12-31T23:59:59.000Z");
  assert.ok(leaf.subject.length > 4000);
});

test("STS-FETCH-02 ✗ a CN-only certificate: no CN fallback, and the detail says why", async () => {
  const r = failure(await fetchPolicy("cn-only.cert.test", options()));
  assert.deepEqual(r.certificate?.dnsNames, []);
  assert.match(r.detail, /no subjectAltName DNS entry/);
});

test("STS-FETCH-02 ✗ the lab root is not trusted unless given in `ca`", async () => {
  const r = failure(await fetchPolicy("ok.test", options({ ca: [] })));
  assert.equal(r.kind, "fetch.certificate");
  assert.equal(r.certificateError, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
});

test("STS-FETCH-03 ✗ a host with no certificate for the SNI aborts the handshake → fetch.tls", async () => {
  const before = host.handshakes.length;
  const r = failure(await fetchPolicy("nocert.test", options()));
  assert.equal(r.kind, "fetch.tls");
  assert.match(r.detail, /no certificate for SNI mta-sts\.nocert\.test/);
  assert.deepEqual(host.handshakes.slice(before), [{ sni: "mta-sts.nocert.test" }]);
});

test("STS-FETCH-03 ✗ a host offering only TLS 1.0/1.1 → fetch.tls", async () => {
  const r = failure(await fetchPolicy("tls-1.0.fault.test", options()));
  assert.equal(r.kind, "fetch.tls");
  assert.match(r.detail, /older than 1\.2/);
  assert.equal(resultTypeFor(r.kind)["result-type"], "sts-webpki-invalid");
});

test("lab: the tls-1.0 host really speaks TLS 1.1 to an old client", async () => {
  const version = await new Promise<string | null>((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: host.port,
      servername: "mta-sts.tls-1.0.fault.test",
      minVersion: "TLSv1",
      ciphers: "DEFAULT@SECLEVEL=0",
      ca: [ca.rootPem],
    });
    socket.on("secureConnect", () => {
      resolve(socket.getProtocol());
      socket.destroy();
    });
    socket.on("error", reject);
  });
  assert.equal(version, "TLSv1.1");
});

test("STS-FETCH-04 does not follow a 301 to a URL that would serve a valid policy", async () => {
  const before = requestsFor("mta-sts.redirect.fault.test").length;
  const r = failure(await fetchPolicy("redirect.fault.test", options()));
  assert.equal(r.kind, "fetch.redirect");
  assert.equal(r.status, 301);
  assert.equal(r.location, `https://mta-sts.redirect.fault.test:${host.port}/moved/mta-sts.txt`);
  assert.equal(requestsFor("mta-sts.redirect.fault.test").length, before + 1);
});

for (const [fault, status] of [
  ["404", 404],
  ["500", 500],
] as const) {
  test(`STS-FETCH-04 ✗ HTTP ${status} → fetch.status`, async () => {
    const r = failure(await fetchPolicy(`${fault}.fault.test`, options()));
    assert.equal(r.kind, "fetch.status");
    assert.equal(r.status, status);
    assert.equal(resultTypeFor(r.kind)["result-type"], "sts-policy-fetch-error");
  });
}

test("STS-FETCH-05 sends no conditional or cache headers and ignores Cache-Control", async () => {
  success(await fetchPolicy("cache.test", options()));
  success(await fetchPolicy("cache.test", options()));
  const seen = requestsFor("mta-sts.cache.test");
  assert.equal(seen.length, 2, "the second fetch went to the server again");
  for (const { headers } of seen) {
    for (const name of ["if-none-match", "if-modified-since", "cache-control", "pragma"]) {
      assert.equal(headers[name], undefined, name);
    }
  }
});

test("STS-FETCH-06 ✓ text/plain with other parameters, compared case-insensitively", async () => {
  assert.equal(
    success(await fetchPolicy("flowed.test", options())).contentType,
    "Text/Plain; format=flowed",
  );
  const upper = success(await fetchPolicy("upper.test", options()));
  assert.equal(upper.charsetWarning, undefined);
});

test("STS-FETCH-06 ✗ text/html → fetch.content-type", async () => {
  const r = failure(await fetchPolicy("content-type-html.fault.test", options()));
  assert.equal(r.kind, "fetch.content-type");
  assert.match(r.detail, /text\/html/);
  assert.equal(resultTypeFor(r.kind)["result-type"], "sts-policy-invalid");
});

test("STS-FETCH-06 ✗ no Content-Type → fetch.content-type", async () => {
  const r = failure(await fetchPolicy("no-content-type.fault.test", options()));
  assert.equal(r.kind, "fetch.content-type");
  assert.match(r.detail, /No Content-Type/);
});

test("STS-FETCH-06 a charset other than utf-8/us-ascii is ignored with a warning", async () => {
  const r = success(await fetchPolicy("charset-latin1.fault.test", options()));
  assert.match(r.charsetWarning ?? "", /iso-8859-1.*UTF-8/);
});

test("STS-FETCH-07 ✓ a body of exactly 65 536 bytes", async () => {
  assert.equal(success(await fetchPolicy("max.test", options())).body.length, 65_536);
});

test("STS-FETCH-07 ✗ a body of 65 537 bytes (Content-Length) → fetch.too-large", async () => {
  const r = failure(await fetchPolicy("over.test", options()));
  assert.equal(r.kind, "fetch.too-large");
  assert.match(r.detail, /Content-Length is 65537/);
});

test("STS-FETCH-07 ✗ oversize faults, announced or streamed, → fetch.too-large", async () => {
  const announced = failure(await fetchPolicy("oversize.fault.test", options()));
  assert.equal(announced.kind, "fetch.too-large");
  const streamed = failure(await fetchPolicy("oversize-chunked.fault.test", options()));
  assert.equal(streamed.kind, "fetch.too-large");
  assert.match(streamed.detail, /body passed 65536 bytes/);
  const small = failure(await fetchPolicy("ok.test", options({ maxBytes: 10 })));
  assert.equal(small.kind, "fetch.too-large");
});

for (const fault of ["slow-headers", "slow-body"] as const) {
  test(`STS-FETCH-08 ✗ ${fault}: the whole-request timeout fires → fetch.timeout`, async () => {
    const started = performance.now();
    const r = failure(await fetchPolicy(`${fault}.fault.test`, options({ timeoutMs: 300 })));
    const elapsed = performance.now() - started;
    assert.equal(r.kind, "fetch.timeout");
    assert.match(r.detail, fault === "slow-body" ? /reading the body/ : /response headers/);
    assert.ok(elapsed >= 290 && elapsed < 1_000, `took ${elapsed} ms`);
  });
}

test("STS-FETCH-08 the timeout also covers DNS", async () => {
  const r = failure(
    await fetchPolicy(
      "ok.test",
      options({ timeoutMs: 100, lookup: () => new Promise(() => undefined) }),
    ),
  );
  assert.equal(r.kind, "fetch.timeout");
  assert.match(r.detail, /resolving mta-sts\.ok\.test/);
});

test("STS-FETCH-09 ✗ a body that is not UTF-8 → fetch.encoding", async () => {
  const r = failure(await fetchPolicy("latin1-bytes.test", options()));
  assert.equal(r.kind, "fetch.encoding");
});

test("STS-FETCH-11 DNS failure, no address, or a bad domain → fetch.dns", async () => {
  const thrown = failure(
    await fetchPolicy(
      "ok.test",
      options({
        lookup: async () => {
          throw Object.assign(new Error("queryA ENOTFOUND"), { code: "ENOTFOUND" });
        },
      }),
    ),
  );
  assert.equal(thrown.kind, "fetch.dns");
  assert.match(thrown.detail, /ENOTFOUND/);
  assert.equal(
    failure(await fetchPolicy("ok.test", options({ lookup: async () => [] }))).kind,
    "fetch.dns",
  );
  assert.equal(failure(await fetchPolicy("[192.0.2.1]", options())).kind, "fetch.dns");
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 1;
}

test("STS-FETCH-11 connection refused → fetch.connect", async () => {
  const r = failure(await fetchPolicy("ok.test", options({ port: await closedPort() })));
  assert.equal(r.kind, "fetch.connect");
  assert.match(r.detail, /ECONNREFUSED/);
  assert.equal(r.address, "127.0.0.1");
});

test("tries each address in order until one connects", async () => {
  // Nothing listens on 127.0.0.2 (the host is bound to 127.0.0.1 only).
  const r = success(
    await fetchPolicy("ok.test", options({ lookup: async () => ["127.0.0.2", "127.0.0.1"] })),
  );
  assert.equal(r.address, "127.0.0.1");
});

test("elapsedMs uses the injected clock", async () => {
  const clock = [1_000, 1_250];
  const now = () => new Date(clock.shift() ?? 0);
  const r = success(await fetchPolicy("ok.test", options({ now })));
  assert.equal(r.elapsedMs, 250);
});

test("lab: setSites changes what one policy host serves; close() ends slow connections", async () => {
  const cert = await ca.issue({ names: ["mta-sts.swap.test"] });
  const own = await startPolicyHost({ sites: { "mta-sts.swap.test": { cert, fault: "404" } } });
  const opts = options({ port: own.port });
  try {
    assert.equal(failure(await fetchPolicy("swap.test", opts)).kind, "fetch.status");
    own.setSites({
      "mta-sts.swap.test": { cert, body: "version: STSv1\nmode: none\nmax_age: 0\n" },
    });
    const r = success(await fetchPolicy("swap.test", opts));
    assert.equal(new TextDecoder().decode(r.body), "version: STSv1\nmode: none\nmax_age: 0\n");
    own.setSites({ "mta-sts.swap.test": { cert, fault: "slow-headers" } });
    const pending = fetchPolicy("swap.test", options({ port: own.port, timeoutMs: 2_000 }));
    while (own.requests.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await own.close();
    // The host dropped the connection: the fetch ends at once, not at its timeout.
    assert.equal(failure(await pending).kind, "fetch.connect");
  } finally {
    await own.close();
  }
});
