// Seeded fuzzing: every parser gets 100,000 random and mutated inputs and must
// return a well-formed result each time: never throw, never hang, and every
// diagnostic must come from the catalogue. A failure prints the seed and input.

import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { extractReport } from "../src/adapters/report-source.ts";
import { catalogue } from "../src/core/catalogue.ts";
import type { Parsed } from "../src/core/diagnostic.ts";
import { matchMx, parseMxPattern } from "../src/core/mx-pattern.ts";
import { parsePolicy } from "../src/core/policy.ts";
import { parseStsRecord, selectStsRecord } from "../src/core/sts-record.ts";
import { parseTlsrptRecord } from "../src/core/tlsrpt-record.ts";
import { parseTlsrptReport } from "../src/core/tlsrpt-report.ts";

const RUNS = Number(process.env.MTASTS_FUZZ_RUNS ?? 100_000);
const SEED = Number(process.env.MTASTS_FUZZ_SEED ?? 0x5eed);

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = ReturnType<typeof rng>;
const int = (r: Rand, n: number) => Math.floor(r() * n);

// Characters that matter to these grammars, weighted in beside random code points.
const INTERESTING = [
  "v=STSv1",
  "v=TLSRPTv1",
  ";",
  "=",
  " ",
  "\t",
  "\r",
  "\n",
  "\r\n",
  ":",
  ",",
  "*.",
  ".",
  "-",
  "_",
  "id=",
  "rua=",
  "mailto:",
  "https://",
  "mx: ",
  "mode: ",
  "max_age: ",
  "version: ",
  "\u0000",
  "é",
  "ß",
  "\uD800",
  "{",
  "}",
  "[",
  "]",
  '"',
  "\\",
  "null",
  "0",
  "-1",
  "1e309",
  "99999999999",
  "xn--",
  "@",
  "!",
  "%2C",
];

function randomText(r: Rand): string {
  const n = int(r, 200);
  let s = "";
  for (let i = 0; i < n; i++) {
    const pick = r();
    if (pick < 0.3) s += INTERESTING[int(r, INTERESTING.length)];
    else if (pick < 0.9) s += String.fromCharCode(32 + int(r, 95));
    else s += String.fromCharCode(int(r, 0x3000));
  }
  return s;
}

function mutate(r: Rand, seed: string): string {
  let s = seed;
  const edits = 1 + int(r, 6);
  for (let e = 0; e < edits; e++) {
    const at = int(r, s.length + 1);
    switch (int(r, 6)) {
      case 0: // delete a span
        s = s.slice(0, at) + s.slice(at + 1 + int(r, 8));
        break;
      case 1: // insert something interesting
        s = s.slice(0, at) + INTERESTING[int(r, INTERESTING.length)] + s.slice(at);
        break;
      case 2: // replace one character
        s = s.slice(0, at) + String.fromCharCode(int(r, 0x250)) + s.slice(at + 1);
        break;
      case 3: {
        // duplicate a span
        const len = int(r, 40);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      }
      case 4: // truncate
        s = s.slice(0, at);
        break;
      default: {
        // swap two spans
        const b = int(r, s.length + 1);
        const [x, y] = at < b ? [at, b] : [b, at];
        s = s.slice(y) + s.slice(x, y) + s.slice(0, x);
      }
    }
  }
  return s;
}

function inputs(seeds: string[], salt: number): Iterable<string> {
  const r = rng(SEED ^ salt);
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < RUNS; i++) {
        yield r() < 0.25 ? randomText(r) : mutate(r, seeds[int(r, seeds.length)] as string);
      }
    },
  };
}

function assertWellFormed(result: Parsed<unknown>, input: unknown) {
  const show = () => `seed ${SEED}, input ${JSON.stringify(String(input).slice(0, 300))}`;
  assert.equal(typeof result.ok, "boolean", show());
  assert.ok(Array.isArray(result.diagnostics), show());
  for (const d of result.diagnostics) {
    assert.ok(d.code in catalogue, `unknown code ${d.code}; ${show()}`);
    assert.equal(typeof d.message, "string", show());
  }
  const errors = result.diagnostics.some((d) => d.severity === "error");
  assert.equal(result.ok, !errors, `ok must be true exactly when there is no error; ${show()}`);
  if (result.ok) assert.ok("value" in result && result.value !== undefined, show());
}

function fuzz(name: string, seeds: string[], salt: number, call: (s: string) => Parsed<unknown>) {
  test(`fuzz ${name}: ${RUNS} inputs, each a well-formed result`, { timeout: 180_000 }, () => {
    for (const input of inputs(seeds, salt)) {
      let result: Parsed<unknown>;
      try {
        result = call(input);
      } catch (err) {
        assert.fail(
          `${name} threw ${String(err)} on seed ${SEED}, input ${JSON.stringify(input.slice(0, 300))}`,
        );
      }
      assertWellFormed(result, input);
    }
  });
}

const stsSeeds = [
  "v=STSv1; id=20160831085700Z;",
  "v=STSv1;id=a;foo=bar",
  "v=STSv1 ; id=abc ; x.y-z=1;",
];
const rptSeeds = [
  "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
  "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example/v1;foo=bar",
];
const policySeeds = [
  "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n",
  "version: STSv1\r\nmode: none\r\nmax_age: 0",
  "version: STSv1\nmode: testing\nmx: xn--bcher-kva.example\nmax_age: 0031557600\nx-note: hello world\n\n",
];
const reportSeeds = [
  JSON.stringify({
    "organization-name": "Company-X",
    "date-range": {
      "start-datetime": "2016-04-01T00:00:00Z",
      "end-datetime": "2016-04-01T23:59:59Z",
    },
    "contact-info": "sts-reporting@company-x.example",
    "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": [
            "version: STSv1",
            "mode: testing",
            "mx: *.mail.company-y.example",
            "max_age: 86400",
          ],
          "policy-domain": "company-y.example",
          "mx-host": ["*.mail.company-y.example"],
        },
        summary: { "total-successful-session-count": 5326, "total-failure-session-count": 303 },
        "failure-details": [
          {
            "result-type": "certificate-expired",
            "sending-mta-ip": "2001:db8:abcd:0012::1",
            "receiving-mx-hostname": "mx1.mail.company-y.example",
            "failed-session-count": 100,
          },
          {
            "result-type": "Testing",
            "failed-session-count": "3",
            "additional-info-uri": "https://x.example/",
          },
        ],
      },
    ],
  }),
  '{"organization-name":"M","date-range":{"start-datetime":"2024-02-22T00:00:00","end-datetime":"2024-02-23"},"contact-info":null,"report-id":"<a@b>","policies":{"policy":{"policy-type":"no-policy-found","policy-domain":"bücher.example","mx-host":"mx: a.example"},"summary":{"total-successful-session-count":1}}}',
];

fuzz("parseStsRecord", stsSeeds, 1, parseStsRecord);
fuzz("selectStsRecord", stsSeeds, 2, (s) => selectStsRecord(s.split("\n")));
fuzz("parseTlsrptRecord", rptSeeds, 3, parseTlsrptRecord);
fuzz("parsePolicy (text)", policySeeds, 4, parsePolicy);
fuzz("parsePolicy (bytes)", policySeeds, 5, (s) => parsePolicy(new TextEncoder().encode(s)));
fuzz("parseMxPattern + matchMx", ["*.example.com", "mail.example.com", "192.0.2.1"], 6, (s) => {
  const parsed = parseMxPattern(s);
  if (parsed.ok) matchMx("mail.example.com", [parsed.value]);
  matchMx(s, []);
  return parsed;
});
fuzz("parseTlsrptReport", reportSeeds, 7, parseTlsrptReport);

test(`fuzz extractReport: ${RUNS} byte inputs (json, gzip, mail, garbage)`, {
  timeout: 300_000,
}, async () => {
  const r = rng(SEED ^ 8);
  const mail = (body: string) =>
    `From: r@x.example\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/tlsrpt+json\r\n\r\n${body}\r\n--b--\r\n`;
  const gz = gzipSync(new TextEncoder().encode(reportSeeds[0]));
  for (let i = 0; i < RUNS; i++) {
    let bytes: Uint8Array;
    const kind = int(r, 4);
    if (kind === 0) bytes = new TextEncoder().encode(mutate(r, reportSeeds[0] as string));
    else if (kind === 1)
      bytes = new TextEncoder().encode(mutate(r, mail(reportSeeds[0] as string)));
    else if (kind === 2) {
      bytes = Uint8Array.from(gz);
      for (let k = 0; k < 1 + int(r, 4); k++) bytes[int(r, bytes.length)] = int(r, 256);
      if (r() < 0.3) bytes = bytes.subarray(0, int(r, bytes.length));
    } else bytes = Uint8Array.from({ length: int(r, 300) }, () => int(r, 256));
    let result: Awaited<ReturnType<typeof extractReport>>;
    try {
      result = await extractReport(bytes);
    } catch (err) {
      assert.fail(`extractReport threw ${String(err)} on input #${i} (seed ${SEED})`);
    }
    assert.equal(typeof result.ok, "boolean");
    for (const d of result.diagnostics) assert.ok(d.code in catalogue, `unknown code ${d.code}`);
    if (result.ok) assert.equal(typeof result.json, "string");
  }
});
