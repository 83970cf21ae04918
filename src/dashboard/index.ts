// The dashboard capability's face: `mtasts serve`'s web app (pages, JSON
// API, auth, report intake on one port), its configuration and the hashes
// admins write into it.

export type { DashboardApp, DashboardOptions, LogSink } from "./app.ts";
export { createDashboardApp } from "./app.ts";
export type { HostPort, Role, ServeConfig } from "./config.ts";
export {
  ConfigError,
  DEFAULT_LISTEN,
  defaultConfig,
  loadServeConfig,
  parseHostPort,
  parseServeConfig,
} from "./config.ts";
export { hashPassword, newApiToken, tokenHash, verifyPassword } from "./password.ts";
export type { Dashboard } from "./server.ts";
export { startDashboard } from "./server.ts";
