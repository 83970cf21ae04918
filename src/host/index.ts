// The face of the policy host capability: `mtasts host`.

export {
  ConfigError,
  defaultHostConfig,
  listenFlag,
  loadHostConfig,
  parseHostConfig,
  quickHostConfig,
} from "./config.ts";
export { createHost, HostStartError, type PolicyHost } from "./host.ts";
export type { LoadProblem, PolicyChange } from "./policies.ts";
export { POLICY_PATH } from "./replies.ts";
export type {
  CertFiles,
  DomainConfig,
  HostConfig,
  HostDeps,
  HostLimits,
  HostMetrics,
  ListenAddress,
} from "./types.ts";
