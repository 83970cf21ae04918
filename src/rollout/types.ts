// The shapes `rollout` takes and produces; `mtasts rollout --json` prints
// RolloutOutcome as is (add fields, never rename them).

import type { DnsUpdate, UpdateResult } from "../adapters/dns-update.ts";
import type { DomainResult, Finding } from "../check/index.ts";
import type { PolicyMode } from "../core/policy.ts";
import type { DnsRecord } from "../generate/index.ts";
import type { Summary } from "../reports/store.ts";

export interface RolloutRequest {
  /** A-label form (checked by the caller). */
  domain: string;
  to: PolicyMode;
  /** Seconds; default by mode (generate's DEFAULT_MAX_AGE). */
  maxAge?: number;
  /** Checked patterns; default: the served policy's, else the live MX names. */
  mx?: string[];
  force: boolean;
  dryRun: boolean;
  /** The report-store window, in days back from now. */
  days: number;
  ttl: number;
  /** Fetch the policy back from the policy host before changing the id (default true). */
  verify: boolean;
}

/** Where the policy file goes: `DIR/<domain>.txt`, the layout `mtasts host --policies DIR` serves. */
export interface PolicyFiles {
  path(domain: string): string;
  read(domain: string): Promise<string | null>;
  /** Atomic: a reader sees the old file or the new one, never a torn one. */
  write(domain: string, text: string): Promise<void>;
}

export interface DnsPublisher {
  zone: string;
  /** Where the update goes, for messages. */
  server: string;
  /** The TXT values at a name as the update server holds them (strings joined). */
  txt(name: string): Promise<string[] | { error: string }>;
  send(update: DnsUpdate): Promise<UpdateResult>;
}

export interface RolloutDeps {
  check(domain: string): Promise<DomainResult>;
  /** With a report store (--db): failures by result type since a date. */
  failures?: (domain: string, since: Date) => Promise<Summary>;
  files?: PolicyFiles;
  dns?: DnsPublisher;
  /** Fetch the live policy body (for the verify step); null when the fetch failed, with why. */
  served?: (domain: string) => Promise<{ body: string } | { error: string }>;
  /** Waits between verify attempts (injected so tests need not sleep long). */
  sleep?: (ms: number) => Promise<void>;
  now(): Date;
}

export interface PreviousState {
  mode: PolicyMode | null;
  maxAge: number | null;
  id: string | null;
  mx: string[];
  /** Where the policy facts came from. */
  source: "live" | "file" | "none";
  /** `_mta-sts` is a CNAME (delegated, STS-OPS-02): the id lives at the provider. */
  delegatedTo: string | null;
}

export type StepState = "done" | "todo" | "would" | "failed" | "skipped";

/** One thing to do, in order; `text` is what to publish or run where there is one. */
export interface Step {
  action: "write-policy" | "verify-policy" | "publish-txt" | "wait" | "remove";
  state: StepState;
  summary: string;
  text?: string;
}

export type RolloutStatus =
  | "done"
  | "printed"
  | "dry-run"
  | "blocked"
  | "not-served"
  | "dns-failed";

export interface RolloutOutcome {
  domain: string;
  to: PolicyMode;
  status: RolloutStatus;
  previous: PreviousState;
  policy: string;
  policyPath: string | null;
  id: string;
  /** The `_mta-sts` TXT record the rollout publishes. */
  record: DnsRecord;
  blockers: Finding[];
  warnings: Finding[];
  /** Report-store failures in the window, by result type (with --db). */
  failures: {
    since: string;
    failed: number;
    rows: { resultType: string | null; failed: number; reports: number }[];
  } | null;
  steps: Step[];
  /** --to none: the earliest time the records and policy host may be removed (STS-OPS-03). */
  removeAfter: string | null;
  /** What the DNS update or verify step said when it failed. */
  error: string | null;
}
