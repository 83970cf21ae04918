// `mtasts scan` as scripts run it: the real binary against a lab of 260+
// domains (healthy, every fault a scan can see, publishing nothing, hanging
// servers), holding the ndjson contract, the exit codes, resuming after a
// SIGKILL, the other formats, the summary and `scan diff`.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type DomainSpec, type Lab, scenario, startLab } from "../../lab/index.ts";
import { HANGING, type SurveyDomain, surveyWorld } from "../../lab/survey.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const fixtures = new URL("../fixtures/logs/", import.meta.url).pathname;
const TIMEOUT_S = 4;
const STATUSES = ["ok", "warning", "error", "none"];
const MODES = ["enforce", "testing", "none", null];

let lab: Lab;
let dir: string;
let world: SurveyDomain[];
let list: string;
const overLong = `${"x".repeat(64)}.survey.test`;

before(async () => {
  // Three rounds of the fault cases: nine hanging servers, so a scan that
  // waited for them one after another would need 9 × 4 s, over its budget.
  world = surveyWorld({ size: 262, mx: true, faultRounds: 3 });
  lab = await startLab(scenario(...world.map((w) => w.spec)));
  dir = mkdtempSync(join(tmpdir(), "mtasts-scan-e2e-"));
  list = join(dir, "domains.txt");
  const lines = ["# a survey list", ...world.map((w) => w.input), ""];
  lines.splice(10, 0, "this is not a domain", overLong, world[0]?.input.toUpperCase() ?? "");
  writeFileSync(list, lines.join("\n"));
});
after(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mtasts(args: string[], budgetMs = 60_000, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, NO_COLOR: "1" }, timeout: budgetMs, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === "number" ? code : null, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const labArgs = () => [...lab.checkArgs(), "--timeout", String(TIMEOUT_S)];

interface Line {
  domain: string;
  status: string;
  mode: string | null;
  findings: { code: string; severity: string; message: string }[];
  input?: string;
}

function parseLines(text: string): Line[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l, i) => {
      const v = JSON.parse(l) as Line;
      assert.equal(typeof v.domain, "string", `line ${i + 1}`);
      assert.ok(STATUSES.includes(v.status), `line ${i + 1}: status ${v.status}`);
      assert.ok(MODES.includes(v.mode), `line ${i + 1}: mode ${v.mode}`);
      for (const f of v.findings) {
        assert.deepEqual(Object.keys(f).slice(0, 3), ["code", "severity", "message"]);
        assert.ok(["error", "warning", "info"].includes(f.severity));
      }
      return v;
    });
}

/** Without --probe-mx an MX case is judged on its policy alone: healthy. */
function expected(w: SurveyDomain, probed: boolean): SurveyDomain["expect"] {
  return w.spec.smtp && !probed ? { status: "ok", mode: "enforce" } : w.expect;
}

test("STS-REC-12 scan --ndjson of 262 domains: each once, with its status, mode and key finding, within budget, no SMTP connection", async () => {
  const hanging = world.filter((w) => HANGING.has(w.spec.domain.replace(/\d*\..*$/, ""))).length;
  assert.equal(hanging, 9);
  const budget = (hanging - 2) * TIMEOUT_S * 1000;
  const r = await mtasts(["scan", "--from", list, "--ndjson", ...labArgs()], budget);
  assert.equal(r.code, 1, `exit (null: killed at the budget) ${r.stderr}`);
  const lines = parseLines(r.stdout);
  const byDomain = new Map(lines.map((l) => [l.domain, l]));
  assert.equal(byDomain.size, lines.length, "no domain twice");
  assert.equal(lines.length, world.length + 1, "every domain, and the over-long name as an error");
  for (const w of world) {
    const got = byDomain.get(w.spec.domain);
    assert.ok(got, `missing ${w.spec.domain}`);
    const want = expected(w, false);
    const codes = got.findings.map((f) => f.code);
    assert.equal(got.status, want.status, `${w.spec.domain}: ${codes.join(" ")}`);
    assert.equal(got.mode, want.mode, w.spec.domain);
    if (want.code) assert.ok(codes.includes(want.code), `${w.spec.domain}: ${codes.join(" ")}`);
  }
  const invalid = lines.find((l) => l.domain === overLong);
  assert.equal(invalid?.status, "error");
  assert.deepEqual(
    invalid?.findings.map((f) => f.code),
    ["input.domain.invalid"],
  );
  const idn = byDomain.get("xn--bcher-kva.survey.test");
  assert.equal(idn?.input, "bücher.survey.test");
  let sessions = 0;
  for (const host of lab.smtpHosts.values()) sessions += host.sessions;
  assert.equal(sessions, 0, "no SMTP connection without --probe-mx");
  assert.match(
    r.stderr,
    new RegExp(
      `read ${world.length + 4} list lines; found ${world.length + 1} domains to scan \\(1 of them not domain names, reported as errors\\); skipped 1 duplicate, 1 garbage line`,
    ),
  );
  assert.match(
    r.stderr,
    /skipped garbage: .*domains\.txt:11: more than one word: this is not a domain/,
  );
  assert.ok(!r.stderr.includes("\r"), "no progress line when stderr is not a terminal");
});

test("STS-CERT-05 --probe-mx: each MX's STARTTLS, TLS and certificate as check judges them", async () => {
  const cases = world.filter((w) => w.spec.smtp);
  const r = await mtasts([
    "scan",
    "--probe-mx",
    "--ndjson",
    ...labArgs(),
    ...cases.map((w) => w.input),
  ]);
  assert.equal(r.code, 1, r.stderr);
  const byDomain = new Map(parseLines(r.stdout).map((l) => [l.domain, l]));
  assert.equal(byDomain.size, cases.length);
  for (const w of cases) {
    const got = byDomain.get(w.spec.domain);
    const codes = got?.findings.map((f) => f.code) ?? [];
    assert.equal(got?.status, w.expect.status, `${w.spec.domain}: ${codes.join(" ")}`);
    if (w.expect.code)
      assert.ok(codes.includes(w.expect.code), `${w.spec.domain}: ${codes.join(" ")}`);
  }
  const healthy = JSON.parse(
    r.stdout.split("\n").find((l) => l.includes('"domain":"mx-healthy.survey.test"')) ?? "{}",
  );
  assert.deepEqual(
    healthy.mx.map((m: { stsValid: boolean; tls: string }) => [m.stsValid, m.tls?.slice(0, 6)]),
    [
      [true, "TLSv1."],
      [true, "TLSv1."],
    ],
  );
  assert.ok((lab.smtpHosts.get("mx1.mx-healthy.survey.test")?.sessions ?? 0) > 0);
});

test("--resume after the scan is SIGKILLed mid-way: each domain exactly once, every line whole JSON", async () => {
  const out = join(dir, "resumed.ndjson");
  const args = ["scan", "--from", list, "--resume", out, "--concurrency", "4", ...labArgs()];
  const child = spawn(process.execPath, [bin, ...args], { stdio: "ignore" });
  const lineCount = () => {
    try {
      return readFileSync(out, "utf8").split("\n").length - 1;
    } catch {
      return 0;
    }
  };
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (lineCount() >= 40 || child.exitCode !== null) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  const before = parseLines(readFileSync(out, "utf8"));
  assert.ok(before.length >= 40, `${before.length} lines before the kill`);
  assert.ok(before.length < world.length, "killed before the end");
  // As if killed in the middle of writing a line: an unfinished one, for a domain not yet done.
  const done = new Set(before.map((l) => l.domain));
  const pending = world.find((w) => !done.has(w.spec.domain));
  assert.ok(pending);
  appendFileSync(out, `{"domain":"${pending.spec.domain}","status":"o`);

  const r = await mtasts(args);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "", "results go to the file");
  assert.match(
    r.stderr,
    new RegExp(`resuming .*: ${before.length} domains already done; cut an unfinished last line`),
  );
  const lines = parseLines(readFileSync(out, "utf8"));
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l.domain, (counts.get(l.domain) ?? 0) + 1);
  for (const w of world) assert.equal(counts.get(w.spec.domain), 1, w.spec.domain);
  assert.equal(counts.get(overLong), 1);
  assert.equal(lines.length, world.length + 1);

  const again = await mtasts(args);
  assert.match(again.stderr, /found 0 domains to scan; skipped .* already in the resumed output/);
  assert.equal(parseLines(readFileSync(out, "utf8")).length, lines.length, "nothing added");
});

test("--summary alone prints only the summary: adoption by mode, TLS-RPT, problems ranked", async () => {
  const some = world
    .filter((w) => !HANGING.has(w.spec.domain.replace(/\d*\..*$/, "")))
    .slice(0, 60);
  const r = await mtasts(["scan", "--summary", ...labArgs(), ...some.map((w) => w.input)]);
  const errors = some.filter((w) => expected(w, false).status === "error").length;
  assert.equal(r.code, errors > 0 ? 1 : 0, r.stderr);
  const count = (s: string) => some.filter((w) => expected(w, false).status === s).length;
  assert.match(r.stdout, new RegExp(`^Scanned ${some.length} domains`));
  assert.match(
    r.stdout,
    new RegExp(
      `Status {4}ok ${count("ok")}, warning ${count("warning")}, error ${count("error")}, none ${count("none")}`,
    ),
  );
  assert.match(r.stdout, /Problems among the \d+ domains publishing MTA-STS, most common first:/);
  assert.match(r.stdout, /fetch\.status .*\n +e\.g\. policy-(404|500)\d?\.survey\.test, /);
  assert.ok(!r.stdout.includes('"domain"'), "no per-domain output");
});

test("--csv: a header and one row a domain; --json: one document with the summary", async () => {
  const some = [
    "d0.survey.test",
    "d1.survey.test",
    "policy-redirect.survey.test",
    "bücher.survey.test",
  ];
  const csv = await mtasts(["scan", "--csv", ...labArgs(), ...some]);
  const rows = csv.stdout.trimEnd().split("\r\n");
  assert.equal(rows[0], "domain,status,mode,max_age,tlsrpt,mx,errors,warnings,elapsed_ms");
  assert.equal(rows.length, some.length + 1);
  const redirect = rows.find((row) => row.startsWith("policy-redirect.survey.test,"));
  assert.match(
    redirect ?? "",
    /^policy-redirect\.survey\.test,error,,,yes,mx1\.policy-redirect\.survey\.test,fetch\.redirect,,\d+$/,
  );

  const json = await mtasts(["scan", "--json", "--summary", ...labArgs(), ...some]);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual(Object.keys(doc), ["domains", "summary"]);
  assert.equal(doc.domains.length, some.length);
  assert.equal(doc.summary.scanned, some.length);
  assert.equal(json.code, 1);
});

test("text output for people, from standard input; scan diff between two scans of a changing lab", async () => {
  const filler = (status: string, mode: string | null) =>
    world.filter(
      (w) => /^d\d+\./.test(w.spec.domain) && w.expect.status === status && w.expect.mode === mode,
    );
  const [adopts] = filler("none", null);
  const [tightens] = filler("ok", "testing");
  const [drops, breaks, stays] = filler("ok", "enforce");
  assert.ok(adopts && tightens && drops && breaks && stays);
  const picked = [adopts, tightens, drops, breaks, stays].map((w) => w.spec.domain);

  const text = await mtasts(
    ["scan", "--from", "-", ...labArgs()],
    60_000,
    `${picked.join("\n")}\n`,
  );
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.trimEnd().split("\n").length, picked.length);
  const line = (d: string) => text.stdout.split("\n").find((l) => l.startsWith(`${d} `)) ?? "";
  assert.match(line(tightens.spec.domain), / ok +testing, max_age 14 d, TLS-RPT$/);
  assert.match(line(adopts.spec.domain), / none +no MTA-STS/);
  assert.ok(!text.stdout.includes("\u001b["));

  const old = join(dir, "old.ndjson");
  const now = join(dir, "new.ndjson");
  writeFileSync(old, (await mtasts(["scan", "--ndjson", ...labArgs(), ...picked])).stdout);
  const replaced = new Map<string, DomainSpec>([
    [adopts.spec.domain, { domain: adopts.spec.domain, smtp: false }],
    [tightens.spec.domain, { ...tightens.spec, mode: "enforce" }],
    [drops.spec.domain, { ...drops.spec, mtaSts: false }],
    [breaks.spec.domain, { ...breaks.spec, faults: ["policy:cert-expired"] }],
  ]);
  await lab.update(scenario(...world.map((w) => replaced.get(w.spec.domain) ?? w.spec)));
  try {
    writeFileSync(now, (await mtasts(["scan", "--ndjson", ...labArgs(), ...picked])).stdout);
  } finally {
    await lab.update(scenario(...world.map((w) => w.spec)));
  }
  const diff = await mtasts(["scan", "diff", old, now, "--json"]);
  assert.equal(diff.code, 1, "a domain newly broken");
  const d = JSON.parse(diff.stdout);
  assert.equal(d.compared, picked.length);
  assert.deepEqual(d.adopted, [{ domain: adopts.spec.domain, mode: "enforce", status: "ok" }]);
  assert.deepEqual(d.dropped, [{ domain: drops.spec.domain, was: "enforce" }]);
  assert.deepEqual(d.modeChanged, [
    { domain: tightens.spec.domain, from: "testing", to: "enforce" },
  ]);
  assert.deepEqual(d.broken, [
    { domain: breaks.spec.domain, errors: ["fetch.certificate.expired"] },
  ]);
  assert.deepEqual(d.fixed, []);
  const back = await mtasts(["scan", "diff", now, old]);
  assert.match(
    back.stdout,
    new RegExp(
      `Fixed \\(1\\):\n {2}${breaks.spec.domain.replaceAll(".", "\\.")} {2}\\(was fetch\\.certificate\\.expired\\)`,
    ),
  );
  assert.equal(back.code, 0);
});

test("--from-log: Postfix and Exim logs give their senders' and recipients' domains, counted on stderr", async () => {
  const r = await mtasts([
    "scan",
    "--ndjson",
    ...labArgs(),
    "--from-log",
    join(fixtures, "postfix-mail.log"),
    join(fixtures, "exim-mainlog"),
  ]);
  assert.equal(r.code, 1, r.stderr);
  const lines = parseLines(r.stdout);
  const domains = lines.map((l) => l.domain).sort();
  assert.equal(domains.length, 15, domains.join(" "));
  assert.ok(domains.includes("xn--zrich-kva.example"));
  assert.ok(domains.includes("sender-one.example"));
  assert.equal(lines.filter((l) => l.findings[0]?.code === "input.domain.invalid").length, 3);
  assert.match(
    r.stderr,
    /read 54 log lines \(26 naming a sender or recipient\); found 15 domains to scan \(3 of them not domain names, reported as errors\); skipped \d+ duplicates, 1 local name without a dot/,
  );
});

test("usage errors exit 2 and say what is wrong", async () => {
  for (const [args, why] of [
    [["scan"], /needs domains/],
    [["scan", "--concurrency", "0", "a.example"], /--concurrency "0" must be/],
    [["scan", "--rate", "x", "a.example"], /--rate "x" must be/],
    [["scan", "--csv", "--json", "a.example"], /one output format/],
    [["scan", "--csv", "--resume", join(dir, "r.ndjson"), "a.example"], /--resume writes ndjson/],
    [["scan", "--from", join(dir, "missing.txt")], /cannot read .*missing\.txt: no such file/],
    [["scan", "--resume", join(dir, "no-such-dir", "r.ndjson"), "a.example"], /--resume .*ENOENT/],
    [["scan", "--from-log", dir], /is a directory/],
    [["scan", "--resolver", "nonsense", "a.example"], /--resolver "nonsense"/],
    [["scan", "not a domain"], /is not a domain name/],
    [["scan", "--from", "-", "--from-log", "-"], /standard input \(-\) can be read only once/],
    [["scan", "diff", list], /two ndjson files/],
    [["scan", "--bogus", "a.example"], /bogus/],
  ] as const) {
    const r = await mtasts([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, why, args.join(" "));
    assert.equal(r.stdout, "");
  }
  const help = await mtasts(["scan", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit status: 0 finished/);
});
