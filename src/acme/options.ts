// What startAcme() accepts, and the defaults it fills in. Every edge the
// automation touches (the CA's URL and trust roots, the disk, the clock,
// randomness, the log) comes in here, so tests run it against a private
// pebble with a short backoff and production runs it against Let's Encrypt.

import { directory } from "acme-client";

export type ChallengeType = "http-01" | "tls-alpn-01";
export const CHALLENGE_TYPES: readonly ChallengeType[] = ["http-01", "tls-alpn-01"];

export type AcmeLogFields = Record<string, string | number | boolean | null | undefined>;

/** Structured log sink; the resolver's Logger fits it. */
export interface AcmeLog {
  info(msg: string, fields?: AcmeLogFields): void;
  warn(msg: string, fields?: AcmeLogFields): void;
  error(msg: string, fields?: AcmeLogFields): void;
}

/** Let's Encrypt's directories; use `staging` while trying things out (its rate limits are far higher). */
export const LETS_ENCRYPT = directory.letsencrypt;

export interface AcmeOptions {
  /** Where certificates, their keys and the account key live (created 0700 if missing). */
  stateDir: string;
  /** ACME directory URL; Let's Encrypt production by default ({@link LETS_ENCRYPT}.staging to try out). */
  directoryUrl?: string;
  /** Contact for the ACME account (expiry and incident mail from the CA). */
  email?: string;
  /** Challenge types to use, most preferred first (default: http-01, then tls-alpn-01). */
  challengeTypes?: readonly ChallengeType[];
  /** PEM roots to trust for the ACME server's own HTTPS (a private or test CA); the system store otherwise. */
  ca?: string | readonly string[];
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** A number in [0, 1), for jitter. */
  random?: () => number;
  log?: AcmeLog;
  /** Renew once this fraction of a certificate's lifetime (notBefore → notAfter) has passed (default 2/3). */
  renewFraction?: number;
  /** First retry delay after a failed attempt (default 1 min); it doubles per failure. */
  retryBaseMs?: number;
  /** Longest retry delay (default 1 h). */
  retryMaxMs?: number;
  /** How often to ask the CA whether a validation or an order has finished (default 1 s). */
  pollMs?: number;
  /** How long a validation may stay pending before the attempt is given up (default 2 min). */
  validationTimeoutMs?: number;
  /** Limit for each HTTP request to the CA (default 30 s). */
  requestTimeoutMs?: number;
  /** Orders under way at once; more names wait their turn (default 4). */
  maxConcurrentOrders?: number;
}

export interface ResolvedAcmeOptions {
  stateDir: string;
  directoryUrl: string;
  email: string | undefined;
  challengeTypes: readonly ChallengeType[];
  ca: readonly string[];
  now: () => number;
  random: () => number;
  log: AcmeLog;
  renewFraction: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollMs: number;
  validationTimeoutMs: number;
  requestTimeoutMs: number;
  maxConcurrentOrders: number;
}

/** Fills defaults and rejects values that would make the automation misbehave, naming the option. */
export function resolveAcmeOptions(options: AcmeOptions): ResolvedAcmeOptions {
  const problems: string[] = [];
  if (typeof options.stateDir !== "string" || options.stateDir === "")
    problems.push("stateDir is required: the directory that keeps the account and certificates");
  const directoryUrl = options.directoryUrl ?? LETS_ENCRYPT.production;
  if (!/^https:\/\/[^/]+/.test(directoryUrl))
    problems.push(`directoryUrl ${JSON.stringify(directoryUrl)} is not an https:// URL`);
  const challengeTypes = options.challengeTypes ?? CHALLENGE_TYPES;
  const unknown = challengeTypes.filter((t) => !CHALLENGE_TYPES.includes(t));
  if (challengeTypes.length === 0 || unknown.length > 0)
    problems.push(
      `challengeTypes ${JSON.stringify(challengeTypes)}: give one or more of ${CHALLENGE_TYPES.join(", ")}`,
    );
  const renewFraction = options.renewFraction ?? 2 / 3;
  if (!(renewFraction > 0 && renewFraction < 1))
    problems.push(
      `renewFraction ${renewFraction} must be between 0 and 1 (2/3 renews at day 60 of 90)`,
    );
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!(Number.isFinite(v) && v > 0))
      problems.push(`${name} ${v} must be a positive number of ms`);
    return v;
  };
  const retryBaseMs = positive("retryBaseMs", options.retryBaseMs, 60_000);
  const retryMaxMs = positive("retryMaxMs", options.retryMaxMs, 3_600_000);
  const pollMs = positive("pollMs", options.pollMs, 1000);
  const validationTimeoutMs = positive("validationTimeoutMs", options.validationTimeoutMs, 120_000);
  const requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs, 30_000);
  const maxConcurrentOrders = options.maxConcurrentOrders ?? 4;
  if (!(Number.isInteger(maxConcurrentOrders) && maxConcurrentOrders >= 1))
    problems.push(`maxConcurrentOrders ${maxConcurrentOrders} must be a whole number ≥ 1`);
  if (options.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(options.email))
    problems.push(`email ${JSON.stringify(options.email)} is not an e-mail address`);
  if (problems.length > 0) throw new Error(`ACME options: ${problems.join("; ")}`);
  return {
    stateDir: options.stateDir,
    directoryUrl,
    email: options.email,
    challengeTypes,
    ca: options.ca === undefined ? [] : typeof options.ca === "string" ? [options.ca] : options.ca,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    log: options.log ?? stderrLog(),
    renewFraction,
    retryBaseMs,
    retryMaxMs: Math.max(retryMaxMs, retryBaseMs),
    pollMs,
    validationTimeoutMs,
    requestTimeoutMs,
    maxConcurrentOrders,
  };
}

/** One JSON object per line on stderr: the default when no log is injected. */
function stderrLog(): AcmeLog {
  const write =
    (level: string) =>
    (msg: string, fields: AcmeLogFields = {}) => {
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`,
      );
    };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}
