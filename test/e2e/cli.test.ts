// Runs the real binary (bin/mtasts.js) as a child process, as scripts do, and
// holds the `validate` contract: JSON shape, exit codes, stdin, bad input.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const examples = new URL("../../examples/", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "mtasts-cli-"));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function mtasts(args: string[], input?: string | Uint8Array): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    input,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(r: Run): Record<string, unknown> & {
  diagnostics: { code: string; severity: string; message: string }[];
} {
  assert.equal(r.stdout.trimEnd().split("\n").length, 1, "--json prints exactly one line");
  return JSON.parse(r.stdout);
}

function scratchFile(name: string, data: string | Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, data);
  return path;
}

function codes(out: { diagnostics: { code: string }[] }): string[] {
  return out.diagnostics.map((d) => d.code);
}

function assertNoStackTrace(r: Run) {
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace on stderr");
  assert.doesNotMatch(r.stdout, /\n\s+at .+:\d+:\d+/, "no stack trace on stdout");
}

test("--help and --version exit 0; no command is a usage error", () => {
  assert.equal(mtasts(["--help"]).status, 0);
  assert.match(mtasts(["--help"]).stdout, /mtasts validate/);
  assert.match(mtasts(["--version"]).stdout, /^mtasts \d+\.\d+\.\d+/);
  assert.equal(mtasts([]).status, 2);
  assert.equal(mtasts(["validate", "--help"]).status, 0);
});

test("sts-record --json: contract shape, exit 0", () => {
  const r = mtasts(["validate", "sts-record", "--json", "v=STSv1; id=20160831085700Z;"]);
  assert.equal(r.status, 0);
  const out = json(r);
  assert.deepEqual(Object.keys(out).slice(0, 4), ["kind", "valid", "value", "diagnostics"]);
  assert.equal(out.kind, "sts-record");
  assert.equal(out.valid, true);
  assert.deepEqual(out.value, { v: "STSv1", id: "20160831085700Z", extensions: {} });
  assert.deepEqual(out.diagnostics, []);
});

test("sts-record: extensions are reported; invalid id exits 1 with a coded error", () => {
  const ok = json(mtasts(["validate", "sts-record", "--json", "v=STSv1; id=abc; foo=bar"]));
  assert.deepEqual(ok.value, { v: "STSv1", id: "abc", extensions: { foo: "bar" } });
  const r = mtasts(["validate", "sts-record", "--json", "v=STSv1; id=2016-08-31"]);
  assert.equal(r.status, 1);
  const bad = json(r);
  assert.equal(bad.valid, false);
  assert.equal(bad.value, null);
  assert.ok(bad.diagnostics.length > 0);
  for (const d of bad.diagnostics) {
    assert.deepEqual(Object.keys(d).slice(0, 3), ["code", "severity", "message"]);
    assert.match(d.code, /^sts-record\./);
  }
  assert.ok(bad.diagnostics.some((d) => d.severity === "error"));
});

test("sts-record from stdin, newline from echo ignored", () => {
  const r = mtasts(["validate", "sts-record", "--json", "-"], "v=STSv1; id=a1\n");
  assert.equal(r.status, 0, r.stderr);
  assert.equal((json(r).value as { id: string }).id, "a1");
});

test("tlsrpt-record --json: rua list", () => {
  const r = mtasts([
    "validate",
    "tlsrpt-record",
    "--json",
    "v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.net/v1",
  ]);
  assert.equal(r.status, 0, r.stdout);
  const out = json(r);
  assert.equal(out.kind, "tlsrpt-record");
  assert.deepEqual((out.value as { v: string; rua: string[] }).rua, [
    "mailto:tls@example.com",
    "https://r.example.net/v1",
  ]);
  assert.equal((out.value as { v: string }).v, "TLSRPTv1");
  assert.equal(mtasts(["validate", "tlsrpt-record", "--json", "v=TLSRPTv1;"]).status, 1);
});

test("policy --json: value shape and --mx verdicts", () => {
  const file = join(examples, "mta-sts.txt");
  const r = mtasts(["validate", "policy", "--json", "--mx", "Backup.Mail.Example.NET.", file]);
  assert.equal(r.status, 0, r.stdout);
  const out = json(r);
  const value = out.value as Record<string, unknown>;
  assert.equal(value.version, "STSv1");
  assert.equal(value.mode, "enforce");
  assert.equal(value.max_age, 1209600);
  assert.deepEqual(value.mx, ["mx1.example.com", "*.mail.example.net"]);
  assert.deepEqual(out.mx, {
    host: "backup.mail.example.net",
    matched: true,
    pattern: "*.mail.example.net",
  });
  const miss = json(mtasts(["validate", "policy", "--json", "--mx", "a.b.mail.example.net", file]));
  assert.deepEqual(miss.mx, { host: "a.b.mail.example.net", matched: false, pattern: null });
});

test("policy with the usual mistakes exits 1 and names each", () => {
  const r = mtasts(["validate", "policy", "--json", join(examples, "mta-sts-mistakes.txt")]);
  assert.equal(r.status, 1);
  const out = json(r);
  assert.equal(out.valid, false);
  assert.equal(out.value, null);
  const found = codes(out);
  assert.ok(found.includes("policy.max-age.out-of-range"), found.join(" "));
  assert.ok(
    found.some((c) => c.startsWith("policy.mx.")),
    found.join(" "),
  );
});

test("policy over 64 KiB exits 1 with policy.too-large, without reading it all", () => {
  const big = `version: STSv1\nmode: none\nmax_age: 86400\n${"x-pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n".repeat(200_000)}`;
  const r = mtasts(["validate", "policy", "--json", scratchFile("big.txt", big)]);
  assert.equal(r.status, 1);
  assert.ok(codes(json(r)).includes("policy.too-large"));
});

test("policy: binary garbage is invalid UTF-8, exit 1", () => {
  const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) % 256);
  const r = mtasts(["validate", "policy", "--json", scratchFile("garbage.bin", garbage)]);
  assert.equal(r.status, 1);
  assertNoStackTrace(r);
  assert.ok(json(r).diagnostics.some((d) => d.severity === "error"));
});

test("report: .json, .eml and stdin agree on the normalised report", () => {
  const fromJson = json(mtasts(["validate", "report", "--json", join(examples, "report.json")]));
  const fromMail = json(mtasts(["validate", "report", "--json", join(examples, "report.eml")]));
  const stdinGz = gzipSync(new TextEncoder().encode(JSON.stringify(fromJson.value)));
  const fromStdin = json(mtasts(["validate", "report", "--json", "-"], stdinGz));
  for (const out of [fromJson, fromMail, fromStdin]) {
    assert.equal(out.kind, "report");
    assert.equal(out.valid, true, JSON.stringify(out.diagnostics));
  }
  assert.deepEqual(fromMail.value, fromJson.value);
  assert.deepEqual(fromStdin.value, fromJson.value);
  const value = fromJson.value as { policies: { policy: { "mx-host": unknown } }[] };
  assert.ok(Array.isArray(value.policies[0]?.policy["mx-host"]));
});

test("report: RFC 8460 field names, dates normalised to Z, mx-host and policy-string arrays", () => {
  const report = {
    "organization-name": "Legacy Sender",
    "date-range": {
      "start-datetime": "2016-04-01T00:00:00",
      "end-datetime": "2016-04-01T23:59:59",
    },
    "contact-info": null,
    "report-id": "<abc@sender.example>",
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 86400",
          "policy-domain": "example.com",
          "mx-host": "*.example.com",
        },
        summary: { "total-successful-session-count": 10, "total-failure-session-count": 2 },
        "failure-details": [{ "result-type": "Testing", "failed-session-count": 1 }],
      },
    ],
  };
  const r = mtasts(["validate", "report", "--json", "-"], JSON.stringify(report));
  assert.equal(r.status, 0, r.stdout);
  const out = json(r);
  const v = out.value as {
    "date-range": Record<string, string>;
    "report-id": string;
    policies: { policy: Record<string, unknown> }[];
  };
  assert.equal(v["date-range"]["start-datetime"], "2016-04-01T00:00:00Z");
  assert.equal(v["date-range"]["end-datetime"], "2016-04-01T23:59:59Z");
  assert.deepEqual(v.policies[0]?.policy["mx-host"], ["*.example.com"]);
  assert.deepEqual(v.policies[0]?.policy["policy-string"], [
    "version: STSv1",
    "mode: testing",
    "mx: *.example.com",
    "max_age: 86400",
  ]);
  const found = codes(out);
  for (const code of [
    "report.date.no-offset",
    "report.result-type.unknown",
    "report.summary.count-mismatch",
  ]) {
    assert.ok(found.includes(code), `${code} in ${found.join(" ")}`);
  }
});

test("report: truncated gzip, gzip bomb, mail without a report each exit 1 with their own code", () => {
  const full = gzipSync(new TextEncoder().encode(JSON.stringify({ big: "x".repeat(100_000) })));
  const truncated = mtasts([
    "validate",
    "report",
    "--json",
    scratchFile("t.json.gz", full.subarray(0, full.length / 2)),
  ]);
  const bomb = mtasts([
    "validate",
    "report",
    "--json",
    scratchFile("bomb.json.gz", gzipSync(new Uint8Array(64 * 1024 * 1024))),
  ]);
  const mail =
    "From: a@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nJust a note, no report.\r\n";
  const noPart = mtasts(["validate", "report", "--json", scratchFile("note.eml", mail)]);
  const seen = new Set<string>();
  for (const r of [truncated, bomb, noPart]) {
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assertNoStackTrace(r);
    const out = json(r);
    assert.equal(out.valid, false);
    const first = out.diagnostics.find((d) => d.severity === "error");
    assert.ok(first, "an error diagnostic");
    seen.add(first.code);
  }
  assert.equal(seen.size, 3, `distinct codes: ${[...seen].join(" ")}`);
});

test("report: binary garbage and non-JSON text exit 1, not a crash", () => {
  const garbage = new Uint8Array(10_000).map((_, i) => (i * 97 + 13) % 256);
  for (const input of [garbage, "{not json", "[]", "null"]) {
    const r = mtasts(["validate", "report", "--json", "-"], input);
    assert.equal(r.status, 1, `${String(input).slice(0, 20)}: ${r.stderr}`);
    assertNoStackTrace(r);
    assert.equal(json(r).valid, false);
  }
});

test("exit 2: missing file, directory, unknown kind, bad flag, extra argument", () => {
  const cases: string[][] = [
    ["validate", "policy", join(scratch, "does-not-exist.txt")],
    ["validate", "report", scratch],
    ["validate", "dmarc-record", "x"],
    ["validate", "policy", "--nope", "x"],
    ["validate", "sts-record", "v=STSv1;", "id=a"],
    ["validate", "sts-record", "--mx", "mx.example.com", "v=STSv1; id=a"],
    ["validate", "policy", "--mx", "not a host", join(examples, "mta-sts.txt")],
    ["frobnicate"],
  ];
  for (const args of cases) {
    const r = mtasts(args);
    assert.equal(r.status, 2, `${args.join(" ")} → ${r.status} ${r.stderr}`);
    assert.match(r.stderr, /^mtasts: /, args.join(" "));
    assertNoStackTrace(r);
    assert.equal(r.stdout, "", "nothing on stdout for a usage error");
  }
});

test("text output: readable verdict, codes, no colour when not a TTY", () => {
  const r = mtasts(["validate", "policy", join(examples, "mta-sts-mistakes.txt")]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /policy is invalid/);
  assert.match(r.stdout, /policy\.max-age\.out-of-range/);
  assert.ok(!r.stdout.includes("\u001b["), "no ANSI escapes");
  const ok = mtasts(["validate", "report", join(examples, "report.eml")]);
  assert.equal(ok.status, 0, ok.stdout);
  assert.match(ok.stdout, /report is valid/);
  assert.match(ok.stdout, /1840 successful, 12 failed/);
});

/** A `node` older than 24 on PATH (Debian's, here), or null. */
function olderNode(): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir || ".", "node");
    const r = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 10_000 });
    const major = /^v(\d+)\./.exec(r.stdout ?? "")?.[1];
    if (r.status === 0 && major !== undefined && Number(major) < 24) return candidate;
  }
  return null;
}

test("an older Node gets one message naming the Node to use, exit 3, not a loader stack trace", (t) => {
  const old = olderNode();
  if (old === null) {
    t.skip("no node older than 24 on PATH (Debian's nodejs package provides one)");
    return;
  }
  const r = spawnSync(old, [bin, "check", "example.test"], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^mtasts: needs Node\.js 24 or later; this is Node\.js v\d+/);
  assert.ok(r.stderr.includes("node_modules/node/bin/node"), r.stderr);
  assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION|at /);
});
