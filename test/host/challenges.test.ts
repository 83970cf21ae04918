// ACME challenges through the host: HTTP-01 on the port-80 listener (and
// nothing else there), TLS-ALPN-01 on the HTTPS port when a client offers
// acme-tls/1. The responder is a tiny real ChallengeResponder (an interface,
// not a network part), as src/acme will provide.

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import type { ChallengeResponder, KeyPair } from "../../src/acme/types.ts";
import { type Fixture, fetchFrom, policyText, startFixture } from "./fixture.ts";

const TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

class Challenges implements ChallengeResponder {
  readonly tokens = new Map<string, string>();
  readonly alpn = new Map<string, KeyPair>();
  http01(token: string) {
    return this.tokens.get(token);
  }
  tlsAlpn01(servername: string) {
    return this.alpn.get(servername);
  }
}

const challenges = new Challenges();
let fx: Fixture;
let httpPort: number;
let alpnPair: KeyPair;

before(async () => {
  fx = await startFixture({
    domains: { "a.test": policyText("mx1.a.test") },
    config: (c) => {
      c.httpListen = [{ host: "127.0.0.1", port: 0 }];
    },
    deps: { challenges },
  });
  httpPort = fx.host.addresses().http[0]?.port ?? 0;
  const issued = await fx.ca.issue({ names: ["mta-sts.new.test"] });
  alpnPair = { cert: issued.chainPem, key: issued.keyPem };
});
after(() => fx?.close());

function plain(
  path: string,
  method = "GET",
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: httpPort,
        path,
        method,
        headers: { host: "mta-sts.a.test" },
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("port 80 answers a pending HTTP-01 token with its key authorization", async () => {
  challenges.tokens.set(TOKEN, KEY_AUTH);
  const r = await plain(`/.well-known/acme-challenge/${TOKEN}`);
  assert.equal(r.status, 200);
  assert.equal(r.body, KEY_AUTH);
  assert.equal(fx.host.metrics.challenges, 1);
  challenges.tokens.delete(TOKEN);
  assert.equal((await plain(`/.well-known/acme-challenge/${TOKEN}`)).status, 404);
});

test("STS-FETCH-01 port 80 serves nothing else: no policy, no redirect", async () => {
  for (const path of [
    "/.well-known/mta-sts.txt",
    "/",
    "/.well-known/acme-challenge/../mta-sts.txt",
    "/.well-known/acme-challenge/short",
  ]) {
    const r = await plain(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /STSv1/);
  }
  challenges.tokens.set(TOKEN, KEY_AUTH);
  assert.equal((await plain(`/.well-known/acme-challenge/${TOKEN}`, "POST")).status, 405);
  challenges.tokens.delete(TOKEN);
});

test("TLS-ALPN-01: a ClientHello offering acme-tls/1 gets the responder's certificate and acme-tls/1", async () => {
  challenges.alpn.set("mta-sts.new.test", alpnPair);
  const got = await new Promise<{ protocol: string | false | null; cert: string }>(
    (resolve, reject) => {
      const s = connect({
        host: "127.0.0.1",
        port: fx.port,
        servername: "mta-sts.new.test",
        ALPNProtocols: ["acme-tls/1"],
        rejectUnauthorized: false,
      });
      s.on("secureConnect", () => {
        resolve({ protocol: s.alpnProtocol, cert: s.getPeerX509Certificate()?.toString() ?? "" });
        s.destroy();
      });
      s.on("error", reject);
    },
  );
  assert.equal(got.protocol, "acme-tls/1");
  assert.equal(got.cert, new X509Certificate(alpnPair.cert).toString());
  challenges.alpn.clear();
});

test("acme-tls/1 with no pending challenge is refused; ordinary HTTPS through the same port still works", async () => {
  await assert.rejects(
    new Promise((resolve, reject) => {
      const s = connect({
        host: "127.0.0.1",
        port: fx.port,
        servername: "mta-sts.a.test",
        ALPNProtocols: ["acme-tls/1"],
        rejectUnauthorized: false,
      });
      s.on("secureConnect", () => resolve(s.destroy()));
      s.on("error", reject);
    }),
  );
  const r = await fetchFrom(fx.port, fx.ca.rootPem, {
    servername: "mta-sts.a.test",
    host: "mta-sts.a.test",
  });
  assert.equal(r.status, 200);
  assert.equal(r.body, policyText("mx1.a.test"));
});
