import assert from "node:assert/strict";
import { test } from "node:test";
import type { Parsed } from "../../src/core/diagnostic.ts";
import {
  failureResultTypes,
  isKnownResultType,
  resultTypeFor,
  resultTypes,
} from "../../src/core/result-type.ts";
import {
  parseTlsrptReport,
  reportKey,
  reportTotals,
  type TlsrptReport,
} from "../../src/core/tlsrpt-report.ts";

type Obj = Record<string, unknown>;

/** The RFC 8460 App. B report with mx-host as corrected by erratum 6241. */
function rfcReport(): Obj {
  return {
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
            "result-type": "starttls-not-supported",
            "sending-mta-ip": "2001:db8:abcd:0013::1",
            "receiving-mx-hostname": "mx2.mail.company-y.example",
            "receiving-ip": "203.0.113.56",
            "failed-session-count": 200,
            "additional-information":
              "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported",
          },
          {
            "result-type": "validation-failure",
            "sending-mta-ip": "198.51.100.62",
            "receiving-ip": "203.0.113.58",
            "receiving-mx-hostname": "mx-backup.mail.company-y.example",
            "failed-session-count": 3,
            "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED",
          },
        ],
      },
    ],
  };
}

/** rfcReport() with `edit` applied to its first policy. */
function withPolicy(edit: (p: Obj) => void): Obj {
  const r = rfcReport();
  edit((r.policies as Obj[])[0] as Obj);
  return r;
}

/** rfcReport() with one member of policies[0] replaced; undefined deletes it. */
function withMember(key: string, v: unknown): Obj {
  return withPolicy((pol) => set(pol, key, v));
}

/** rfcReport() with one member of policies[0].policy replaced; undefined deletes it. */
function withField(key: string, v: unknown): Obj {
  return withPolicy((pol) => set(pol.policy as Obj, key, v));
}

function set(o: Obj, key: string, v: unknown): void {
  if (v === undefined) delete o[key];
  else o[key] = v;
}

const parse = (r: unknown) => parseTlsrptReport(JSON.stringify(r));
const codes = (p: Parsed<unknown>) => p.diagnostics.map((d) => d.code);

function value(p: Parsed<TlsrptReport>): TlsrptReport {
  assert.ok(p.ok, `expected a valid report: ${JSON.stringify(p.diagnostics, null, 1)}`);
  return p.value;
}

function firstPolicy(p: Parsed<TlsrptReport>) {
  const policy = value(p).policies[0];
  assert.ok(policy);
  return policy;
}

function at(p: Parsed<unknown>, code: string): string | undefined {
  return p.diagnostics.find((d) => d.code === code)?.at?.path;
}

test("the RFC example (erratum 6241 form) parses with no findings", () => {
  const p = parse(rfcReport());
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(value(p), rfcReport());
});

test("RPT-JSON-01 ✓ policies as an array is read without findings", () => {
  const p = parse(rfcReport());
  assert.equal(value(p).policies.length, 1);
  assert.ok(!codes(p).includes("report.policies.not-array"));
});

test("RPT-JSON-01 ✗ policies as one object is wrapped into an array with a warning", () => {
  const r = rfcReport();
  r.policies = (r.policies as Obj[])[0];
  const p = parse(r);
  assert.deepEqual(codes(p), ["report.policies.not-array"]);
  assert.equal(value(p).policies.length, 1);
  assert.equal(at(p, "report.policies.not-array"), "policies");
});

test("RPT-JSON-01 ✗ failure-details as one object is wrapped; a string is an error", () => {
  const wrapped = parse(
    withPolicy((pol) => {
      pol["failure-details"] = {
        "result-type": "certificate-expired",
        "failed-session-count": 303,
      };
    }),
  );
  assert.deepEqual(codes(wrapped), ["report.failure-details.not-array"]);
  assert.equal(firstPolicy(wrapped)["failure-details"].length, 1);
  const bad = parse(withMember("failure-details", "none"));
  assert.equal(bad.ok, false);
  assert.ok(codes(bad).includes("report.field.type"));
});

test("RPT-JSON-01 policies missing or of a scalar type makes the report unstorable", () => {
  const r = rfcReport();
  delete r.policies;
  const missing = parse(r);
  assert.equal(missing.ok, false);
  assert.deepEqual(codes(missing), ["report.field.missing"]);
  assert.equal(at(missing, "report.field.missing"), "policies");
  const scalar = parse({ ...rfcReport(), policies: 3 });
  assert.equal(scalar.ok, false);
  assert.deepEqual(codes(scalar), ["report.field.type"]);
});

function withDates(start: unknown, end: unknown): Obj {
  return { ...rfcReport(), "date-range": { "start-datetime": start, "end-datetime": end } };
}

function range(p: Parsed<TlsrptReport>): [string, string] {
  const r = value(p)["date-range"];
  return [r["start-datetime"], r["end-datetime"]];
}

test("RPT-JSON-02 ✓ 2016-04-01T00:00:00Z is kept as is", () => {
  const p = parse(withDates("2016-04-01T00:00:00Z", "2016-04-01T23:59:59Z"));
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(range(p), ["2016-04-01T00:00:00Z", "2016-04-01T23:59:59Z"]);
});

test("RPT-JSON-02 ✓ (receiver, warn) 2016-04-01T00:00:00 without offset is read as UTC", () => {
  const p = parse(withDates("2016-04-01T00:00:00", "2016-04-01T23:59:59"));
  assert.deepEqual(codes(p), ["report.date.no-offset", "report.date.no-offset"]);
  assert.deepEqual(range(p), ["2016-04-01T00:00:00Z", "2016-04-01T23:59:59Z"]);
  assert.equal(at(p, "report.date.no-offset"), "date-range.start-datetime");
});

test("RPT-JSON-02 ✗ a bare date 2016-04-01 is an error", () => {
  const p = parse(withDates("2016-04-01T00:00:00Z", "2016-04-01"));
  assert.equal(p.ok, false);
  assert.deepEqual(codes(p), ["report.date.invalid"]);
  assert.equal(at(p, "report.date.invalid"), "date-range.end-datetime");
});

test("RPT-JSON-02 offsets are converted to UTC Z, fractions dropped, lowercase accepted", () => {
  const p = parse(withDates("2016-04-01T02:00:00.123+02:00", "2016-04-01t19:59:59-04:00"));
  assert.deepEqual(range(p), ["2016-04-01T00:00:00Z", "2016-04-01T23:59:59Z"]);
  assert.deepEqual(codes(p), ["report.date.offset", "report.date.offset"]);
  const nextDay = parse(withDates("2016-12-31T20:00:00-05:00", "2016-12-31T23:59:59.9z"));
  assert.deepEqual(range(nextDay), ["2017-01-01T01:00:00Z", "2016-12-31T23:59:59Z"]);
  assert.ok(codes(nextDay).includes("report.date.reversed"));
});

test("RPT-JSON-02 near-misses are read with a lenient warning", () => {
  const p = parse(withDates("2016-04-01 00:00:00Z", "2016-04-01T24:00:00Z"));
  assert.deepEqual(range(p), ["2016-04-01T00:00:00Z", "2016-04-02T00:00:00Z"]);
  assert.deepEqual(codes(p), ["report.date.lenient", "report.date.lenient"]);
  const noSeconds = parse(withDates("2016-04-01T00:00+0000", "2016-04-01T23:59:59 UTC"));
  assert.deepEqual(range(noSeconds), ["2016-04-01T00:00:00Z", "2016-04-01T23:59:59Z"]);
});

test("RPT-JSON-02 ✗ impossible or non-string date-times are errors", () => {
  for (const bad of [
    "2016-02-30T00:00:00Z",
    "2016-13-01T00:00:00Z",
    "2016-04-01T25:00:00Z",
    "2016-04-01T00:00:00+25:00",
    "1459468800",
    1459468800,
    "",
  ]) {
    const p = parse(withDates(bad, "2016-04-01T23:59:59Z"));
    assert.equal(p.ok, false, String(bad));
    assert.deepEqual(codes(p), ["report.date.invalid"], String(bad));
  }
  assert.equal(parse(withDates("2016-02-29T00:00:00Z", "2016-02-29T23:59:59Z")).ok, true);
  const missing = parse({ ...rfcReport(), "date-range": undefined });
  assert.deepEqual(codes(missing), ["report.field.missing"]);
  const noEnd = parse({
    ...rfcReport(),
    "date-range": { "start-datetime": "2016-04-01T00:00:00Z" },
  });
  assert.equal(noEnd.ok, false);
  assert.equal(at(noEnd, "report.field.missing"), "date-range.end-datetime");
});

function withCounts(ok: unknown, failed: unknown): Obj {
  return withPolicy((pol) => {
    pol.summary = { "total-successful-session-count": ok, "total-failure-session-count": failed };
  });
}

test("RPT-JSON-03 ✓ 5326 is a count", () => {
  const p = parse(withCounts(5326, 303));
  assert.deepEqual(p.diagnostics, []);
  assert.equal(firstPolicy(p).summary["total-successful-session-count"], 5326);
});

test('RPT-JSON-03 ✗ "5326" is read as 5326 with a warning', () => {
  const p = parse(withCounts("5326", 303));
  assert.deepEqual(codes(p), ["report.count.string"]);
  assert.equal(firstPolicy(p).summary["total-successful-session-count"], 5326);
  assert.equal(at(p, "report.count.string"), "policies[0].summary.total-successful-session-count");
});

test("RPT-JSON-03 ✗ -1, 1.5, 2^53, non-numeric strings and booleans are errors", () => {
  for (const bad of [-1, 1.5, 2 ** 53, "-1", "1.5", "many", true, [1], { n: 1 }]) {
    const p = parse(withCounts(bad, 303));
    assert.equal(p.ok, false, JSON.stringify(bad));
    assert.deepEqual(codes(p), ["report.count.invalid"], JSON.stringify(bad));
  }
  const huge = parseTlsrptReport(
    JSON.stringify(withCounts(0, 303)).replace(
      '"total-successful-session-count":0',
      '"total-successful-session-count":9007199254740993',
    ),
  );
  assert.deepEqual(codes(huge), ["report.count.invalid"]);
  const detail = parse(
    withPolicy((pol) => {
      (pol["failure-details"] as Obj[])[0] = { "result-type": "x", "failed-session-count": -5 };
    }),
  );
  assert.equal(
    at(detail, "report.count.invalid"),
    "policies[0].failure-details[0].failed-session-count",
  );
});

test("RPT-JSON-03 failure-details summing above the total (overlap) is a warning, never an error", () => {
  const p = parse(withCounts(5326, 250));
  assert.equal(p.ok, true);
  assert.deepEqual(codes(p), ["report.summary.count-mismatch"]);
  assert.equal(
    at(p, "report.summary.count-mismatch"),
    "policies[0].summary.total-failure-session-count",
  );
  const below = parse(withCounts(5326, 400));
  assert.deepEqual(codes(below), ["report.summary.count-mismatch"]);
});

test("RPT-JSON-03 missing counts and a missing summary are taken as 0 with warnings", () => {
  const p = parse(withMember("summary", { "total-successful-session-count": 7 }));
  assert.equal(firstPolicy(p).summary["total-failure-session-count"], 0);
  assert.ok(codes(p).includes("report.field.absent"));
  const none = parse(
    withPolicy((pol) => {
      delete pol.summary;
      delete pol["failure-details"];
    }),
  );
  assert.deepEqual(codes(none), [
    "report.field.absent",
    "report.field.absent",
    "report.field.absent",
  ]);
  assert.deepEqual(firstPolicy(none).summary, {
    "total-successful-session-count": 0,
    "total-failure-session-count": 0,
  });
});

function policyOf(p: Parsed<TlsrptReport>) {
  return firstPolicy(p).policy;
}

const STS_LINES = [
  "version: STSv1",
  "mode: testing",
  "mx: *.mail.company-y.example",
  "max_age: 86400",
];

test("RPT-JSON-04 ✓ one array element per policy line, and a TLSA record", () => {
  assert.deepEqual(policyOf(parse(rfcReport()))["policy-string"], STS_LINES);
  const tlsa = parse(
    withPolicy((pol) => {
      pol.policy = {
        "policy-type": "tlsa",
        "policy-string": ["3 1 1 1F850A337E6DB9C609C522D136A475638CC43E1ED424F8EEC8513D747D1D085D"],
        "policy-domain": "company-y.example",
      };
    }),
  );
  assert.deepEqual(tlsa.diagnostics, []);
});

test("RPT-JSON-04 ✗ a policy-string given as one string is split into lines with a warning", () => {
  const p = parse(
    withPolicy((pol) => {
      (pol.policy as Obj)["policy-string"] = `${STS_LINES.join("\r\n")}\r\n`;
    }),
  );
  assert.deepEqual(codes(p), ["report.policy-string.string"]);
  assert.deepEqual(policyOf(p)["policy-string"], STS_LINES);
});

test("RPT-JSON-04 ✗ a JSON-encoded array inside the one element (Microsoft tlsa) is decoded", () => {
  const records = [
    "3 1 1 6007EEE553E85D8DF007A845D19EC343",
    "3 1 1 837C773D54C2E2BD71871A3FC352BE82",
  ];
  const p = parse(
    withPolicy((pol) => {
      pol.policy = {
        "policy-type": "tlsa",
        "policy-string": [JSON.stringify(records)],
        "policy-domain": "company-y.example",
      };
    }),
  );
  assert.deepEqual(codes(p), ["report.policy-string.nested-json"]);
  assert.deepEqual(policyOf(p)["policy-string"], records);
  assert.equal(at(p, "report.policy-string.nested-json"), "policies[0].policy.policy-string[0]");
});

test('RPT-JSON-04 ✗ ["mx: a.example mx: b.example"] is flagged as joined', () => {
  const p = parse(
    withPolicy((pol) => {
      (pol.policy as Obj)["policy-string"] = [
        "version: STSv1",
        "mode: testing",
        "mx: a.example mx: b.example",
        "max_age: 86400",
      ];
    }),
  );
  assert.deepEqual(codes(p), ["report.policy-string.joined"]);
});

test("RPT-JSON-04 ✗ a nested array for mx is flattened; multi-line elements are split", () => {
  const nested = parse(
    withPolicy((pol) => {
      (pol.policy as Obj)["policy-string"] = [
        "version: STSv1",
        "mode: testing",
        ["mx: *.mail.company-y.example"],
        "max_age: 86400",
      ];
    }),
  );
  assert.deepEqual(codes(nested), ["report.policy-string.nested-array"]);
  assert.deepEqual(policyOf(nested)["policy-string"], STS_LINES);
  const multi = parse(
    withPolicy((pol) => {
      (pol.policy as Obj)["policy-string"] = [
        "version: STSv1\nmode: testing",
        "mx: *.mail.company-y.example\nmax_age: 86400\n",
      ];
    }),
  );
  assert.deepEqual(codes(multi), [
    "report.policy-string.multiline",
    "report.policy-string.multiline",
  ]);
  assert.deepEqual(policyOf(multi)["policy-string"], STS_LINES);
});

function withMxHost(mx: unknown): Obj {
  return withField("mx-host", mx);
}

test('RPT-JSON-05 ✓ "mx-host":["*.mail.company-y.example"]', () => {
  const p = parse(withMxHost(["*.mail.company-y.example"]));
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(policyOf(p)["mx-host"], ["*.mail.company-y.example"]);
});

test('RPT-JSON-05 ✓ (receiver) "mx-host":"*.mail…" becomes an array with a warning', () => {
  const p = parse(withMxHost("*.mail.company-y.example"));
  assert.deepEqual(codes(p), ["report.mx-host.string"]);
  assert.deepEqual(policyOf(p)["mx-host"], ["*.mail.company-y.example"]);
  assert.equal(at(p, "report.mx-host.string"), "policies[0].policy.mx-host");
});

test("RPT-JSON-05 stray 'mx: ' prefixes are stripped; joined patterns are split", () => {
  const p = parse(withMxHost(["mx: mx.server.com", "MX:backup.server.com"]));
  assert.deepEqual(codes(p), ["report.mx-host.prefix", "report.mx-host.prefix"]);
  assert.deepEqual(policyOf(p)["mx-host"], ["mx.server.com", "backup.server.com"]);
  assert.equal(at(p, "report.mx-host.prefix"), "policies[0].policy.mx-host[0]");
  const joined = parse(withMxHost("mx: a.example mx: b.example"));
  assert.deepEqual(policyOf(joined)["mx-host"], ["a.example", "b.example"]);
  assert.deepEqual(codes(joined), [
    "report.mx-host.string",
    "report.mx-host.prefix",
    "report.mx-host.joined",
  ]);
});

test("RPT-JSON-05 absent mx-host stays absent; a non-string entry is dropped with a warning", () => {
  const p = parse(withField("mx-host", undefined));
  assert.equal("mx-host" in policyOf(p), false);
  const odd = parse(withMxHost(["a.example", 7]));
  assert.deepEqual(policyOf(odd)["mx-host"], ["a.example"]);
  assert.deepEqual(codes(odd), ["report.field.not-string"]);
});

test('RPT-JSON-06 ✗ "policy-domain":"bücher.example" is converted to A-labels with a warning', () => {
  const p = parse(withField("policy-domain", "bücher.example"));
  assert.equal(policyOf(p)["policy-domain"], "xn--bcher-kva.example");
  assert.deepEqual(codes(p), ["report.policy-domain.u-label"]);
  assert.equal(at(p, "report.policy-domain.u-label"), "policies[0].policy.policy-domain");
  assert.deepEqual(reportTotals(value(p)).policyDomains, ["xn--bcher-kva.example"]);
});

test("RPT-JSON-06 U-label mx-host patterns are converted; A-labels pass untouched", () => {
  const p = parse(withMxHost(["*.mail.bücher.example", "xn--gpher-jua.test"]));
  assert.deepEqual(policyOf(p)["mx-host"], ["*.mail.xn--bcher-kva.example", "xn--gpher-jua.test"]);
  assert.deepEqual(codes(p), ["report.policy-domain.u-label"]);
  const bad = parse(withField("policy-domain", "bü cher/example"));
  assert.equal(policyOf(bad)["policy-domain"], "bü cher/example");
  assert.deepEqual(codes(bad), ["report.policy-domain.u-label"]);
});

test("RPT-JSON-07 additional-info-uri is accepted as additional-information with a warning", () => {
  const p = parse(
    withPolicy((pol) => {
      (pol["failure-details"] as Obj[])[1] = {
        "result-type": "starttls-not-supported",
        "failed-session-count": 200,
        "additional-info-uri": "https://reports.example/1",
      };
    }),
  );
  assert.deepEqual(codes(p), ["report.additional-information.alias"]);
  const detail = firstPolicy(p)["failure-details"][1];
  assert.equal(detail?.["additional-information"], "https://reports.example/1");
  assert.equal("additional-info-uri" in (detail ?? {}), false);
  assert.equal(
    at(p, "report.additional-information.alias"),
    "policies[0].failure-details[1].additional-info-uri",
  );
});

test("RPT-JSON-07 additional-information (the schema key) is kept without findings", () => {
  const p = parse(rfcReport());
  assert.match(firstPolicy(p)["failure-details"][1]?.["additional-information"] ?? "", /^https:/);
  assert.deepEqual(p.diagnostics, []);
});

test("RPT-JSON-08 no-policy-found without policy-string, mx-host or failure-details is clean", () => {
  const p = parse({
    ...rfcReport(),
    policies: [
      {
        policy: { "policy-type": "no-policy-found", "policy-domain": "example.org" },
        summary: { "total-successful-session-count": 13, "total-failure-session-count": 0 },
      },
    ],
  });
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(policyOf(p), {
    "policy-type": "no-policy-found",
    "policy-domain": "example.org",
  });
  assert.deepEqual(firstPolicy(p)["failure-details"], []);
});

test("RPT-JSON-08 an sts fetch error without policy-string, MX or IP is accepted", () => {
  const p = parse({
    ...rfcReport(),
    policies: [
      {
        policy: { "policy-type": "sts", "policy-domain": "example.com" },
        summary: { "total-successful-session-count": 0, "total-failure-session-count": 1 },
        "failure-details": [
          {
            "result-type": "sts-policy-fetch-error",
            "failed-session-count": 1,
            "failure-reason-code": "bad https response code: 404",
          },
        ],
      },
    ],
  });
  assert.equal(p.ok, true);
  assert.deepEqual(codes(p), ["report.policy-string.missing"]);
  assert.equal(p.diagnostics[0]?.severity, "info");
});

test("RPT-JSON-08 no-policy-found that still names a policy is flagged", () => {
  const p = parse({
    ...rfcReport(),
    policies: [
      {
        policy: {
          "policy-type": "no-policy-found",
          "policy-domain": "a.example",
          "mx-host": ["mx.a.example"],
        },
        summary: { "total-successful-session-count": 1, "total-failure-session-count": 0 },
      },
    ],
  });
  assert.deepEqual(codes(p), ["report.no-policy-found.has-policy"]);
});

test("RPT-RES-01 an unknown result-type is kept verbatim and flagged", () => {
  const p = parse(
    withPolicy((pol) => {
      pol["failure-details"] = [{ "result-type": "Testing", "failed-session-count": 303 }];
    }),
  );
  assert.equal(p.ok, true);
  assert.deepEqual(codes(p), ["report.result-type.unknown"]);
  assert.equal(firstPolicy(p)["failure-details"][0]?.["result-type"], "Testing");
  assert.deepEqual(reportTotals(value(p)).resultTypes, ["Testing"]);
  assert.equal(at(p, "report.result-type.unknown"), "policies[0].failure-details[0].result-type");
});

test("RPT-RES-01 all eleven registered result types pass without findings", () => {
  assert.equal(resultTypes.length, 11);
  const p = parse(
    withPolicy((pol) => {
      pol.summary = { "total-successful-session-count": 0, "total-failure-session-count": 11 };
      pol["failure-details"] = resultTypes.map((t) => ({
        "result-type": t,
        "failed-session-count": 1,
      }));
    }),
  );
  assert.deepEqual(p.diagnostics, []);
  assert.equal(reportTotals(value(p)).resultTypes.length, 11);
  assert.ok(resultTypes.every(isKnownResultType));
  assert.equal(isKnownResultType("Testing"), false);
  assert.equal(isKnownResultType("Certificate-Expired"), false);
});

test("RPT-GEN-07 STS fetch classes map to their result types", () => {
  assert.equal(resultTypeFor("fetch.status")["result-type"], "sts-policy-fetch-error");
  assert.equal(resultTypeFor("fetch.certificate")["result-type"], "sts-webpki-invalid");
  assert.equal(resultTypeFor("fetch.content-type")["result-type"], "sts-policy-invalid");
  assert.deepEqual(resultTypeFor("sts.mx-mismatch"), {
    "result-type": "validation-failure",
    "failure-reason-code": "sts-mx-mismatch",
  });
  for (const m of Object.values(failureResultTypes)) assert.ok(isKnownResultType(m["result-type"]));
});

test("RPT-RCV-03 nesting deeper than 32 is rejected before parsing", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  const r = JSON.stringify({ ...rfcReport(), extra: "@" }).replace('"@"', deep(31));
  assert.equal(parseTlsrptReport(r).ok, true);
  const tooDeep = parseTlsrptReport(
    JSON.stringify({ ...rfcReport(), extra: "@" }).replace('"@"', deep(32)),
  );
  assert.deepEqual(codes(tooDeep), ["report.json.too-deep"]);
  const started = performance.now();
  const hostile = parseTlsrptReport("[".repeat(5_000_000));
  assert.deepEqual(codes(hostile), ["report.json.too-deep"]);
  assert.ok(performance.now() - started < 2000);
  const inString = parseTlsrptReport(JSON.stringify({ ...rfcReport(), extra: "[".repeat(100) }));
  assert.equal(inString.ok, true, "brackets inside strings do not count");
});

test("RPT-RCV-03 more than 10 000 policies or 100 000 failure-details are rejected", () => {
  const policy = (rfcReport().policies as Obj[])[0];
  const many = parse({ ...rfcReport(), policies: Array.from({ length: 10_001 }, () => policy) });
  assert.deepEqual(codes(many), ["report.too-many-policies"]);
  const detail = { "result-type": "certificate-expired", "failed-session-count": 1 };
  const details = Array.from({ length: 50_001 }, () => detail);
  const two = { ...policy, "failure-details": details };
  const tooMany = parse({ ...rfcReport(), policies: [two, two] });
  assert.deepEqual(codes(tooMany), ["report.too-many-failure-details"]);
  const atLimit = parse({
    ...rfcReport(),
    policies: [
      { ...policy, "failure-details": details.slice(1) },
      { ...policy, "failure-details": details.slice(1) },
    ],
  });
  assert.equal(atLimit.ok, true);
  // 100 000 mismatching details produce one finding per policy, not one per detail.
  assert.deepEqual(codes(atLimit), [
    "report.summary.count-mismatch",
    "report.summary.count-mismatch",
  ]);
});

test("RPT-RCV-06 not JSON, not an object, no report-id: invalid with their own codes", () => {
  assert.deepEqual(codes(parseTlsrptReport("{not json")), ["report.json.syntax"]);
  assert.deepEqual(codes(parseTlsrptReport("")), ["report.json.syntax"]);
  for (const text of ["[]", "null", '"report"', "42"]) {
    const p = parseTlsrptReport(text);
    assert.equal(p.ok, false);
    assert.deepEqual(codes(p), ["report.json.not-object"], text);
  }
  for (const id of [undefined, null, "", "  "]) {
    const p = parse({ ...rfcReport(), "report-id": id });
    assert.equal(p.ok, false);
    assert.deepEqual(codes(p), ["report.field.missing"]);
    assert.equal(at(p, "report.field.missing"), "report-id");
  }
});

test("RPT-RCV-06 a missing organization-name or policy member is a warning, kept as null", () => {
  const r = rfcReport();
  delete r["organization-name"];
  const p = parse(r);
  assert.equal(value(p)["organization-name"], null);
  assert.deepEqual(codes(p), ["report.field.absent"]);
  const noPolicy = parse(withMember("policy", undefined));
  assert.deepEqual(policyOf(noPolicy), { "policy-type": null, "policy-domain": null });
  assert.deepEqual(reportTotals(value(noPolicy)).policyDomains, []);
  const unknownType = parse(withField("policy-type", "STS"));
  assert.deepEqual(codes(unknownType), ["report.policy-type.unknown"]);
});

test("RPT-DLV-04 contact-info null or missing is a warning and kept as null", () => {
  for (const contact of [null, undefined, ""]) {
    const p = parse({ ...rfcReport(), "contact-info": contact });
    assert.equal(value(p)["contact-info"], null);
    assert.deepEqual(codes(p), ["report.contact-info.missing"]);
  }
});

test("RPT-RCV-05 report-id is kept verbatim; reportKey strips one pair of <> and trims", () => {
  const p = parse({ ...rfcReport(), "report-id": "<735ff.e317+bf22029@example.net>" });
  assert.equal(value(p)["report-id"], "<735ff.e317+bf22029@example.net>");
  assert.equal(reportKey(value(p)), "735ff.e317+bf22029@example.net");
  assert.equal(reportKey({ "report-id": "  < a@b >  " }), "a@b");
  assert.equal(reportKey({ "report-id": "<<a>>" }), "<a>");
  assert.equal(
    reportKey({ "report-id": "133925885310113267+random.net" }),
    "133925885310113267+random.net",
  );
  const numeric = parse({ ...rfcReport(), "report-id": 12345 });
  assert.equal(value(numeric)["report-id"], "12345");
  assert.deepEqual(codes(numeric), ["report.report-id.number"]);
});

test("members come out in RFC 8460 §4.4 order whatever the input order; unknown members go", () => {
  const r = rfcReport();
  const shuffled = {
    policies: [
      {
        "failure-details": [
          { "failed-session-count": 303, "x-extra": 1, "result-type": "certificate-expired" },
        ],
        summary: { "total-failure-session-count": 303, "total-successful-session-count": 5326 },
        policy: {
          "mx-host": ["a.example"],
          "policy-domain": "a.example",
          "policy-type": "sts",
          "policy-string": ["version: STSv1"],
        },
      },
    ],
    "report-id": r["report-id"],
    "x-vendor": true,
    "contact-info": r["contact-info"],
    "date-range": {
      "end-datetime": "2016-04-01T23:59:59Z",
      "start-datetime": "2016-04-01T00:00:00Z",
    },
    "organization-name": "Company-X",
  };
  const v = value(parse(shuffled));
  assert.deepEqual(Object.keys(v), [
    "organization-name",
    "date-range",
    "contact-info",
    "report-id",
    "policies",
  ]);
  assert.deepEqual(Object.keys(v["date-range"]), ["start-datetime", "end-datetime"]);
  const p = v.policies[0];
  assert.ok(p);
  assert.deepEqual(Object.keys(p), ["policy", "summary", "failure-details"]);
  assert.deepEqual(Object.keys(p.policy), [
    "policy-type",
    "policy-string",
    "policy-domain",
    "mx-host",
  ]);
  assert.deepEqual(Object.keys(p.summary), [
    "total-successful-session-count",
    "total-failure-session-count",
  ]);
  assert.deepEqual(Object.keys(p["failure-details"][0] ?? {}), [
    "result-type",
    "failed-session-count",
  ]);
  const full = value(parse(rfcReport())).policies[0]?.["failure-details"][1];
  assert.deepEqual(Object.keys(full ?? {}), [
    "result-type",
    "sending-mta-ip",
    "receiving-mx-hostname",
    "receiving-ip",
    "failed-session-count",
    "additional-information",
  ]);
});

test("I-JSON duplicate member names are flagged with their path; the last value wins", () => {
  const text = JSON.stringify(rfcReport()).replace(
    '"total-failure-session-count":303',
    '"total-failure-session-count":1,"total-failure-session-count":303',
  );
  const p = parseTlsrptReport(text);
  assert.deepEqual(codes(p), ["report.json.duplicate-member"]);
  assert.equal(
    at(p, "report.json.duplicate-member"),
    "policies[0].summary.total-failure-session-count",
  );
  assert.equal(firstPolicy(p).summary["total-failure-session-count"], 303);
  const escaped = parseTlsrptReport('{"a":1,"\\u0061":2}');
  assert.ok(codes(escaped).includes("report.json.duplicate-member"));
});

test("a UTF-8 BOM is ignored; a non-string text member is dropped with a warning", () => {
  assert.equal(parseTlsrptReport(`\uFEFF${JSON.stringify(rfcReport())}`).ok, true);
  const p = parse(
    withPolicy((pol) => {
      ((pol["failure-details"] as Obj[])[0] as Obj)["sending-mta-ip"] = 3232235777;
    }),
  );
  assert.deepEqual(codes(p), ["report.field.not-string"]);
  assert.equal("sending-mta-ip" in (firstPolicy(p)["failure-details"][0] ?? {}), false);
});

test("repeated findings of one code are capped with a closing summary line", () => {
  const details = Array.from({ length: 500 }, () => ({
    "result-type": "Testing",
    "failed-session-count": 1,
  }));
  const p = parse(withMember("failure-details", details));
  const unknown = p.diagnostics.filter((d) => d.code === "report.result-type.unknown");
  assert.equal(unknown.length, 21);
  assert.match(unknown[20]?.message ?? "", /480 more/);
});

test("reportTotals sums the summaries and lists domains and result types sorted", () => {
  const r = rfcReport();
  const second = {
    policy: { "policy-type": "tlsa", "policy-string": ["3 1 1 AB"], "policy-domain": "a.example" },
    summary: { "total-successful-session-count": 4, "total-failure-session-count": 1 },
    "failure-details": [{ "result-type": "dnssec-invalid", "failed-session-count": 1 }],
  };
  r.policies = [...(r.policies as Obj[]), second];
  assert.deepEqual(reportTotals(value(parse(r))), {
    successful: 5330,
    failed: 304,
    policies: 2,
    policyDomains: ["a.example", "company-y.example"],
    resultTypes: [
      "certificate-expired",
      "dnssec-invalid",
      "starttls-not-supported",
      "validation-failure",
    ],
  });
});

test("odd shapes never throw", () => {
  const inputs = [
    "{",
    '{"policies":[null,1,"x",[],{}]}',
    '{"date-range":[],"report-id":{},"policies":{"policy":[],"summary":[],"failure-details":[1]}}',
    '{"__proto__":{"policies":[]},"constructor":1,"report-id":"x"}',
    '{"policies":[{"policy":{"policy-string":[[1]],"mx-host":{"a":1},"policy-domain":"\\u0000"}}]}',
    `{"a":"${"\\".repeat(1001)}`,
    '{"a":"\\"}',
  ];
  for (const text of inputs) {
    const p = parseTlsrptReport(text);
    assert.equal(typeof p.ok, "boolean");
  }
});

test("RPT-JSON-02 the canonical-form shortcut agrees with the full reading at the edges", () => {
  for (const bad of [
    "2015-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2016-00-10T00:00:00Z",
    "2016-04-00T00:00:00Z",
    "2016-04-31T00:00:00Z",
    "2016-04-01T23:60:00Z",
    "2016-04-01T2a:00:00Z",
  ]) {
    assert.deepEqual(codes(parse(withDates(bad, "2016-04-01T23:59:59Z"))), ["report.date.invalid"]);
  }
  for (const good of ["2000-02-29T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]) {
    const p = parse(withDates(good, "9999-12-31T23:59:59Z"));
    assert.deepEqual(codes(p), [], good);
    assert.equal(range(p)[0], good);
  }
  // Not the canonical form: still read the full way, with the same findings as before.
  assert.deepEqual(range(parse(withDates("2016-04-01T23:59:60Z", "2016-04-02T00:00:00Z"))), [
    "2016-04-01T23:59:59Z",
    "2016-04-02T00:00:00Z",
  ]);
  assert.deepEqual(codes(parse(withDates("2016-04-01t00:00:00z", "2016-04-01T23:59:59Z"))), []);
});

test("I-JSON duplicates are found whatever the strings before them hold", () => {
  const report = JSON.stringify({
    ...rfcReport(),
    "contact-info": 'a "quoted" \\ back\\slash: {[ends with a backslash\\',
  });
  assert.deepEqual(codes(parseTlsrptReport(report)), []);
  const dup = report.replace('"report-id":', '"x":"\\\\","report-id":"y","report-id":');
  const p = parseTlsrptReport(dup);
  assert.deepEqual(codes(p), ["report.json.duplicate-member"]);
  assert.equal(at(p, "report.json.duplicate-member"), "report-id");
  const nested = parseTlsrptReport('{"a":{"b":1,"c":{"b":2,"b":3}},"d":[{"e":1},{"e":2,"e":3}]}');
  assert.deepEqual(
    nested.diagnostics
      .filter((d) => d.code === "report.json.duplicate-member")
      .map((d) => d.at?.path),
    ["a.c.b", "d[1].e"],
  );
});

test("mx-host entries that are one plain pattern are kept as sent, without findings", () => {
  const p = parse(withMxHost(["mx1.example", "*.mail.example", "MX.Example."]));
  assert.deepEqual(codes(p), []);
  assert.deepEqual(policyOf(p)["mx-host"], ["mx1.example", "*.mail.example", "MX.Example."]);
});
