// The HTTPS report intake (RFC 8460 §5.4) as senders reach it: real curl
// posting every sample as JSON and as gzip, over plain HTTP and over TLS with
// a lab certificate; and the hostile side: oversize bodies, gzip bombs, wrong
// types, slow clients, floods, and a store that fails.

import assert from "node:assert/strict";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { createGzip, gzipSync } from "node:zlib";
import { createTestCa } from "../../lab/ca.ts";
import { readCappedBody } from "../../src/reports/http-body.ts";
import type { IntakeEvent } from "../../src/reports/intake-attempt.ts";
import { type HttpIntake, startReportHttpIntake } from "../../src/reports/intake-http.ts";
import {
  curlPost,
  distinctReports,
  reportJson,
  run,
  samples,
  type TempStore,
  tempStore,
  totals,
} from "./intake-fixtures.ts";

const MiB = 1024 * 1024;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "mtasts-http-intake-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function withIntake(
  options: Partial<Parameters<typeof startReportHttpIntake>[0]>,
  body: (ctx: {
    url: string;
    intake: HttpIntake;
    t: TempStore;
    events: IntakeEvent[];
  }) => Promise<void>,
): Promise<void> {
  const t = await tempStore();
  const events: IntakeEvent[] = [];
  const intake = await startReportHttpIntake({
    store: t.store,
    listen: { host: "127.0.0.1", port: 0 },
    onEvent: (e) => events.push(e),
    ...options,
  });
  try {
    await body({ url: `http://127.0.0.1:${intake.address().port}/tlsrpt`, intake, t, events });
  } finally {
    await intake.close();
    await t.cleanup();
  }
}

const REPORT = JSON.stringify({
  "organization-name": "Sender Ltd",
  "date-range": {
    "start-datetime": "2026-11-20T00:00:00Z",
    "end-datetime": "2026-11-20T23:59:59Z",
  },
  "contact-info": "tlsrpt@sender.example",
  "report-id": "2026-11-20T00:00:00Z_example.com",
  policies: [
    {
      policy: { "policy-type": "no-policy-found", "policy-domain": "example.com" },
      summary: { "total-successful-session-count": 9, "total-failure-session-count": 0 },
    },
  ],
});

test("RPT-RCV-01 RPT-DLV-08 every sample posted by curl as application/tlsrpt+json is stored (201) with its expected totals; again is 200", async () => {
  for (const sample of samples()) {
    const json = file(`${sample.file}.json`, await reportJson(sample));
    await withIntake({}, async ({ url, t }) => {
      const first = await curlPost(url, json, "application/tlsrpt+json");
      assert.equal(first.status, 201, `${sample.file}: ${first.body}`);
      assert.equal(JSON.parse(first.body).status, "stored");
      assert.equal(JSON.parse(first.body).reportId, sample.reportId);
      assert.deepEqual(
        await totals(t.store),
        { successful: sample.successful, failed: sample.failed },
        sample.file,
      );
      // A sender retrying (or a second rua destination) must be told to stop.
      const again = await curlPost(url, json, "application/tlsrpt+json");
      assert.equal(again.status, 200, `${sample.file}: ${again.body}`);
      assert.equal(JSON.parse(again.body).status, "duplicate");
      assert.equal((await t.store.counts()).reports, 1);
    });
  }
});

test("RPT-RCV-01 RPT-DLV-01 every sample posted by curl as application/tlsrpt+gzip is stored with its expected totals", async () => {
  for (const sample of samples()) {
    const gz =
      sample.kind === "gz"
        ? file(sample.file, sample.bytes)
        : file(`${sample.file}.gz`, gzipSync(await reportJson(sample)));
    await withIntake({}, async ({ url, t }) => {
      const r = await curlPost(url, gz, "application/tlsrpt+gzip");
      assert.equal(r.status, 201, `${sample.file}: ${r.body}`);
      assert.deepEqual(
        await totals(t.store),
        { successful: sample.successful, failed: sample.failed },
        sample.file,
      );
    });
  }
});

test("RPT-RCV-05 all samples into one store: each distinct report is stored once, the rest answer 200 duplicate", async () => {
  const list = samples();
  await withIntake({}, async ({ url, t }) => {
    const seen = new Set<string>();
    let successful = 0;
    let failed = 0;
    for (const sample of list) {
      const r = await curlPost(
        url,
        file(`all-${sample.file}.json`, await reportJson(sample)),
        "application/tlsrpt+json",
      );
      const key = `${sample.organization.toLowerCase()}\n${sample.reportId}`;
      const expected = seen.has(key) ? 200 : 201;
      assert.equal(r.status, expected, `${sample.file}: ${r.body}`);
      if (!seen.has(key)) {
        successful += sample.successful;
        failed += sample.failed;
      }
      seen.add(key);
    }
    assert.equal((await t.store.counts()).reports, distinctReports(list));
    assert.deepEqual(await totals(t.store), { successful, failed });
  });
});

test("RPT-DLV-08 HTTPS: curl verifying the intake's certificate posts a gzip report (201)", async () => {
  const ca = await createTestCa();
  const cert = await ca.issue({ names: ["reports.test"] });
  const caFile = ca.writeCaFile(dir);
  await withIntake({ tls: { cert: cert.chainPem, key: cert.keyPem } }, async ({ intake, t }) => {
    const port = intake.address().port;
    const r = await curlPost(
      `https://reports.test:${port}/tlsrpt`,
      file("https.json.gz", gzipSync(REPORT)),
      "application/tlsrpt+gzip",
      ["--cacert", caFile, "--resolve", `reports.test:${port}:127.0.0.1`],
    );
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(await totals(t.store), { successful: 9, failed: 0 });
  });
});

test("RPT-RCV-01 content is recognised by its bytes: gzip with no type, JSON as application/json, gzip labelled +json", async () => {
  await withIntake({}, async ({ url, t }) => {
    const gz = file("sniff.gz", gzipSync(REPORT));
    const none = await curlPost(url, gz, null);
    assert.equal(none.status, 201, none.body);
    const other = JSON.stringify({ ...JSON.parse(REPORT), "report-id": "second" });
    const json = await curlPost(url, file("second.json", other), "application/json; charset=utf-8");
    assert.equal(json.status, 201, json.body);
    const third = gzipSync(JSON.stringify({ ...JSON.parse(REPORT), "report-id": "third" }));
    const mislabelled = await curlPost(url, file("third.gz", third), "application/tlsrpt+json");
    assert.equal(mislabelled.status, 201, mislabelled.body);
    assert.equal((await t.store.counts()).reports, 3);
  });
});

test("RPT-RCV-01 a media type that is not a report is refused with 415 and nothing is kept", async () => {
  await withIntake({}, async ({ url, t, events }) => {
    const json = file("typed.json", REPORT);
    for (const type of ["text/html", "application/x-www-form-urlencoded", "text/plain"]) {
      const r = await curlPost(url, json, type);
      assert.equal(r.status, 415, `${type}: ${r.body}`);
    }
    // A browser-style form upload (multipart/form-data) is not a report post.
    const form = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-F",
      `report=@${json}`,
      url,
    ]);
    assert.equal(form.stdout, "415", form.stderr);
    const br = await curlPost(url, json, "application/tlsrpt+json", ["-H", "Content-Encoding: br"]);
    assert.equal(br.status, 415, br.body);
    const counts = await t.store.counts();
    assert.equal(counts.reports + counts.quarantined, 0);
    assert.ok(events.some((e) => e.type === "refused" && e.reason === "unsupported-media-type"));
  });
});

test("a report body that is not a report is quarantined and answered 202, so the sender stops retrying", async () => {
  await withIntake({}, async ({ url, t }) => {
    const cases: [string, Uint8Array | string, string][] = [
      ["garbage.json", "{ this is not json", "application/tlsrpt+json"],
      ["truncated.gz", gzipSync(REPORT).subarray(0, 40), "application/tlsrpt+gzip"],
      ["array.json", "[1,2,3]", "application/tlsrpt+json"],
      [
        "negative.json",
        REPORT.replace('"total-successful-session-count":9', '"total-successful-session-count":-5'),
        "application/tlsrpt+json",
      ],
    ];
    for (const [name, bytes, type] of cases) {
      const r = await curlPost(url, file(name, bytes), type);
      assert.equal(r.status, 202, `${name}: ${r.body}`);
      const body = JSON.parse(r.body);
      assert.equal(body.status, "quarantined");
      assert.match(body.code, /\./, name);
      assert.doesNotMatch(r.body, /\n\s+at /, "no stack trace");
    }
    const counts = await t.store.counts();
    assert.equal(counts.reports, 0);
    assert.equal(counts.quarantined, cases.length);
  });
});

test("405 for other methods on the report path, 404 elsewhere, /healthz answers", async () => {
  await withIntake({}, async ({ url, intake }) => {
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    const put = await fetch(url, { method: "PUT", body: REPORT });
    assert.equal(put.status, 405);
    const other = await fetch(`http://127.0.0.1:${intake.address().port}/v1/tlsrpt`, {
      method: "POST",
      body: REPORT,
      headers: { "content-type": "application/tlsrpt+json" },
    });
    assert.equal(other.status, 404);
    const health = await fetch(`http://127.0.0.1:${intake.address().port}/healthz`);
    assert.equal(health.status, 200);
  });
});

test("a configured path replaces /tlsrpt", async () => {
  await withIntake({ path: "/v1/reports" }, async ({ intake }) => {
    const base = `http://127.0.0.1:${intake.address().port}`;
    const json = file("path.json", REPORT);
    assert.equal(
      (await curlPost(`${base}/v1/reports`, json, "application/tlsrpt+json")).status,
      201,
    );
    assert.equal((await curlPost(`${base}/tlsrpt`, json, "application/tlsrpt+json")).status, 404);
  });
});

test("RPT-RCV-03 an 11 MiB body is refused with 413 (curl, Content-Length, with and without 100-continue) and nothing is kept", async () => {
  await withIntake({}, async ({ url, t }) => {
    const big = file("big.json", Buffer.alloc(11 * MiB, 0x20));
    const r = await curlPost(url, big, "application/tlsrpt+json");
    assert.equal(r.status, 413, r.body);
    // Senders that do not wait for 100-continue get the 413 as they upload.
    const eager = await curlPost(url, big, "application/tlsrpt+json", ["-H", "Expect:"]);
    assert.equal(eager.status, 413, eager.body);
    const counts = await t.store.counts();
    assert.equal(counts.reports + counts.quarantined, 0);
  });
});

test("RPT-RCV-03 a chunked upload without a length is cut off at the cap, long before its end", async () => {
  await withIntake({}, async ({ intake, t }) => {
    const socket = connect(intake.address().port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const response = collect(socket);
    socket.write(
      "POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    // Keep sending until the server answers or stops reading; a receiver
    // that buffered everything would take all 200 MiB.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    let sent = 0;
    while (sent < 200 * MiB && !response.done() && !socket.destroyed) {
      const ok = socket.write(frame);
      sent += chunk.length;
      if (!ok) await drainOrEnd(socket, response);
    }
    socket.end(); // a sender that has its answer stops and closes
    const text = await response.text;
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.ok(sent < 100 * MiB, `the client could push ${sent} bytes before the 413`);
    const counts = await t.store.counts();
    assert.equal(counts.reports + counts.quarantined, 0);
  });
});

test("RPT-RCV-03 a gzip bomb (100 MiB of zeros in ~100 KiB) is refused with 413 while it inflates", async () => {
  const bombPath = join(dir, "bomb.json.gz");
  await new Promise<void>((resolve, reject) => {
    const gzip = createGzip({ level: 9 });
    const out = createWriteStream(bombPath);
    gzip.pipe(out);
    out.on("finish", () => resolve());
    out.on("error", reject);
    const zeros = Buffer.alloc(MiB);
    let written = 0;
    const pump = () => {
      while (written < 100) {
        written++;
        if (!gzip.write(zeros)) {
          gzip.once("drain", pump);
          return;
        }
      }
      gzip.end();
    };
    pump();
  });
  await withIntake({}, async ({ url, t }) => {
    const r = await curlPost(url, bombPath, "application/tlsrpt+gzip");
    assert.equal(r.status, 413, r.body);
    assert.match(JSON.parse(r.body).message, /inflates/);
    const counts = await t.store.counts();
    assert.equal(counts.reports + counts.quarantined, 0);
  });
});

test("slowloris: a client that never finishes its headers is disconnected", {
  timeout: 30_000,
}, async () => {
  await withIntake({ timeouts: { headersMs: 300, requestMs: 600 } }, async ({ intake, events }) => {
    const socket = connect(intake.address().port, "127.0.0.1");
    const response = collect(socket);
    socket.write("POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\n");
    const text = await response.text; // resolves only when the server ends the connection
    assert.ok(text === "" || /^HTTP\/1\.1 408 /.test(text), text);
    assert.ok(events.some((e) => e.type === "refused" && e.reason === "timeout"));
  });
});

test("a client that stops sending its body is disconnected and nothing is kept", {
  timeout: 30_000,
}, async () => {
  await withIntake({ timeouts: { headersMs: 300, requestMs: 600 } }, async ({ intake, t }) => {
    const socket = connect(intake.address().port, "127.0.0.1");
    const response = collect(socket);
    socket.write(
      'POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: 5000\r\n\r\n{"organization-name"',
    );
    const text = await response.text;
    assert.ok(text === "" || /^HTTP\/1\.1 (408|400) /.test(text), text);
    const counts = await t.store.counts();
    assert.equal(counts.reports + counts.quarantined, 0);
  });
});

test("rate limit: past its burst a client gets 429 with Retry-After; refilled tokens let it in again", async () => {
  let now = 1_000_000;
  await withIntake(
    { rateLimit: { burst: 2, perSecond: 1 / 60 }, now: () => now },
    async ({ url, t }) => {
      const json = (id: string) =>
        file(`rate-${id}.json`, JSON.stringify({ ...JSON.parse(REPORT), "report-id": id }));
      assert.equal((await curlPost(url, json("a"), "application/tlsrpt+json")).status, 201);
      assert.equal((await curlPost(url, json("b"), "application/tlsrpt+json")).status, 201);
      const limited = await curlPost(url, json("c"), "application/tlsrpt+json");
      assert.equal(limited.status, 429);
      assert.equal(limited.headers["retry-after"], "60");
      assert.equal((await t.store.counts()).reports, 2);
      now += 60_000;
      assert.equal((await curlPost(url, json("c"), "application/tlsrpt+json")).status, 201);
      assert.equal((await curlPost(url, json("d"), "application/tlsrpt+json")).status, 429);
    },
  );
});

test("RPT-DLV-10 a store that fails answers 503 with Retry-After and no stack, so the sender retries later", async () => {
  await withIntake({}, async ({ url, t, events }) => {
    await t.store.close(); // a real failure: every statement on a closed database throws
    const r = await curlPost(url, file("closed.json", REPORT), "application/tlsrpt+json");
    assert.equal(r.status, 503, r.body);
    assert.ok(Number(r.headers["retry-after"]) > 0);
    assert.doesNotMatch(r.body, /\bat \S+\.ts:\d+/);
    assert.ok(events.some((e) => e.type === "store-error"));
  });
});

test("close() lets a report whose body is still arriving finish, then stops", {
  timeout: 30_000,
}, async () => {
  await withIntake({}, async ({ intake, t }) => {
    const socket = connect(intake.address().port, "127.0.0.1");
    const response = collect(socket);
    const body = Buffer.from(REPORT);
    socket.write(
      `POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    // 100 Continue: the intake has the request and waits for its body.
    await until(() => response.data().startsWith("HTTP/1.1 100"));
    const closing = intake.close();
    socket.write(body);
    const text = await response.text;
    await closing;
    assert.match(text.slice(text.indexOf("\r\n\r\n") + 4), /^HTTP\/1\.1 201 /);
    assert.equal((await t.store.counts()).reports, 1);
  });
});

test("reports in flight are bounded: past maxInFlight a sender gets 503 with Retry-After", {
  timeout: 30_000,
}, async () => {
  await withIntake({ maxInFlight: 1 }, async ({ url, intake, t }) => {
    const socket = connect(intake.address().port, "127.0.0.1");
    const response = collect(socket);
    const body = Buffer.from(REPORT);
    socket.write(
      `POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    await until(() => response.data().startsWith("HTTP/1.1 100"));
    const other = JSON.stringify({ ...JSON.parse(REPORT), "report-id": "other" });
    const busy = await curlPost(url, file("busy.json", other), "application/tlsrpt+json");
    assert.equal(busy.status, 503, busy.body);
    assert.equal(busy.headers["retry-after"], "5");
    socket.write(body);
    assert.match(await response.text, /HTTP\/1\.1 201 /);
    assert.equal(
      (await curlPost(url, file("busy.json", other), "application/tlsrpt+json")).status,
      201,
    );
    assert.equal((await t.store.counts()).reports, 2);
  });
});

test("RPT-RCV-03 the body reader counts inflated bytes even when the gzip magic is split across chunks", async () => {
  const bomb = gzipSync(Buffer.alloc(3 * MiB));
  const split = await readCappedBody(Readable.from([bomb.subarray(0, 1), bomb.subarray(1)]), {
    maxBytes: MiB,
    maxInflatedBytes: 2 * MiB,
  });
  assert.deepEqual([split.ok, !split.ok && split.reason], [false, "too-large"]);
  const small = gzipSync(Buffer.from(REPORT));
  const fine = await readCappedBody(Readable.from([small.subarray(0, 1), small.subarray(1)]), {
    maxBytes: MiB,
    maxInflatedBytes: 2 * MiB,
  });
  assert.ok(fine.ok);
  assert.deepEqual(Buffer.from(fine.bytes), small);
  const plain = await readCappedBody(
    Readable.from([Buffer.from("{"), Buffer.from(REPORT.slice(1))]),
    {
      maxBytes: MiB,
      maxInflatedBytes: 10,
    },
  );
  assert.ok(plain.ok, "JSON is not measured as gzip");
});

// --- raw socket helpers ----------------------------------------------------------

function collect(socket: Socket): {
  text: Promise<string>;
  done: () => boolean;
  data: () => string;
} {
  let data = "";
  let ended = false;
  const text = new Promise<string>((resolve) => {
    socket.on("data", (d: Buffer) => {
      data += d.toString("latin1");
    });
    const finish = () => {
      ended = true;
      resolve(data);
    };
    socket.on("close", finish);
    socket.on("error", () => {});
  });
  return { text, done: () => ended || data.length > 0, data: () => data };
}

function drainOrEnd(socket: Socket, response: { done: () => boolean }): Promise<void> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (response.done() || socket.destroyed) finish();
    }, 5);
    const finish = () => {
      clearInterval(check);
      socket.off("drain", finish);
      resolve();
    };
    socket.once("drain", finish);
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}
