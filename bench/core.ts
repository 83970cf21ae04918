// Parser throughput: mtasts core beside mailauth's MTA-STS parsing, same
// inputs, same process, alternating rounds so drift hits both sides alike.
//   npm run bench            (BENCH_SECONDS=… per round, BENCH_ROUNDS=… rounds)
// Prints ops/s for each side and the ratio ours/mailauth (>1 means we are faster).

import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { matchMx } from "../src/core/mx-pattern.ts";
import { parsePolicy } from "../src/core/policy.ts";
import { parseStsRecord } from "../src/core/sts-record.ts";

const require = createRequire(import.meta.url);
// mailauth parses the _mta-sts TXT value with its DKIM tag parser (lib/mta-sts.js resolvePolicy).
const mailauthSts = require("mailauth/lib/mta-sts.js") as {
  parsePolicy(file: string): { mx?: string[] };
  validateMx(mx: string, policy: object): { valid: boolean };
};
const parseDkimHeaders = require("mailauth/lib/parse-dkim-headers.js") as (s: string) => {
  parsed: Record<string, { value: string }>;
};

const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const policies = [
  "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n",
  "version: STSv1\r\nmode: testing\r\nmx: mx1.example.net\r\nmx: mx2.example.net\r\nmx: *.backup.example.net\r\nmax_age: 86400\r\n",
  "version: STSv1\nmode: enforce\nmx: aspmx.l.google.com\nmx: alt1.aspmx.l.google.com\nmx: alt2.aspmx.l.google.com\nmx: alt3.aspmx.l.google.com\nmx: alt4.aspmx.l.google.com\nmax_age: 31557600",
  "version: STSv1\nmode: none\nmax_age: 86400\n",
  "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 1209600\n",
];
const records = [
  "v=STSv1; id=20160831085700Z;",
  "v=STSv1;id=1234567890abcdef",
  "v=STSv1; id=20240101T000000; ext=value;",
  "v=STSv1 ;id=a",
];
const hosts = [
  "mail.example.com",
  "alt3.aspmx.l.google.com",
  "example-com.mail.protection.outlook.com",
  "nomatch.example.org",
];

type Case = { name: string; ours: () => unknown; theirs: () => unknown };

// Each op parses one input; inputs cycle so both sides see the same mix.
function cycling<T>(items: readonly T[], fn: (item: T) => unknown): () => unknown {
  let i = 0;
  return () => fn(items[i++ % items.length] as T);
}

const theirPolicies = policies.map((p) => mailauthSts.parsePolicy(p));
const ourPolicies = policies.map((p) => {
  const r = parsePolicy(p);
  if (!r.ok) throw new Error(`bench input invalid: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
});
const pairs = hosts.flatMap((h) =>
  policies
    .map((_, k) => k)
    .filter((k) => policies[k]?.includes("mx:"))
    .map((k) => [h, k] as const),
);

const cases: Case[] = [
  {
    name: "policy file parse",
    ours: cycling(policies, (p) => parsePolicy(p)),
    theirs: cycling(policies, (p) => mailauthSts.parsePolicy(p)),
  },
  {
    name: "_mta-sts record parse",
    ours: cycling(records, (r) => parseStsRecord(r)),
    theirs: cycling(records, (r) => parseDkimHeaders(r)),
  },
  {
    name: "MX match against a policy",
    ours: cycling(pairs, ([h, k]) => matchMx(h, ourPolicies[k]?.patterns ?? [])),
    theirs: cycling(pairs, ([h, k]) => mailauthSts.validateMx(h, theirPolicies[k] as object)),
  },
];

let sink = 0;
function opsPerSecond(fn: () => unknown, seconds: number): number {
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 256; k++) if (fn()) sink++;
    n += 256;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

console.log(
  `node ${process.version}, ${ROUNDS} alternating rounds of ${SECONDS}s per side, median ops/s`,
);
console.log(
  "case".padEnd(28),
  "mtasts ops/s".padStart(14),
  "mailauth ops/s".padStart(16),
  "ratio".padStart(8),
);
for (const c of cases) {
  opsPerSecond(c.ours, 0.2);
  opsPerSecond(c.theirs, 0.2);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(opsPerSecond(c.ours, SECONDS));
    theirs.push(opsPerSecond(c.theirs, SECONDS));
  }
  const a = median(ours);
  const b = median(theirs);
  console.log(
    c.name.padEnd(28),
    Math.round(a).toLocaleString("en-US").padStart(14),
    Math.round(b).toLocaleString("en-US").padStart(16),
    `${(a / b).toFixed(2)}x`.padStart(8),
  );
}
if (sink < 0) console.log(sink);
