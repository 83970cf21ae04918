// Reload under load: keep-alive clients loop on the policy while the file is
// rewritten many times (atomically, and in place). No request may fail and
// every body must be one complete version, old or new.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fetchFrom, policyText, startFixture } from "./fixture.ts";

const CLIENTS = 8;
const REWRITES = 40;

test("reload under load loses no request: every body is a whole policy, old or new", async () => {
  const versions = Array.from({ length: REWRITES + 1 }, (_, i) => policyText(`mx${i}.a.test`));
  const fx = await startFixture({
    domains: { "a.test": versions[0] as string, "b.test": policyText("mx1.b.test") },
  });
  const allowed = new Set(versions);
  const failures: string[] = [];
  let requests = 0;
  let stop = false;
  const agents: Agent[] = [];
  const client = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (!stop && requests < 200_000) {
      requests++;
      try {
        const { status, body } = await new Promise<{ status: number; body: string }>(
          (resolve, reject) => {
            const req = request(
              {
                host: "127.0.0.1",
                port: fx.port,
                path: "/.well-known/mta-sts.txt",
                servername: "mta-sts.a.test",
                headers: { host: "mta-sts.a.test" },
                ca: fx.ca.rootPem,
                agent,
                timeout: 10_000,
              },
              (res) => {
                let data = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => {
                  data += c;
                });
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
                res.on("error", reject);
              },
            );
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", reject);
            req.end();
          },
        );
        if (status !== 200) failures.push(`status ${status}`);
        else if (!allowed.has(body)) failures.push(`unexpected body ${JSON.stringify(body)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  try {
    const running = Array.from({ length: CLIENTS }, client);
    for (let i = 1; i <= REWRITES; i++) {
      const text = versions[i] as string;
      if (i % 2 === 0) fx.writePolicy("a.test", text);
      else writeFileSync(join(fx.policies, "a.test.txt"), text);
      if (i % 10 === 0) await fx.host.reload(); // SIGHUP in the middle of it all
      await sleep(30);
    }
    await sleep(300);
    stop = true;
    await Promise.all(running);
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(requests > CLIENTS * 10, `only ${requests} requests ran`);
    const last = await fetchFrom(fx.port, fx.ca.rootPem, {
      servername: "mta-sts.a.test",
      host: "mta-sts.a.test",
    });
    assert.equal(last.body, versions[REWRITES]);
  } finally {
    stop = true;
    for (const a of agents) a.destroy();
    await fx.close();
  }
});
