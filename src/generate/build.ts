// The policy file and the records, built from a checked spec, and proved with
// our own parsers: mtasts never prints something its validator would reject.

import { ipFamily } from "../adapters/ip.ts";
import { diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { policyHost, stsRecordName, tlsrptRecordName } from "../core/names.ts";
import { formatPolicy, type PolicyMode, parsePolicy } from "../core/policy.ts";
import { formatStsRecord, parseStsRecord } from "../core/sts-record.ts";
import { formatTlsrptRecord, parseTlsrptRecord } from "../core/tlsrpt-record.ts";
import type { DnsRecord, GenerateSpec } from "./types.ts";

/** A policy text in canonical form, re-parsed; throws if our own parser rejects it (a bug). */
export function buildPolicy(p: {
  mode: PolicyMode;
  maxAge: number;
  mx: readonly string[];
}): string {
  const text = formatPolicy({ mode: p.mode, max_age: p.maxAge, mx: p.mx });
  const parsed = parsePolicy(text);
  const problem = parsed.diagnostics.find((d) => d.severity !== "info");
  if (!parsed.ok || problem !== undefined) {
    throw new Error(`generated policy failed validation: ${problem?.message ?? "invalid"}`);
  }
  return text;
}

/** `_mta-sts` TXT value for `id`, re-parsed (STS-REC-08). */
export function stsRecordValue(id: string): string {
  const value = formatStsRecord({ v: "STSv1", id, extensions: {} });
  const parsed = parseStsRecord(value);
  if (!parsed.ok || parsed.diagnostics.length > 0) {
    throw new Error(
      `generated _mta-sts record failed validation: ${parsed.diagnostics[0]?.message}`,
    );
  }
  return value;
}

export function tlsrptRecordValue(rua: readonly string[]): string {
  const value = formatTlsrptRecord({ v: "TLSRPTv1", rua: [...rua], extensions: {} });
  const parsed = parseTlsrptRecord(value);
  if (!parsed.ok || parsed.diagnostics.some((d) => d.severity !== "info")) {
    throw new Error(
      `generated _smtp._tls record failed validation: ${parsed.diagnostics[0]?.message}`,
    );
  }
  return value;
}

export interface BuiltRecords {
  records: DnsRecord[];
  provider: DnsRecord[];
  notes: Diagnostic[];
}

/**
 * The records in publishing order (STS-OPS-01: the policy host before the id
 * that tells senders to fetch from it). With delegation (STS-OPS-02) the
 * domain publishes CNAMEs and the provider publishes the TXT id.
 */
export function buildRecords(spec: GenerateSpec, id: string): BuiltRecords {
  const d = spec.domain;
  const host = policyHost(d) as string;
  const sts = stsRecordName(d) as string;
  const ttl = spec.ttl;
  const records: DnsRecord[] = [];
  const provider: DnsRecord[] = [];
  const notes: Diagnostic[] = [];
  // The policy host first and the `_mta-sts` name last: it is what makes senders fetch.
  const tlsrpt: DnsRecord[] =
    spec.rua.length > 0
      ? [
          {
            name: tlsrptRecordName(d) as string,
            type: "TXT",
            value: tlsrptRecordValue(spec.rua),
            ttl,
          },
        ]
      : [];
  if (spec.delegation !== null) {
    const { host: target, record } = spec.delegation;
    records.push({ name: host, type: "CNAME", value: target, ttl }, ...tlsrpt);
    records.push({ name: sts, type: "CNAME", value: record, ttl });
    provider.push({ name: record, type: "TXT", value: stsRecordValue(id), ttl });
    notes.push(
      diag(
        "generate.delegated",
        `${d} delegates to ${target}: the provider serves the policy below for ${host} and publishes ${record} TXT`,
      ),
    );
  } else {
    for (const a of spec.hostAddresses) {
      records.push({ name: host, type: ipFamily(a) === 6 ? "AAAA" : "A", value: a, ttl });
    }
    if (spec.hostAddresses.length === 0) {
      notes.push(diag("generate.host.unset", `Nothing was given for ${host}`));
    }
    records.push(...tlsrpt, { name: sts, type: "TXT", value: stsRecordValue(id), ttl });
  }
  return { records, provider, notes };
}
