// Each MX host: is it covered by the policy (STS-MX-*), does it offer
// STARTTLS with TLS ≥ 1.2 and a certificate valid for its name (STS-CERT-*),
// and what does DANE say (STS-DANE-*)?

import type { Resolver } from "../adapters/dns.ts";
import type { SmtpProbeResult } from "../adapters/smtp-probe.ts";
import { certificateNameMatches } from "../core/cert-name.ts";
import { matchMx } from "../core/mx-pattern.ts";
import type { Policy } from "../core/policy.ts";
import { certificateView } from "./certificate-view.ts";
import { daneStatus, type Tlsa, tlsaText } from "./dane.ts";
import { clip, dnsFailure, finding, lookupFailure, nameList } from "./findings.ts";
import type { CheckDeps, Finding, MxResult } from "./types.ts";

export interface MxHost {
  host: string;
  preference: number;
}

export interface MxListStep {
  hosts: MxHost[];
  findings: Finding[];
  failed: boolean;
}

export async function lookupMx(resolver: Resolver, domain: string): Promise<MxListStep> {
  const answer = await resolver.mx(domain);
  const failure = dnsFailure(answer);
  if (failure !== null) {
    return {
      hosts: [],
      failed: true,
      findings: [lookupFailure(answer, `MX ${domain}: ${failure}`, domain)],
    };
  }
  if (answer.kind !== "answer" || answer.records.length === 0) {
    // RFC 5321 §5.1: no MX means the domain itself is the mail host (implicit MX).
    return {
      hosts: [{ host: domain, preference: 0 }],
      failed: false,
      findings: [finding("dns.mx.implicit", `${domain} has no MX records`, domain)],
    };
  }
  const records = [...answer.records].sort(
    (a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange),
  );
  if (records.length === 1 && (records[0]?.exchange === "" || records[0]?.exchange === ".")) {
    return {
      hosts: [],
      failed: false,
      findings: [finding("dns.mx.null", `${domain} publishes a null MX (MX 0 .)`, domain)],
    };
  }
  return {
    hosts: records.map((r) => ({ host: r.exchange, preference: r.preference })),
    findings: [],
    failed: false,
  };
}

export interface ProbeContext {
  deps: CheckDeps;
  timeoutMs: number;
  ca?: string[];
  smtpPort?: number;
  expiryWarningDays: number;
}

/** An MX known by name only (probing off): coverage is judged later, TLS is unknown. */
export function unprobedMx(mx: MxHost): MxResult {
  return {
    host: mx.host,
    preference: mx.preference,
    addresses: [],
    covered: null,
    pattern: null,
    starttls: null,
    tls: null,
    certificate: null,
    stsValid: null,
    dane: { status: "none", records: [] },
    elapsedMs: null,
  };
}

/** Probe one MX and judge what it presented. Policy coverage is judged later, with the policy. */
export async function checkMxHost(
  mx: MxHost,
  ctx: ProbeContext,
): Promise<{ result: MxResult; findings: Finding[] }> {
  const { deps } = ctx;
  const findings: Finding[] = [];
  const result = unprobedMx(mx);
  const [a, aaaa, tlsa] = await Promise.all([
    deps.resolver.a(mx.host),
    deps.resolver.aaaa(mx.host),
    deps.resolver.tlsa(`_25._tcp.${mx.host}`),
  ]);
  result.addresses = [
    ...(a.kind === "answer" ? a.records : []),
    ...(aaaa.kind === "answer" ? aaaa.records : []),
  ];
  const address = result.addresses[0];
  if (address === undefined) {
    const why = dnsFailure(a) ?? "no A or AAAA records";
    findings.push(finding("dns.mx.no-address", `MX ${mx.host}: ${why}`, mx.host));
    result.stsValid = false;
    return { result, findings };
  }
  const probe = await deps.probeSmtp({
    host: mx.host,
    address,
    ...(ctx.smtpPort !== undefined ? { port: ctx.smtpPort } : {}),
    timeoutMs: ctx.timeoutMs,
    ...(ctx.ca ? { ca: ctx.ca } : {}),
  });
  result.elapsedMs = Math.round(probe.elapsedMs);
  result.starttls =
    probe.reached === "connect" || probe.reached === "greeting" ? null : probe.starttls;
  findings.push(...judgeProbe(probe, ctx, result));
  const chain = probe.tls?.chain ?? null;
  result.dane = {
    status: daneStatus(tlsa as Parameters<typeof daneStatus>[0], chain),
    records: tlsa.kind === "answer" ? (tlsa.records as Tlsa[]).map(tlsaText) : [],
  };
  findings.push(
    ...daneFindings(
      result,
      tlsa.kind === "answer" ? null : dnsFailure(tlsa),
      a.kind === "answer" && a.authenticated,
    ),
  );
  return { result, findings };
}

function judgeProbe(probe: SmtpProbeResult, ctx: ProbeContext, result: MxResult): Finding[] {
  const host = probe.host;
  const where = `${host} [${probe.address}]:${probe.port}`;
  if (probe.failure) {
    result.stsValid = false;
    const f = probe.failure;
    switch (f.kind) {
      case "connect":
        return [finding("mx.connect", `${where}: ${f.detail}`, host)];
      case "timeout":
        return [finding("mx.timeout", `${where}: ${f.detail}`, host)];
      case "no-starttls":
        return [
          finding(
            "mx.starttls.missing",
            `${where} does not list STARTTLS in its EHLO answer`,
            host,
          ),
        ];
      case "starttls-refused":
        return [finding("mx.starttls.refused", `${where}: ${f.detail}`, host)];
      case "tls-version":
        return [
          finding(
            "mx.tls.version",
            `${where} negotiates only ${probe.legacyTlsOnly ?? "TLS older than 1.2"}; senders require TLS 1.2 or later`,
            host,
          ),
        ];
      case "tls-handshake":
        return [finding("mx.tls.handshake", `${where}: ${f.detail}`, host)];
      default:
        return [finding("mx.smtp", `${where}: ${f.detail}`, host)];
    }
  }
  const tls = probe.tls;
  if (!tls) {
    result.stsValid = false;
    return [
      finding("mx.starttls.missing", `${where} does not list STARTTLS in its EHLO answer`, host),
    ];
  }
  result.tls = { version: tls.version, cipher: tls.cipher };
  const leaf = tls.chain[0];
  const now = ctx.deps.now();
  const out: Finding[] = [];
  if (leaf) result.certificate = certificateView(leaf, now);
  const err = tls.authorizationError;
  if (!tls.authorized && err) {
    if (err === "CERT_HAS_EXPIRED") {
      out.push(
        finding(
          "mx.cert.expired",
          `${where} presents a certificate that expired on ${leaf?.notAfter ?? "?"}`,
          host,
        ),
      );
    } else if (err === "CERT_NOT_YET_VALID") {
      out.push(
        finding(
          "mx.cert.not-yet-valid",
          `${where} presents a certificate valid only from ${leaf?.notBefore ?? "?"}`,
          host,
        ),
      );
    } else {
      out.push(
        finding(
          "mx.cert.untrusted",
          `${where}: certificate not trusted (${err}); issuer ${leaf?.issuer ?? "?"}`,
          host,
        ),
      );
    }
  }
  const matched = leaf ? certificateNameMatches(host, leaf.dnsNames) : null;
  if (leaf && matched === null) {
    const names =
      leaf.dnsNames.length > 0
        ? `SAN ${nameList(leaf.dnsNames)}`
        : `no SAN names (subject ${clip(leaf.subject)})`;
    out.push(
      finding(
        "mx.cert.name-mismatch",
        `${where} presents a certificate for ${names}, not ${host}`,
        host,
      ),
    );
  }
  const days = result.certificate?.daysLeft;
  if (days !== undefined && days >= 0 && days <= ctx.expiryWarningDays && tls.authorized) {
    out.push(
      finding(
        "mx.cert.expiring",
        `${where}: the certificate expires in ${days} day${days === 1 ? "" : "s"} (${leaf?.notAfter})`,
        host,
      ),
    );
  }
  result.stsValid = tls.authorized && matched !== null;
  return out;
}

function daneFindings(
  result: MxResult,
  tlsaFailure: string | null,
  signedZone: boolean,
): Finding[] {
  const host = result.host;
  const name = `_25._tcp.${host}`;
  switch (result.dane.status) {
    case "match":
      return [
        finding(
          "dane.tlsa.match",
          `${name}: ${result.dane.records.join("; ")} matches the certificate ${host} presents`,
          host,
        ),
      ];
    case "mismatch":
      return [
        finding(
          "dane.tlsa.mismatch",
          `${name}: none of ${result.dane.records.join("; ")} matches what ${host} presents`,
          host,
        ),
      ];
    case "insecure":
      return [
        finding(
          "dane.tlsa.insecure",
          `${name} has TLSA records but the answer was not DNSSEC-validated (no AD bit)`,
          host,
        ),
      ];
    case "unusable":
      return [finding("dane.tlsa.unusable", `${name}: ${result.dane.records.join("; ")}`, host)];
    case "failed":
      // A failing TLSA lookup only matters to DANE senders when the zone is signed.
      return signedZone
        ? [finding("dane.dnssec.failed", `${name}: ${tlsaFailure ?? "lookup failed"}`, host)]
        : [];
    case "none":
      return [];
  }
}

/** Coverage by the policy's patterns (STS-MX-01..04) and the MTA-STS verdict per MX. */
export function judgeCoverage(results: MxResult[], policy: Policy): Finding[] {
  const out: Finding[] = [];
  const used = new Set<string>();
  for (const r of results) {
    const pattern = matchMx(r.host, policy.patterns);
    r.covered = pattern !== null;
    r.pattern = pattern ? pattern.text : null;
    if (pattern) used.add(pattern.text);
    if (!pattern) {
      r.stsValid = false;
      out.push(
        finding(
          "mx.not-covered",
          `MX ${r.host} matches none of the policy's mx patterns (${policy.mx.join(", ") || "none"})`,
          r.host,
        ),
      );
    } else if (r.stsValid === true) {
      out.push(
        finding(
          "mx.tls.ok",
          `${r.host}: ${r.tls?.version ?? "TLS"}, certificate valid for ${r.host} until ${r.certificate?.notAfter ?? "?"} (${r.certificate?.daysLeft ?? "?"} days), covered by ${pattern.text}`,
          r.host,
        ),
      );
    }
  }
  for (const p of policy.patterns) {
    if (!used.has(p.text))
      out.push(
        finding("mx.pattern.unused", `Pattern ${p.text} matches none of the MX hosts`, p.text),
      );
  }
  return out;
}
