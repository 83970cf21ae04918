import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { type ExtractResult, extractReport } from "../../src/adapters/report-source.ts";
import { parseTlsrptReport } from "../../src/core/tlsrpt-report.ts";

/** The shared sample folder next to the repo, or the copy in the repo when run elsewhere. */
function samplesDir(): URL {
  const shared = new URL("../../../shared/samples/tlsrpt/", import.meta.url);
  return existsSync(shared) ? shared : new URL("../fixtures/samples/tlsrpt/", import.meta.url);
}
const sample = (name: string) => new Uint8Array(readFileSync(new URL(name, samplesDir())));

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

const enc = (s: string) => new TextEncoder().encode(s);
const codes = (r: ExtractResult) => r.diagnostics.map((d) => d.code);
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64").replace(/.{76}/g, "$&\r\n");

function ok(r: ExtractResult) {
  assert.ok(r.ok, `expected a report: ${JSON.stringify(r.diagnostics)}`);
  return r;
}

function assertReport(r: ExtractResult) {
  const got = ok(r);
  assert.equal(parseTlsrptReport(got.json).ok, true);
  assert.deepEqual(JSON.parse(got.json), JSON.parse(REPORT));
  return got;
}

function errorCode(r: ExtractResult): string | undefined {
  assert.equal(r.ok, false);
  return r.diagnostics.find((d) => d.severity === "error")?.code;
}

/** A report e-mail in the RFC 8460 §5.3 shape, with the report part given. */
function mail(partHeaders: string, body: string, extraHeaders = ""): Uint8Array {
  return enc(
    [
      "From: TLS reports <tlsrpt-noreply@sender.example>",
      "To: tlsrpt@example.com",
      "Subject: Report Domain: example.com Submitter: sender.example Report-ID: <x@sender.example>",
      "TLS-Report-Domain: example.com",
      "TLS-Report-Submitter: sender.example",
      `MIME-Version: 1.0${extraHeaders}`,
      'Content-Type: multipart/report; report-type="tlsrpt"; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "This is an aggregate TLS report.",
      "",
      "--b1",
      partHeaders,
      "",
      body,
      "--b1--",
      "",
    ].join("\r\n"),
  );
}

test("plain JSON is passed through as JSON", async () => {
  const r = assertReport(await extractReport(enc(`\n  ${REPORT}\n`)));
  assert.equal(r.source, "json");
  assert.equal(r.mail, undefined);
  assert.deepEqual(r.diagnostics, []);
  const bom = assertReport(await extractReport(new Uint8Array([0xef, 0xbb, 0xbf, ...enc(REPORT)])));
  assert.equal(bom.source, "json");
});

test("RPT-RCV-01 gzip is recognised by its magic bytes and inflated", async () => {
  const r = assertReport(await extractReport(gzipSync(enc(REPORT))));
  assert.equal(r.source, "gzip");
});

test("RPT-RCV-03 a gzip bomb over the inflate cap is rejected, not inflated", async () => {
  const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024));
  assert.equal(errorCode(await extractReport(bomb)), "input.gzip.too-large");
  const small = await extractReport(gzipSync(enc(REPORT)), { maxInflatedBytes: 100 });
  assert.equal(errorCode(small), "input.gzip.too-large");
  assert.match(small.diagnostics[0]?.message ?? "", /100 byte/);
});

test("a truncated gzip and a corrupt gzip each get their own code", async () => {
  const full = gzipSync(enc(JSON.stringify({ big: "x".repeat(100_000), r: Math.PI })));
  for (const cut of [2, 10, 20, Math.floor(full.length / 2), full.length - 1]) {
    assert.equal(
      errorCode(await extractReport(full.subarray(0, cut))),
      "input.gzip.truncated",
      `cut ${cut}`,
    );
  }
  const badCrc = Uint8Array.from(full);
  badCrc[badCrc.length - 6] = (badCrc[badCrc.length - 6] as number) ^ 0xff;
  assert.equal(errorCode(await extractReport(badCrc)), "input.gzip.corrupt");
  const badMethod = Uint8Array.from(full);
  badMethod[2] = 0;
  assert.equal(errorCode(await extractReport(badMethod)), "input.gzip.corrupt");
});

test("RPT-RCV-03 input over 10 MiB is rejected before any work", async () => {
  const big = new Uint8Array(10 * 1024 * 1024 + 1).fill(0x20);
  assert.equal(errorCode(await extractReport(big)), "input.too-large");
  assert.equal(
    errorCode(await extractReport(enc(REPORT), { maxInputBytes: 10 })),
    "input.too-large",
  );
});

test("empty input, binary garbage and plain text each get their own code", async () => {
  assert.equal(errorCode(await extractReport(new Uint8Array(0))), "input.empty");
  const garbage = new Uint8Array(10_000).map((_, i) => (i * 97 + 13) % 256);
  assert.equal(errorCode(await extractReport(garbage)), "input.binary");
  assert.equal(
    errorCode(await extractReport(enc("hello, this is not a report"))),
    "input.unrecognised",
  );
  assert.equal(errorCode(await extractReport(enc("null"))), "input.unrecognised");
  const gzGarbage = gzipSync(new Uint8Array(300).map((_, i) => i % 7));
  assert.equal(errorCode(await extractReport(gzGarbage)), "input.binary");
});

test("RPT-RCV-02 an e-mail without a report part is rejected with its own code", async () => {
  const note = enc(
    "From: a@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nJust a note, no report.\r\n",
  );
  assert.equal(errorCode(await extractReport(note)), "input.mail.no-report-part");
  const withPdf = mail(
    'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="r.pdf"\r\nContent-Transfer-Encoding: base64',
    b64(enc("%PDF-1.4 not a report")),
  );
  const r = await extractReport(withPdf);
  assert.equal(errorCode(r), "input.mail.no-report-part");
  assert.match(r.diagnostics[0]?.message ?? "", /application\/pdf/);
});

test("RPT-DLV-03 application/tlsrpt+gzip base64 part, with mail metadata", async () => {
  const r = assertReport(
    await extractReport(
      mail(
        'Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="sender.example!example.com!1795132800!1795219199!001.json.gz"',
        b64(gzipSync(enc(REPORT))),
      ),
    ),
  );
  assert.equal(r.source, "mail");
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.mail, {
    subject: "Report Domain: example.com Submitter: sender.example Report-ID: <x@sender.example>",
    from: "tlsrpt-noreply@sender.example",
    tlsReportDomain: "example.com",
    tlsReportSubmitter: "sender.example",
    filename: "sender.example!example.com!1795132800!1795219199!001.json.gz",
    contentType: "application/tlsrpt+gzip",
  });
});

test("RPT-DLV-03 application/tlsrpt+json part in quoted-printable", async () => {
  const qp = REPORT.replace(/=/g, "=3D").replace(/(.{70})/g, "$1=\r\n");
  const r = assertReport(
    await extractReport(
      mail(
        "Content-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: quoted-printable",
        qp,
      ),
    ),
  );
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.mail?.contentType, "application/tlsrpt+json");
});

test("RPT-RCV-02 the report part is found inside nested multiparts", async () => {
  const inner = [
    "Content-Type: multipart/mixed; boundary=inner",
    "",
    "--inner",
    "Content-Type: multipart/alternative; boundary=alt",
    "",
    "--alt",
    "Content-Type: text/plain",
    "",
    "hi",
    "--alt",
    "Content-Type: text/html",
    "",
    "<p>hi</p>",
    "--alt--",
    "--inner",
    "Content-Type: application/tlsrpt+gzip",
    "Content-Transfer-Encoding: base64",
    "",
    b64(gzipSync(enc(REPORT))),
    "--inner--",
  ].join("\r\n");
  const bytes = enc(
    `From: r@sender.example\r\nSubject: nested\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n${inner}\r\n--outer--\r\n`,
  );
  const r = assertReport(await extractReport(bytes));
  assert.deepEqual(r.diagnostics, []);
});

test("RPT-RCV-02 a generic type is accepted by its .json.gz / .json file name, with a warning", async () => {
  for (const [type, name, body] of [
    ["application/octet-stream", "report.json.gz", b64(gzipSync(enc(REPORT)))],
    ["application/gzip", "google.com!example.com!1!2.gz", b64(gzipSync(enc(REPORT)))],
    ["application/json", "report.json", b64(enc(REPORT))],
  ] as const) {
    const r = assertReport(
      await extractReport(
        mail(
          `Content-Type: ${type}\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${name}"`,
          body,
        ),
      ),
    );
    assert.deepEqual(codes(r), ["input.mail.generic-type"], type);
    assert.equal(r.mail?.filename, name);
  }
});

test("RPT-RCV-02 a nameless part of another type is found by its content, with a warning", async () => {
  const r = assertReport(
    await extractReport(
      mail(
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64",
        b64(gzipSync(enc(REPORT))),
      ),
    ),
  );
  assert.deepEqual(codes(r), ["input.mail.sniffed-part"]);
});

test("RPT-RCV-02 a non-multipart message whose body is the report", async () => {
  const typed = enc(
    `From: r@sender.example\r\nSubject: report\r\nContent-Type: application/tlsrpt+json\r\n\r\n${REPORT}\r\n`,
  );
  const r = assertReport(await extractReport(typed));
  assert.deepEqual(r.diagnostics, []);
  const gz = enc(
    `From: r@sender.example\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(gzipSync(enc(REPORT)))}\r\n`,
  );
  assertReport(await extractReport(gz));
  const text = enc(`From: r@sender.example\r\nSubject: report\r\n\r\n${REPORT}\r\n`);
  const plain = assertReport(await extractReport(text));
  assert.deepEqual(codes(plain), ["input.mail.body-report"]);
  assert.equal(plain.mail?.contentType, null);
});

test("RPT-RCV-02 a report mail forwarded as message/rfc822 is found, with its own headers", async () => {
  const original = mail("Content-Type: application/tlsrpt+json", REPORT);
  const forwarded = enc(
    [
      "From: admin@example.com",
      "Subject: Fwd: report",
      "Content-Type: multipart/mixed; boundary=fw",
      "",
      "--fw",
      "Content-Type: text/plain",
      "",
      "see attached",
      "--fw",
      "Content-Type: message/rfc822",
      "Content-Disposition: attachment",
      "",
      new TextDecoder().decode(original),
      "--fw--",
      "",
    ].join("\r\n"),
  );
  const r = assertReport(await extractReport(forwarded));
  assert.equal(r.mail?.tlsReportSubmitter, "sender.example");
});

test("RPT-DLV-03 a part whose label and content disagree is read by its content", async () => {
  const plainInGzip = assertReport(
    await extractReport(mail("Content-Type: application/tlsrpt+gzip", REPORT)),
  );
  assert.deepEqual(codes(plainInGzip), ["input.mail.type-mismatch"]);
  const noCte = assertReport(
    await extractReport(mail("Content-Type: application/tlsrpt+gzip", b64(gzipSync(enc(REPORT))))),
  );
  assert.deepEqual(codes(noCte), ["input.mail.type-mismatch"]);
});

test("RPT-RCV-02 two report parts: the first is read, with a warning", async () => {
  const part = `Content-Type: application/tlsrpt+json\r\n\r\n${REPORT}\r\n--b1\r\nContent-Type: application/tlsrpt+json`;
  const r = assertReport(await extractReport(mail(part, REPORT)));
  assert.deepEqual(codes(r), ["input.mail.several-reports"]);
});

test("RPT-RCV-03 a gzip bomb inside an e-mail is rejected too", async () => {
  const bomb = gzipSync(new Uint8Array(32 * 1024 * 1024));
  const r = await extractReport(
    mail("Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64", b64(bomb)),
    { maxInflatedBytes: 1024 * 1024 },
  );
  assert.equal(errorCode(r), "input.gzip.too-large");
});

test("invalid UTF-8 in the report is replaced, with a warning", async () => {
  const bytes = enc(REPORT.replace("Sender Ltd", "Sender @"));
  bytes[bytes.indexOf(0x40)] = 0xff;
  const r = ok(await extractReport(bytes));
  assert.deepEqual(codes(r), ["input.utf8.invalid"]);
  assert.match(r.json, /Sender \uFFFD/);
});

test("each sample kind: .json, .json.gz, +gzip e-mail, bare application/tlsrpt e-mail", async () => {
  const cases: [string, "json" | "gzip" | "mail", string | null][] = [
    ["phiag-google-2024.json", "json", null],
    ["parsedmarc-google-2024-attachment.json.gz", "gzip", null],
    ["parsedmarc-google-2024.eml", "mail", "application/tlsrpt+gzip"],
    ["robalexdev-rfc-email-crlf.eml", "mail", "application/tlsrpt+gzip"],
    ["stalwart-rfc8460-email.eml", "mail", "application/tlsrpt+gzip"],
    ["stalwart-google-uncompressed.eml", "mail", "application/tlsrpt"],
    ["isseis-google-success-1.eml", "mail", "application/tlsrpt+gzip"],
  ];
  for (const [file, source, type] of cases) {
    const r = ok(await extractReport(sample(file)));
    assert.equal(r.source, source, file);
    assert.equal(r.mail?.contentType ?? null, type, file);
    assert.equal(parseTlsrptReport(r.json).ok, true, file);
    assert.deepEqual(codes(r), [], file);
  }
  const google = ok(await extractReport(sample("parsedmarc-google-2024.eml")));
  assert.equal(google.mail?.tlsReportSubmitter, "google.com");
  assert.equal(google.mail?.tlsReportDomain, "cardinalhealth.ca");
  assert.match(
    google.mail?.subject ?? "",
    /^Report Domain: cardinalhealth\.ca Submitter: google\.com/,
  );
});

test("mutated inputs never throw", async () => {
  const seeds = [
    enc(REPORT),
    gzipSync(enc(REPORT)),
    mail("Content-Type: application/tlsrpt+json", REPORT),
  ];
  let x = 0x5eed;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (let i = 0; i < 600; i++) {
    const bytes = Uint8Array.from(seeds[i % seeds.length] as Uint8Array);
    for (let k = 0; k < 1 + rand(6); k++) bytes[rand(bytes.length)] = rand(256);
    const input = rand(3) === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes;
    const r = await extractReport(input);
    assert.equal(typeof r.ok, "boolean");
    if (r.ok) parseTlsrptReport(r.json);
  }
});

test("RPT-RCV-02 a report inline in the text under a note, and an mbox From line, are read", async () => {
  const text = enc(
    `From tlsrpt@sender.example Mon Nov 23 08:00:00 2026\r\nFrom: r@sender.example\r\nSubject: report\r\n\r\nDaily report follows.\r\n\r\n${REPORT}\r\n\r\n-- \r\nsig\r\n`,
  );
  const r = assertReport(await extractReport(text));
  assert.deepEqual(codes(r), ["input.mail.body-report"]);
  const prose = enc("From: a@example.com\r\n\r\nHello {not a report} bye\r\n");
  assert.equal(errorCode(await extractReport(prose)), "input.mail.no-report-part");
});

test("RPT-RCV-02 a mail with a raw binary gzip part is treated as a mail, not as binary", async () => {
  const gz = gzipSync(enc(REPORT));
  const head = enc(
    "From: r@sender.example\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: binary\r\n\r\n",
  );
  const tail = enc("\r\n--b--\r\n");
  const r = await extractReport(new Uint8Array([...head, ...gz, ...tail]));
  // MIME line handling may alter raw binary; what matters is that the mail was opened.
  assert.notEqual(r.ok ? "ok" : errorCode(r), "input.binary");
});

test("RPT-RCV-01 line-end bytes after a complete gzip stream are tolerated", async () => {
  const gz = gzipSync(enc(REPORT));
  assertReport(await extractReport(new Uint8Array([...gz, 0x0d, 0x0a])));
  assertReport(await extractReport(new Uint8Array([...gz, 0, 0, 0])));
  assert.equal(
    errorCode(await extractReport(new Uint8Array([...gz, 0x41, 0x42]))),
    "input.gzip.corrupt",
  );
});

test("RPT-RCV-03 a gzip bomb followed by a line end is still a bomb", async () => {
  const bomb = gzipSync(new Uint8Array(4 * 1024 * 1024));
  const r = await extractReport(new Uint8Array([...bomb, 0x0d, 0x0a]), {
    maxInflatedBytes: 1024 * 1024,
  });
  assert.equal(errorCode(r), "input.gzip.too-large");
});

test("RPT-RCV-03 a 9 MiB report mailed in base64 (12 MiB of mail) is read; a part over 10 MiB is not", async () => {
  // The mail cap is the report cap in base64 plus a wrapper, so the largest
  // report a sender may POST can also be mailed.
  const padded = (n: number) => {
    const r = JSON.parse(REPORT);
    r.pad = "p".repeat(n);
    return enc(JSON.stringify(r));
  };
  const part = "Content-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: base64\r\n";
  const fits = mail(part, b64(padded(9 * 1024 * 1024)));
  assert.ok(fits.length > 12 * 1024 * 1024, `mail is ${fits.length} bytes`);
  const got = ok(await extractReport(fits));
  assert.equal(got.source, "mail");
  assert.equal(JSON.parse(got.json).pad.length, 9 * 1024 * 1024);
  const over = mail(part, b64(padded(10 * 1024 * 1024)));
  assert.equal(errorCode(await extractReport(over)), "input.too-large");
});
