// Audit one domain end to end. Steps that do not depend on each other run in
// parallel; the whole check is bounded by one deadline however many MX hosts.

import { addressesOf } from "../adapters/dns.ts";
import { policyDomain } from "../core/names.ts";
import { policyAdvice } from "./advice.ts";
import { finding, statusOf } from "./findings.ts";
import { checkMxHost, judgeCoverage, lookupMx, unprobedMx } from "./mx-step.ts";
import { policyStep } from "./policy-step.ts";
import { checkStsRecord, checkTlsrptRecord } from "./records.ts";
import type { CheckDeps, CheckOptions, DomainResult, Finding, MxResult } from "./types.ts";

export const DEFAULT_TIMEOUT_MS = 30_000;

export async function checkDomain(
  input: string,
  deps: CheckDeps,
  options: CheckOptions = {},
): Promise<DomainResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = started + timeoutMs;
  const domain = policyDomain(input) ?? input.toLowerCase();
  const result: DomainResult = {
    domain,
    status: "incomplete",
    findings: [],
    stsRecord: null,
    tlsrptRecord: null,
    policy: null,
    mx: [],
    elapsedMs: 0,
  };
  let incomplete = false;
  const work = run(domain, deps, options, deadline, result).then((unfinished) => {
    incomplete = unfinished;
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const winner = await Promise.race([work.then(() => "done" as const), timedOut]);
  clearTimeout(timer);
  if (winner === "timeout") {
    incomplete = true;
    result.findings.push(
      finding(
        "check.timeout",
        `The check of ${domain} did not finish within ${timeoutMs / 1000} s`,
        domain,
      ),
    );
  }
  result.status = statusOf(result.findings, incomplete);
  result.elapsedMs = Math.round(performance.now() - started);
  // Snapshot: a step still running after the deadline must not change what we return.
  return structuredClone(result);
}

/** Fills `result` as steps complete; resolves true when DNS failures left it unfinished. */
async function run(
  domain: string,
  deps: CheckDeps,
  options: CheckOptions,
  deadline: number,
  result: DomainResult,
): Promise<boolean> {
  // Each step stops a little before the deadline, so a slow host is reported
  // as itself (mx.timeout, fetch.timeout) rather than as the whole check timing out.
  const margin = Math.min(1000, (deadline - performance.now()) * 0.15);
  const remaining = () => Math.max(1, Math.floor(deadline - margin - performance.now()));
  const add = (fs: Finding[]) => result.findings.push(...fs);

  const eager = options.fetchWithoutRecord ?? true;
  const stsStep = checkStsRecord(deps.resolver, domain);
  const tlsrptStep = checkTlsrptRecord(deps.resolver, domain);
  const mxStep = eager ? lookupMx(deps.resolver, domain) : null;
  const sts = await stsStep;
  // Without a record (a clean DNS negative, not a failure) a survey stops here.
  const skipped = !eager && sts.absent;
  const [tlsrpt, mxList] = await Promise.all([
    tlsrptStep,
    skipped ? null : (mxStep ?? lookupMx(deps.resolver, domain)),
  ]);
  result.stsRecord = sts.result;
  result.tlsrptRecord = tlsrpt.result;
  add(sts.findings);
  add(tlsrpt.findings);
  if (mxList === null) return tlsrpt.failed;
  add(mxList.findings);

  // Fetch the policy even without a valid record (unless told not to): a
  // broken record with a working policy host is a different fix from having neither.
  const policyHostName = `mta-sts.${domain}`;
  const lookup = (host: string) => addressesOf(deps.resolver, host);
  const fetching = deps
    .fetchPolicy(domain, {
      timeoutMs: remaining(),
      lookup,
      now: deps.now,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.httpsPort !== undefined ? { port: options.httpsPort } : {}),
      ...(options.describePolicyCertificate === false ? { describeChain: false } : {}),
    })
    .then((fetched) => {
      const step = policyStep(fetched, policyHostName, sts.value?.id ?? null, deps.now());
      result.policy = step.result;
      add(step.findings);
      return step.policy;
    });

  const ctx = {
    deps,
    timeoutMs: remaining(),
    expiryWarningDays: options.expiryWarningDays ?? 21,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.smtpPort !== undefined ? { smtpPort: options.smtpPort } : {}),
  };
  const probing = Promise.all(
    mxList.hosts.map(async (mx) => {
      if (options.probeMx === false) return unprobedMx(mx);
      const { result: r, findings } = await checkMxHost(mx, ctx);
      add(findings);
      return r;
    }),
  );
  const [policy, mxResults] = await Promise.all([fetching, probing]);
  result.mx = mxResults.sort(
    (a: MxResult, b: MxResult) => a.preference - b.preference || a.host.localeCompare(b.host),
  );
  // A policy that exists but the record does not: senders never look for it.
  if (policy && !mxList.failed) {
    add(judgeCoverage(result.mx, policy));
    add(policyAdvice(policy, domain, result.policy?.url ?? policyHostName));
  }
  return sts.failed || mxList.failed || tlsrpt.failed;
}
