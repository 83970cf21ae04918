// What the dashboard reads from monitoring (scheduled checks and alerts) and
// the few actions it can take. src/monitor/ implements it over the same
// database as the report store; src/dashboard/ only consumes this interface.

import type { DomainStatus } from "../check/types.ts";
import type { Severity } from "../core/diagnostic.ts";
import type { PolicyMode } from "../core/policy.ts";

export type AlertRule =
  | "failure-rate"
  | "new-result-type"
  | "cert-expiry"
  | "policy-host"
  | "id-out-of-step";

/** Every state an alert can be in; the dashboard's filters accept exactly these. */
export const ALERT_STATES = ["open", "snoozed", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  rule: AlertRule;
  domain: string;
  /** What the alert is about within the domain: an MX host, a result type, the policy host. */
  subject: string;
  message: string;
  state: AlertState;
  firstSeen: Date;
  lastSeen: Date;
  snoozedUntil: Date | null;
  resolvedAt: Date | null;
}

export interface CertificateExpiry {
  mx: string;
  notAfter: Date | null;
  daysLeft: number | null;
}

/** One scheduled (or on-demand) `check` of a managed domain, as kept in history. */
export interface CheckRun {
  domain: string;
  at: Date;
  status: DomainStatus;
  mode: PolicyMode | null;
  /** The `_mta-sts` TXT id published when checked. */
  policyId: string | null;
  findings: { code: string; severity: Severity; message: string; subject?: string }[];
  certificates: CertificateExpiry[];
  /**
   * Added by src/monitor: a hash of the served policy's meaning (mode,
   * max_age, mx patterns), null when no valid policy was fetched. Two runs
   * with the same id and different hashes are what id-out-of-step looks for.
   */
  policyHash?: string | null;
}

export interface MonitorView {
  /** Managed domains, in configuration order. */
  domains(): readonly string[];
  /** The newest run of each managed domain that has been checked. */
  latestChecks(): Promise<CheckRun[]>;
  /** Runs of one domain, newest first. */
  checkHistory(domain: string, limit: number): Promise<CheckRun[]>;
  /** Each change of policy mode or id seen by the checks, newest first. */
  policyHistory(
    domain: string,
  ): Promise<{ at: Date; mode: PolicyMode | null; policyId: string | null }[]>;
  alerts(filter: { state?: AlertState; domain?: string; limit?: number }): Promise<Alert[]>;
  /** Open alerts per domain (domains with none are absent), however many there are. */
  openAlertCounts(): Promise<Map<string, number>>;
  /** False when there is no such alert. */
  snooze(id: string, until: Date): Promise<boolean>;
  resolve(id: string): Promise<boolean>;
  /** Runs the checks (one domain, or all) now and evaluates the alert rules. */
  checkNow(domain?: string): Promise<void>;
}
