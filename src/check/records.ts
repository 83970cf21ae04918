// The two TXT records: look them up, select by version prefix, parse. Both
// follow one path; only the name, the prefix and the parser differ.

import type { Resolver } from "../adapters/dns.ts";
import type { Code } from "../core/catalogue.ts";
import type { Parsed } from "../core/diagnostic.ts";
import { policyDomain, stsRecordName, tlsrptRecordName } from "../core/names.ts";
import { type StsRecord, selectStsRecord } from "../core/sts-record.ts";
import { selectTlsrptRecord, type TlsrptRecord } from "../core/tlsrpt-record.ts";
import { isSelected } from "../core/txt-fields.ts";
import { about, dnsFailure, finding, lookupFailure } from "./findings.ts";
import type { Finding, RecordResult } from "./types.ts";

export interface RecordStep<T> {
  result: RecordResult;
  findings: Finding[];
  /** DNS did not give a usable answer (SERVFAIL, timeout...): the check is incomplete. */
  failed: boolean;
  /** DNS answered and no TXT record at the name has the version prefix: none published. */
  absent: boolean;
  value: T | null;
}

interface RecordKind<T> {
  prefix: string;
  select(txts: readonly string[]): Parsed<T>;
  missing: Code;
  /** Reported when the name is an alias (STS-REC-02); null where a CNAME is unremarkable. */
  alias: Code | null;
}

const sts: RecordKind<StsRecord> = {
  prefix: "v=STSv1",
  select: selectStsRecord,
  missing: "dns.sts-record.missing",
  alias: "dns.sts-record.cname",
};

const tlsrpt: RecordKind<TlsrptRecord> = {
  prefix: "v=TLSRPTv1",
  select: selectTlsrptRecord,
  missing: "dns.tlsrpt-record.missing",
  alias: null,
};

export function checkStsRecord(resolver: Resolver, domain: string): Promise<RecordStep<StsRecord>> {
  return checkRecord(resolver, stsRecordName(domain) ?? `_mta-sts.${domain}`, sts);
}

export function checkTlsrptRecord(
  resolver: Resolver,
  domain: string,
): Promise<RecordStep<TlsrptRecord>> {
  return checkRecord(
    resolver,
    tlsrptRecordName(domain) ?? `_smtp._tls.${policyDomain(domain) ?? domain}`,
    tlsrpt,
  );
}

async function checkRecord<T extends object>(
  resolver: Resolver,
  name: string,
  kind: RecordKind<T>,
): Promise<RecordStep<T>> {
  const answer = await resolver.txt(name);
  const result: RecordResult = {
    name,
    text: null,
    cnames: "cnames" in answer ? answer.cnames : [],
    value: null,
  };
  const failure = dnsFailure(answer);
  if (failure !== null) {
    return {
      result,
      failed: true,
      absent: false,
      value: null,
      findings: [lookupFailure(answer, `TXT ${name}: ${failure}`, name)],
    };
  }
  const findings: Finding[] = [];
  if (kind.alias && result.cnames.length > 0) {
    findings.push(
      finding(kind.alias, `${name} is an alias: ${[name, ...result.cnames].join(" → ")}`, name),
    );
  }
  const txts = answer.kind === "answer" ? answer.records : [];
  const selected = txts.filter((t) => isSelected(t, kind.prefix));
  if (selected.length === 0) {
    findings.push(
      finding(kind.missing, `No TXT record starting with ${kind.prefix}; at ${name}`, name),
    );
    return { result, findings, failed: false, absent: true, value: null };
  }
  const parsed = kind.select(txts);
  findings.push(...about(name, parsed.diagnostics));
  if (parsed.ok) {
    result.value = parsed.value;
    result.text = selected[0] ?? null;
  }
  return {
    result,
    findings,
    failed: false,
    absent: false,
    value: parsed.ok ? parsed.value : null,
  };
}
