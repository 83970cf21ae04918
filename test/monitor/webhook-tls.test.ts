// A webhook receiver behind a private CA: trusted through the webhook's
// ca_file (added to the system roots), refused without it, and an unusable
// ca_file is a delivery error that names the file.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createTestCa } from "../../lab/ca.ts";
import { postWebhook, webhookRoots } from "../../src/monitor/webhook.ts";

let dir: string;
let caFile: string;
let server: Server;
let url: string;
const bodies: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mtasts-webhook-tls-"));
  const ca = await createTestCa();
  caFile = ca.writeCaFile(dir);
  const cert = await ca.issue({ names: ["localhost"] });
  server = createServer({ cert: cert.chainPem, key: cert.keyPem }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}/hook`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test("a receiver with a private CA is refused on the system roots alone", async () => {
  await assert.rejects(postWebhook(url, {}, "{}", { timeoutMs: 5000 }), /certificate/i);
});

test("with the webhook's ca_file the alert is delivered", async () => {
  const before = bodies.length;
  await postWebhook(url, {}, '{"event":"opened"}', { timeoutMs: 5000, ca: webhookRoots(caFile) });
  assert.deepEqual(bodies.slice(before), ['{"event":"opened"}']);
});

test("a ca_file that is missing or holds no certificate is an error naming it", () => {
  assert.throws(() => webhookRoots(join(dir, "absent.pem")), /absent\.pem/);
  const empty = join(dir, "empty.pem");
  writeFileSync(empty, "not a certificate\n");
  assert.throws(() => webhookRoots(empty), /empty\.pem holds no PEM certificate/);
});
