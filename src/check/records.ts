// The two TXT records: look them up, select by version prefix, parse.

import type { Resolver } from "../adapters/dns.ts";
import { policyDomain, stsRecordName, tlsrptRecordName } from "../core/names.ts";
import { selectStsRecord } from "../core/sts-record.ts";
import { selectTlsrptRecord } from "../core/tlsrpt-record.ts";
import { about, dnsFailure, finding, lookupFailure } from "./findings.ts";
import type { Finding, RecordResult } from "./types.ts";

export interface RecordStep {
  result: RecordResult;
  findings: Finding[];
  /** DNS did not give a usable answer (SERVFAIL, timeout...): the check is incomplete. */
  failed: boolean;
  /** The record's id, for sts records that parsed. */
  id: string | null;
}

export async function checkStsRecord(resolver: Resolver, domain: string): Promise<RecordStep> {
  const name = stsRecordName(domain) ?? `_mta-sts.${domain}`;
  const answer = await resolver.txt(name);
  const result: RecordResult = {
    name,
    text: null,
    cnames: "cnames" in answer ? answer.cnames : [],
    value: null,
  };
  const failure = dnsFailure(answer);
  if (failure !== null)
    return {
      result,
      failed: true,
      id: null,
      findings: [lookupFailure(answer, `TXT ${name}: ${failure}`, name)],
    };
  const findings: Finding[] = [];
  if (result.cnames.length > 0) {
    findings.push(
      finding(
        "dns.sts-record.cname",
        `${name} is an alias: ${[name, ...result.cnames].join(" → ")}`,
        name,
      ),
    );
  }
  const txts = answer.kind === "answer" ? answer.records : [];
  if (!txts.some((t) => /^v=STSv1[ \t]*;/.test(t))) {
    findings.push(
      finding("dns.sts-record.missing", `No TXT record starting with v=STSv1 at ${name}`, name),
    );
    return { result, findings, failed: false, id: null };
  }
  const parsed = selectStsRecord(txts);
  findings.push(...about(name, parsed.diagnostics));
  if (parsed.ok) {
    result.value = parsed.value;
    result.text = txts.find((t) => /^v=STSv1[ \t]*;/.test(t)) ?? null;
  }
  return { result, findings, failed: false, id: parsed.ok ? parsed.value.id : null };
}

export async function checkTlsrptRecord(resolver: Resolver, domain: string): Promise<RecordStep> {
  const name = tlsrptRecordName(domain) ?? `_smtp._tls.${policyDomain(domain) ?? domain}`;
  const answer = await resolver.txt(name);
  const result: RecordResult = {
    name,
    text: null,
    cnames: "cnames" in answer ? answer.cnames : [],
    value: null,
  };
  const failure = dnsFailure(answer);
  if (failure !== null)
    return {
      result,
      failed: true,
      id: null,
      findings: [lookupFailure(answer, `TXT ${name}: ${failure}`, name)],
    };
  const txts = answer.kind === "answer" ? answer.records : [];
  if (!txts.some((t) => /^v=TLSRPTv1[ \t]*;/.test(t))) {
    return {
      result,
      failed: false,
      id: null,
      findings: [
        finding(
          "dns.tlsrpt-record.missing",
          `No TXT record starting with v=TLSRPTv1 at ${name}`,
          name,
        ),
      ],
    };
  }
  const parsed = selectTlsrptRecord(txts);
  if (parsed.ok) {
    result.value = parsed.value;
    result.text = txts.find((t) => /^v=TLSRPTv1[ \t]*;/.test(t)) ?? null;
  }
  return { result, findings: about(name, parsed.diagnostics), failed: false, id: null };
}
