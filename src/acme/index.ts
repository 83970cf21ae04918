// Certificate automation with ACME (RFC 8555) for the policy host: HTTP-01
// and TLS-ALPN-01 (RFC 8737), state kept as PEM files, renewal at a fraction
// of the lifetime with jitter, retries with backoff. See docs/acme.md.

export type { AcmeAutomation, NameStatus } from "./automation.ts";
export { startAcme } from "./automation.ts";
export { AcmeError, type AcmeErrorKind } from "./errors.ts";
export {
  type AcmeLog,
  type AcmeLogFields,
  type AcmeOptions,
  CHALLENGE_TYPES,
  type ChallengeType,
  LETS_ENCRYPT,
} from "./options.ts";
export { renewalTime, retryDelay } from "./schedule.ts";
export type {
  AcmeManager,
  CertificateSource,
  ChallengeResponder,
  KeyPair,
} from "./types.ts";
