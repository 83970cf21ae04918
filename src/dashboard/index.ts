// The dashboard capability's face: `mtasts serve`'s web app (pages, JSON
// API, auth, report intake on one port), its configuration and the hashes
// admins write into it.

export type { DashboardApp, DashboardOptions, LogSink } from "./app.ts";
export { createDashboardApp } from "./app.ts";
export type { HostPort, Role, ServeConfig } from "./config.ts";
export { ConfigError, DEFAULT_LISTEN, defaultConfig, parseHostPort } from "./config.ts";
export { loadServeConfig, parseServeConfig } from "./config-file.ts";
export { hashPassword, newApiToken, tokenHash, verifyPassword } from "./password.ts";
export type { Dashboard } from "./server.ts";
export { startDashboard } from "./server.ts";
