// The two check options a survey relies on, against the lab: no policy fetch
// (and no MX lookup) when DNS cleanly says there is no record, and no SMTP
// connection unless MX probing is asked for. `check`'s own defaults stay as
// they were (fetch anyway, probe every MX).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, scenario, startLab } from "../../lab/index.ts";
import { checkDomain } from "../../src/check/index.ts";
import { scanDomain } from "../../src/scan/index.ts";

let lab: Lab;

before(async () => {
  lab = await startLab(
    scenario(
      { domain: "norecord.test", faults: ["dns:sts-missing"], smtp: false },
      { domain: "healthy.test", mx: ["mx1", "mx2"] },
      { domain: "nothing.test", mtaSts: false, smtp: false },
      { domain: "dnsfail.test", faults: ["dns:sts-servfail"], smtp: false },
    ),
  );
});
after(() => lab?.close());

const handshakesFor = (host: string) => lab.policyHost.handshakes.filter((h) => h.sni === host);
const queries = (name: string, type: string) =>
  lab.dns.log.filter((q) => q.name === name && q.type === type).length;

test("STS-REC-12 no record (a clean negative) and fetchWithoutRecord false: no policy fetch, no MX lookup", async () => {
  const r = await checkDomain("norecord.test", lab.checkDeps(), {
    ...lab.checkOptions,
    fetchWithoutRecord: false,
  });
  assert.ok(r.findings.some((f) => f.code === "dns.sts-record.missing"));
  assert.equal(r.policy, null);
  assert.deepEqual(r.mx, []);
  assert.equal(handshakesFor("mta-sts.norecord.test").length, 0);
  assert.equal(queries("norecord.test", "MX"), 0);
  assert.equal(queries("_smtp._tls.norecord.test", "TXT"), 1, "TLS-RPT is still looked up");
});

test("check's default is unchanged: without a record it still fetches the policy and reads the MX", async () => {
  const r = await checkDomain("norecord.test", lab.checkDeps(), lab.checkOptions);
  assert.equal(handshakesFor("mta-sts.norecord.test").length, 1);
  assert.equal(r.policy?.valid, true);
  assert.equal(r.mx.length, 1);
});

test("STS-REC-12 a failed _mta-sts lookup is not 'no record': the policy is still fetched", async () => {
  const r = await checkDomain("dnsfail.test", lab.checkDeps(), {
    ...lab.checkOptions,
    fetchWithoutRecord: false,
  });
  assert.ok(r.findings.some((f) => f.code === "dns.lookup.failed"));
  assert.equal(handshakesFor("mta-sts.dnsfail.test").length, 1);
});

test("STS-MX-01 probeMx false: coverage judged from the names, not one SMTP connection or MX address lookup", async () => {
  const r = await checkDomain("healthy.test", lab.checkDeps(), {
    ...lab.checkOptions,
    probeMx: false,
  });
  assert.equal(r.status, "ok", JSON.stringify(r.findings));
  assert.deepEqual(
    r.mx.map((m) => [m.host, m.covered, m.stsValid, m.tls]),
    [
      ["mx1.healthy.test", true, null, null],
      ["mx2.healthy.test", true, null, null],
    ],
  );
  for (const host of ["mx1.healthy.test", "mx2.healthy.test"]) {
    assert.equal(lab.smtpHosts.get(host)?.sessions, 0, host);
    assert.equal(queries(host, "A"), 0, host);
  }
});

test("probing on (check's default) does connect to each MX: the assertion above can fail", async () => {
  await checkDomain("healthy.test", lab.checkDeps(), lab.checkOptions);
  for (const host of ["mx1.healthy.test", "mx2.healthy.test"])
    assert.ok((lab.smtpHosts.get(host)?.sessions ?? 0) > 0, host);
});

test("scanDomain: a domain publishing nothing is `none`, the input as given is kept beside its A-label form", async () => {
  const r = await scanDomain({ domain: "nothing.test", input: "Nothing.TEST." }, lab.checkDeps(), {
    probeMx: false,
    check: lab.checkOptions,
  });
  assert.equal(r.status, "none");
  assert.equal(r.mode, null);
  assert.equal(r.input, "Nothing.TEST.");
  assert.equal(r.tlsrpt, true);
  assert.equal(handshakesFor("mta-sts.nothing.test").length, 0);
});
