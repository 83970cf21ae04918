// `mtasts reports …` through the real binary (bin/mtasts.js), as scripts and
// Postfix run it, on both stores: ingest (files, directories, stdin, --mda),
// summary (the --json `total` contract, every --by, --csv), list, show (text,
// --json, --raw), prune, quarantine, and the errors for a bad --db.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { backends, expectedSamples, sampleBytes, samplePath } from "./backends.ts";

const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "mtasts-reports-cli-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  bytes: Buffer;
}

function mtasts(args: string[], input?: string | Uint8Array): Run {
  const r = spawnSync(process.execPath, [bin, "reports", ...args], {
    input,
    timeout: 60_000,
    cwd: scratch,
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: r.status,
    stdout: r.stdout.toString("utf8"),
    stderr: r.stderr.toString("utf8"),
    bytes: r.stdout,
  };
}

function oneJson(r: Run): Record<string, unknown> {
  assert.equal(r.stdout.trimEnd().split("\n").length, 1, `one line: ${r.stdout.slice(0, 200)}`);
  return JSON.parse(r.stdout);
}

const distinct = new Map(
  expectedSamples.map((s) => [`${s["organization-name"].toLowerCase()}\n${s["report-id"]}`, s]),
);
const want = { successful: 0, failed: 0 };
for (const s of distinct.values()) {
  want.successful += s["total-successful-session-count"];
  want.failed += s["total-failure-session-count"];
}

// Probed before any suite is declared: node:test starts running once the file's body yields.
const skips = await Promise.all(backends.map((b) => b.skip()));

for (const [i, backend] of backends.entries()) {
  const skip = skips[i] ?? false;

  describe(`mtasts reports on ${backend.name}`, { skip }, () => {
    let db: string;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await backend.fresh());
    });
    after(() => cleanup());

    test("ingest: every sample file, one outcome line each; exit 0", () => {
      const files = expectedSamples.map((s) => samplePath(s.file));
      const r = mtasts(["ingest", "--no-dkim", "--db", db, ...files]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines.length, files.length + 1);
      assert.equal(lines.filter((l) => l.startsWith("stored ")).length, distinct.size);
      assert.match(
        lines.at(-1) ?? "",
        new RegExp(
          `^${files.length} inputs: ${distinct.size} stored, ${files.length - distinct.size} duplicate, 0 quarantined$`,
        ),
      );
      // Again, as JSON: all duplicates now.
      const again = oneJson(mtasts(["ingest", "--no-dkim", "--json", "--db", db, ...files]));
      assert.deepEqual(again.counts, {
        stored: 0,
        duplicate: files.length,
        quarantined: 0,
        error: 0,
      });
    });

    test('summary --json: ONE object whose total is exactly {"successful": int, "failed": int}', () => {
      const r = mtasts(["summary", "--json", "--db", db]);
      assert.equal(r.status, 0, r.stderr);
      const out = oneJson(r);
      assert.deepEqual(Object.keys(out.total as object), ["successful", "failed"]);
      assert.deepEqual(out.total, want);
      assert.ok(Number.isInteger((out.total as typeof want).successful));
      assert.equal(out.reports, distinct.size);
      assert.equal(out.by, "day");
      assert.deepEqual(out.filters, { domain: null, since: null, until: null });
      assert.ok(Array.isArray(out.rows));
    });

    test("summary --by each grouping: rows keyed by the grouping; total unchanged", () => {
      const keys: Record<string, string[]> = {
        day: ["day", "reports", "successful", "failed"],
        reporter: ["reporter", "reports", "successful", "failed"],
        domain: ["domain", "reports", "successful", "failed"],
        mx: ["mx", "reports", "failed"],
        "result-type": ["result-type", "reports", "failed"],
      };
      for (const [by, rowKeys] of Object.entries(keys)) {
        const out = oneJson(mtasts(["summary", "--json", "--by", by, "--db", db]));
        assert.deepEqual(out.total, want, by);
        assert.equal(out.by, by);
        const rows = out.rows as Record<string, unknown>[];
        assert.ok(rows.length > 0, by);
        for (const row of rows) assert.deepEqual(Object.keys(row), rowKeys, by);
      }
      const byDay = oneJson(mtasts(["summary", "--json", "--by", "day", "--db", db]));
      assert.deepEqual((byDay.rows as { day: string }[])[0], {
        day: "2016-04-01",
        reports: 2,
        successful: 10652,
        failed: 606,
      });
    });

    test("summary filters: --domain, --since/--until as dates and durations; text for people", () => {
      const out = oneJson(
        mtasts(["summary", "--json", "--domain", "Company-Y.example.", "--db", db]),
      );
      assert.deepEqual(out.total, { successful: 5326, failed: 303 });
      assert.equal((out.filters as { domain: string }).domain, "company-y.example");
      const period = oneJson(
        mtasts([
          "summary",
          "--json",
          "--since",
          "2024-01-01",
          "--until",
          "2025-01-01T00:00:00Z",
          "--db",
          db,
        ]),
      );
      assert.equal(period.reports, 5);
      const recent = oneJson(mtasts(["summary", "--json", "--since", "400000d", "--db", db]));
      assert.deepEqual(recent.total, want);
      const text = mtasts(["summary", "--by", "reporter", "--db", db]);
      assert.equal(text.status, 0);
      assert.match(
        text.stdout,
        /^15 reports \(all reports\)\nsessions: 15,338 successful, 613 failed/,
      );
      assert.match(text.stdout, /\nCompany-X\s+2\s+10,652\s+606\s+5\.4%\n/);
    });

    test("summary --csv: a header and one RFC 4180 row per group", () => {
      const r = mtasts(["summary", "--csv", "--by", "result-type", "--db", db]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split("\r\n");
      assert.equal(lines[0], "result-type,reports,failed");
      assert.ok(lines.includes("starttls-not-supported,2,400"), r.stdout);
      assert.equal(lines.at(-1), "");
      const reporter = mtasts(["summary", "--csv", "--by", "reporter", "--db", db]).stdout.split(
        "\r\n",
      );
      assert.equal(reporter[0], "reporter,reports,successful,failed");
      assert.ok(reporter.includes("Company-X,2,10652,606"));
    });

    test("list, then show an id as text, JSON and the raw bytes as received", () => {
      const list = oneJson(mtasts(["list", "--json", "--domain", "cardinalhealth.ca", "--db", db]));
      const reports = list.reports as { id: string; organization: string }[];
      assert.equal(reports.length, 1);
      const id = reports[0]?.id as string;
      const shown = oneJson(mtasts(["show", id, "--json", "--db", db]));
      assert.equal(shown.reportId, "2024-09-03T00:00:00Z_cardinalhealth.ca");
      assert.equal((shown.report as { policies: unknown[] }).policies.length, 1);
      const raw = mtasts(["show", id, "--raw", "--db", db]);
      assert.equal(raw.status, 0);
      assert.deepEqual(
        new Uint8Array(raw.bytes),
        sampleBytes("parsedmarc-google-2024-attachment.json.gz"),
      );
      // Every report ingested from the directory, packed with others or kept alone, comes back exact.
      const all = oneJson(mtasts(["list", "--json", "--limit", "1000", "--db", db]));
      for (const item of all.reports as { id: string }[]) {
        const meta = oneJson(mtasts(["show", item.id, "--json", "--db", db]));
        const bytes = mtasts(["show", item.id, "--raw", "--db", db]).bytes;
        assert.equal(createHash("sha256").update(bytes).digest("hex"), meta.contentSha256, item.id);
      }
      const text = mtasts(["show", `#${id}`, "--db", db]);
      assert.match(
        text.stdout,
        /^report #\d+ {2}Google Inc\. {2}2024-09-03T00:00:00Z_cardinalhealth\.ca\n/,
      );
      assert.match(text.stdout, /policy 1: no-policy-found for cardinalhealth\.ca/);
      const missing = mtasts(["show", "424242", "--db", db]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /no report "424242"/);
      const table = mtasts(["list", "--limit", "2", "--db", db]);
      assert.equal(table.stdout.trimEnd().split("\n").length, 4, table.stdout);
      assert.match(table.stdout, /^id\s+day\s+reporter/);
    });

    test("RPT-RCV-04 hostile report text is escaped for terminals and defused for spreadsheets", () => {
      const hostile = {
        "organization-name": '=HYPERLINK("http://x")\u001b[31mEvil\u202e',
        "date-range": {
          "start-datetime": "2026-07-01T00:00:00Z",
          "end-datetime": "2026-07-01T23:59:59Z",
        },
        "contact-info": "x@evil.example",
        "report-id": "hostile-1",
        policies: [
          {
            policy: { "policy-type": "no-policy-found", "policy-domain": "hostile.example" },
            summary: { "total-successful-session-count": 1, "total-failure-session-count": 0 },
          },
        ],
      };
      const path = join(scratch, `hostile-${backend.name}.json`);
      writeFileSync(path, JSON.stringify(hostile));
      assert.equal(mtasts(["ingest", "--db", db, path]).status, 0);
      const text = mtasts([
        "summary",
        "--by",
        "reporter",
        "--domain",
        "hostile.example",
        "--db",
        db,
      ]).stdout;
      assert.ok(
        !text.includes("\u001b") && !text.includes("\u202e"),
        "no raw escape or bidi override",
      );
      assert.match(text, /\\u\{1b\}\[31mEvil\\u\{202e\}/);
      const csv = mtasts([
        "summary",
        "--csv",
        "--by",
        "reporter",
        "--domain",
        "hostile.example",
        "--db",
        db,
      ]).stdout;
      assert.match(csv, /\r\n"'=HYPERLINK\(""http:\/\/x""\)/);
    });

    test("stdin and --mda: a piped report e-mail is stored; a bad one is kept (exit 0 for Postfix)", () => {
      const piped = mtasts(
        ["ingest", "--no-dkim", "--db", db, "-"],
        sampleBytes("isseis-google-failure.eml"),
      );
      assert.equal(piped.status, 0, piped.stderr);
      assert.match(
        piped.stdout,
        /^(stored|duplicate) +#\d+ {2}Google Inc\. 2026-02-08T00:00:00Z_example\.com {2}stdin\n$/,
      );
      const bad = mtasts(
        ["ingest", "--no-dkim", "--mda", "--db", db],
        "Subject: hello\r\n\r\nno report here\r\n",
      );
      assert.equal(bad.status, 0, bad.stderr);
      assert.match(bad.stdout, /^quarantined q\d+ {2}input\.mail\.no-report-part: /);
      const plain = mtasts(
        ["ingest", "--no-dkim", "--db", db, "-"],
        "Subject: hello again\r\n\r\nno report\r\n",
      );
      assert.equal(plain.status, 1, "without --mda a quarantined report is exit 1");
    });

    test("quarantine list, show, reingest after a fix (--managed-domain)", () => {
      const path = join(scratch, `unmanaged-${backend.name}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          "organization-name": "Late Ltd",
          "date-range": {
            "start-datetime": "2026-08-01T00:00:00Z",
            "end-datetime": "2026-08-01T23:59:59Z",
          },
          "contact-info": "tlsrpt@late.example",
          "report-id": "late-1",
          policies: [
            {
              policy: { "policy-type": "no-policy-found", "policy-domain": "new.example" },
              summary: { "total-successful-session-count": 7, "total-failure-session-count": 0 },
            },
          ],
        }),
      );
      const q = oneJson(
        mtasts(["ingest", "--json", "--managed-domain", "example.com", "--db", db, path]),
      );
      const [result] = q.results as { status: string; quarantineId: string; code: string }[];
      assert.equal(result?.status, "quarantined");
      assert.equal(result?.code, "ingest.domain.unmanaged");
      const id = result?.quarantineId as string;
      const listed = oneJson(mtasts(["quarantine", "list", "--json", "--db", db]));
      assert.ok((listed.quarantine as { id: string }[]).some((e) => e.id === id));
      const shown = mtasts(["quarantine", "show", `q${id}`, "--db", db]);
      assert.match(shown.stdout, /ingest\.domain\.unmanaged/);
      assert.match(shown.stdout, /is for new\.example, which is not a domain managed here/);
      const raw = mtasts(["quarantine", "show", id, "--raw", "--db", db]);
      assert.equal(raw.stdout, JSON.stringify(JSON.parse(raw.stdout)));
      const still = mtasts([
        "quarantine",
        "reingest",
        id,
        "--managed-domain",
        "example.com",
        "--db",
        db,
      ]);
      assert.equal(still.status, 1);
      assert.match(still.stdout, /still quarantined: ingest\.domain\.unmanaged/);
      const fixed = mtasts([
        "quarantine",
        "reingest",
        id,
        "--managed-domain",
        "new.example",
        "--db",
        db,
      ]);
      assert.equal(fixed.status, 0, fixed.stderr);
      assert.match(fixed.stdout, new RegExp(`^q${id} {2}stored as #\\d+ {2}Late Ltd late-1\\n$`));
      const all = oneJson(
        mtasts(["quarantine", "reingest", "--all", "--json", "--no-dkim", "--db", db]),
      );
      assert.ok(!(all.results as { quarantineId: string }[]).some((o) => o.quarantineId === id));
      const after = oneJson(mtasts(["quarantine", "list", "--all", "--json", "--db", db]));
      const entry = (after.quarantine as { id: string; resolvedReport: string | null }[]).find(
        (e) => e.id === id,
      );
      assert.ok(entry?.resolvedReport);
    });

    test("prune --keep: --dry-run counts, then deletes reports that ended before the cutoff", () => {
      const before = oneJson(mtasts(["summary", "--json", "--db", db]));
      const dry = oneJson(mtasts(["prune", "--keep", "400d", "--dry-run", "--json", "--db", db]));
      assert.equal(dry.dryRun, true);
      assert.ok((dry.reports as number) > 0);
      assert.deepEqual(oneJson(mtasts(["summary", "--json", "--db", db])).total, before.total);
      const real = oneJson(mtasts(["prune", "--keep", "400d", "--json", "--db", db]));
      assert.equal(real.reports, dry.reports);
      const cutoff = Date.parse(real.before as string);
      const left = oneJson(mtasts(["list", "--json", "--limit", "0", "--db", db])).reports as {
        end: string;
      }[];
      assert.equal(left.length, (before.reports as number) - (real.reports as number));
      for (const r of left) assert.ok(Date.parse(r.end) >= cutoff);
      assert.match(
        mtasts(["prune", "--keep", "400d", "--db", db]).stdout,
        /^deleted 0 reports that ended before /,
      );
    });
  });
}

describe("mtasts reports: usage and store errors", () => {
  test("usage errors are exit 2 with a message", () => {
    for (const args of [
      [],
      ["frobnicate"],
      ["summary", "--by", "week"],
      ["summary", "--since", "yesterday"],
      ["summary", "--json", "--csv"],
      ["prune"],
      ["prune", "--keep", "soon"],
      ["list", "--limit", "-3"],
      ["show"],
      ["quarantine", "reingest"],
      ["ingest", "--unsigned", "maybe", "-"],
    ]) {
      const r = mtasts(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^mtasts: /, args.join(" "));
    }
    assert.equal(mtasts(["--help"]).status, 0);
  });

  test("a SQLite --db in a missing directory, or a store never written: exit 3, path named", () => {
    const r = mtasts(["ingest", "--db", "/nonexistent/dir/reports.db", "-"], "{}");
    assert.equal(r.status, 3);
    assert.match(
      r.stderr,
      /cannot open SQLite report store \/nonexistent\/dir\/reports\.db: .*check that the directory exists/,
    );
    const none = mtasts(["summary", "--db", join(scratch, "never.db")]);
    assert.equal(none.status, 3);
    assert.match(none.stderr, /no report store at .*never\.db/);
    // The default --db is ./mtasts-reports.db in the working directory.
    const fresh = mtasts(["summary"]);
    assert.match(fresh.stderr, new RegExp(`no report store at ${scratch}/mtasts-reports\\.db`));
    const wrong = mtasts(["summary", "--db", "mysql://root@127.0.0.1/x"]);
    assert.equal(wrong.status, 3);
    assert.match(
      wrong.stderr,
      /not a report store: give a SQLite file path or a postgres:\/\/ URL/,
    );
  });

  test("an unreachable PostgreSQL: exit 3 naming the target without its password; --mda asks Postfix to retry", () => {
    const url = "postgres://mtasts:s3cret-pw@127.0.0.1:1/reports?schema=tlsrpt";
    const r = mtasts(["summary", "--db", url]);
    assert.equal(r.status, 3);
    assert.match(
      r.stderr,
      /cannot connect to PostgreSQL at postgres:\/\/mtasts@127\.0\.0\.1:1\/reports\?schema=tlsrpt: .*ECONNREFUSED.*check that the server is running/,
    );
    assert.doesNotMatch(r.stderr, /s3cret/);
    const mda = mtasts(["ingest", "--mda", "--db", url, "-"], "{}");
    assert.equal(mda.status, 75);
  });
});
