// The face of the check capability.

export { defaultCheckDeps } from "./deps.ts";
export { checkDomain, DEFAULT_TIMEOUT_MS } from "./domain.ts";
export type {
  CertificateView,
  CheckDeps,
  CheckOptions,
  DaneStatus,
  DomainResult,
  DomainStatus,
  Finding,
  MxResult,
  PolicyResult,
  RecordResult,
} from "./types.ts";
