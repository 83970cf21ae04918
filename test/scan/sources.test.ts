// Reading what to scan: domain lists (comments, garbage, IDN, over-long
// names, rank,domain) and mail logs (Postfix, Exim) from real files, each
// domain once, with the counts the CLI reports on stderr.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  addressesInLogLine,
  emptyStats,
  parseListLine,
  readSources,
  type ScanInput,
  SeenSet,
  type Sources,
} from "../../src/scan/index.ts";

const fixtures = new URL("../fixtures/logs/", import.meta.url).pathname;
const postfix = join(fixtures, "postfix-mail.log");
const exim = join(fixtures, "exim-mainlog");
const dir = mkdtempSync(join(tmpdir(), "mtasts-scan-sources-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function read(sources: Partial<Sources>, done?: SeenSet, stdin = Readable.from([])) {
  const stats = emptyStats();
  const items: ScanInput[] = [];
  for await (const item of readSources(
    { domains: [], lists: [], logs: [], ...sources },
    { seen: new SeenSet(), ...(done ? { done } : {}), stats, stdin },
  ))
    items.push(item);
  const domains = items.flatMap((i) => ("domain" in i ? [i.domain] : []));
  const invalid = items.flatMap((i) => ("invalid" in i ? [i.input] : []));
  return { items, domains, invalid, stats };
}

test("STS-REC-01 a list line names its Policy Domain: A-labels, lowercase, no trailing dot", () => {
  assert.deepEqual(parseListLine("Example.COM."), { domain: "example.com" });
  assert.deepEqual(parseListLine("  bücher.example  # a comment"), {
    domain: "xn--bcher-kva.example",
  });
  assert.deepEqual(parseListLine("postmaster@Mail.Example.org"), { domain: "mail.example.org" });
  assert.deepEqual(parseListLine("17,example.net"), { domain: "example.net" });
  assert.deepEqual(parseListLine("# only a comment"), { skip: true });
  assert.deepEqual(parseListLine("   "), { skip: true });
});

test("list garbage is told apart from names that are meant as domains but are not", () => {
  for (const line of ["foo bar baz", "nodot", "a\u0007b.example", "x".repeat(2000)])
    assert.ok("garbage" in parseListLine(line), line.slice(0, 20));
  const long = `${"a".repeat(250)}.example`;
  const label = `${"b".repeat(64)}.example`;
  for (const [line, why] of [
    [long, /258 characters, over the limit of 253/],
    [label, /label of 64 characters/],
    ["192.0.2.1.", /address literal/],
    ["https://example.com/x", /URL/],
    ["a..b.example", /empty label/],
    ["-x-.example", /not allowed/],
  ] as const) {
    const parsed = parseListLine(line);
    assert.ok("invalid" in parsed, line);
    assert.match(parsed.invalid, why, line);
  }
});

test("a list file: comments and blank lines skipped, garbage counted and shown, each domain once", async () => {
  const file = join(dir, "list.txt");
  writeFileSync(
    file,
    [
      "# survey list",
      "good.example",
      "",
      "GOOD.example.   # the same domain again",
      "this line is garbage",
      `${"a".repeat(300)}.example`,
      "bücher.example",
      "xn--bcher-kva.example",
      "1,ranked.example",
      "no-dot-here",
      "",
    ].join("\r\n"),
  );
  const r = await read({ lists: [file] });
  assert.deepEqual(r.domains, ["good.example", "xn--bcher-kva.example", "ranked.example"]);
  assert.equal(r.invalid.length, 1);
  assert.equal(r.stats.listLines, 10, "the newline that ends the last line starts no new one");
  assert.equal(r.stats.found, 4);
  assert.equal(r.stats.invalid, 1);
  assert.equal(r.stats.duplicates, 2);
  assert.equal(r.stats.garbage, 2);
  assert.equal(r.stats.garbageShown.length, 2);
  assert.match(
    r.stats.garbageShown[0] ?? "",
    /list\.txt:5: more than one word: this line is garbage/,
  );
  const idn = r.items.find((i) => "domain" in i && i.domain === "xn--bcher-kva.example");
  assert.equal(idn?.input, "bücher.example");
});

test("standard input is a list like any other", async () => {
  const r = await read(
    { lists: ["-"] },
    undefined,
    Readable.from(["a.example\nb.exam", "ple\na.example\n"]),
  );
  assert.deepEqual(r.domains, ["a.example", "b.example"]);
});

test("Postfix: qmgr senders and smtp recipients, never lmtp/local deliveries, rejects or bounces' <>", async () => {
  const r = await read({ logs: [postfix] });
  assert.deepEqual(r.domains, [
    "sender-one.example",
    "ourdomain.example",
    "recipient-one.example",
    "xn--bcher-kva.example",
    "slow-recipient.example",
    "recipient-two.example",
    "sender-two.example",
  ]);
  assert.deepEqual(r.invalid, ["ivan@[192.0.2.200]", `x@${"a".repeat(70)}.example`]);
  assert.equal(r.stats.logLines, readFileSync(postfix, "latin1").split("\n").length - 1);
  assert.equal(r.stats.logMatches, 14);
  assert.equal(r.stats.local, 1, "cron@localhost");
  assert.equal(r.stats.duplicates, 4);
});

test("Exim: <= arrivals, => and -> deliveries, both message-id formats, pid, time zone, syslog", async () => {
  const r = await read({ logs: [exim] });
  assert.deepEqual(r.domains, [
    "exim-sender.example",
    "exim-local.example",
    "exim-recipient.example",
    "exim-sender-two.example",
    "xn--zrich-kva.example",
  ]);
  assert.deepEqual(r.invalid, ["x@-bad-.example"]);
  assert.equal(r.stats.logLines, 20);
});

test("log lines one by one: what each names", () => {
  assert.deepEqual(
    addressesInLogLine(
      "Nov 23 09:01:11 mx postfix/relay/smtp[2112]: 5A6B7C8D9E: to=<c@r.example>, relay=x[1.2.3.4]:25, status=sent",
    ),
    ["c@r.example"],
  );
  assert.deepEqual(addressesInLogLine("postfix/qmgr[9]: ABC: from=<>, size=1, nrcpt=1"), []);
  assert.deepEqual(addressesInLogLine("2025-11-23 09:00:05 1tAbCd-000123-AB <= <> R=x"), []);
  assert.deepEqual(addressesInLogLine(""), []);
  assert.deepEqual(addressesInLogLine("\u0000\uffff to=<x@y.example>"), []);
});

test("several logs, gzip-rotated ones too, share one duplicate filter; a truncated gzip ends only itself", async () => {
  const rotated = join(dir, "mail.log.2.gz");
  writeFileSync(rotated, gzipSync(readFileSync(postfix)));
  const broken = join(dir, "mail.log.3.gz");
  const whole = gzipSync(readFileSync(exim));
  writeFileSync(broken, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const r = await read({ logs: [rotated, postfix, broken], domains: ["sender-one.example"] });
  assert.equal(r.domains[0], "sender-one.example");
  assert.equal(r.domains.filter((d) => d === "recipient-one.example").length, 1);
  assert.equal(r.domains.length, 7 + r.domains.filter((d) => d.startsWith("exim-")).length);
  assert.equal(r.stats.readErrors.length, 1);
  assert.match(r.stats.readErrors[0] ?? "", /mail\.log\.3\.gz/);
});

test("domains already in a resumed output are skipped and counted apart from duplicates", async () => {
  const done = new SeenSet();
  done.add("recipient-one.example");
  done.add("sender-two.example");
  const r = await read({ logs: [postfix] }, done);
  assert.ok(!r.domains.includes("recipient-one.example"));
  assert.ok(!r.domains.includes("sender-two.example"));
  assert.equal(r.domains.length, 5);
  assert.equal(r.stats.resumed, 4, "recipient-one.example three times, sender-two.example once");
});
