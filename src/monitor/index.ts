// The face of the monitoring capability: scheduled checks of the managed
// domains, alert rules, and delivery by webhook and mail (docs/monitor.md).

export type {
  FailureRateRule,
  MailTarget,
  MonitorConfig,
  WebhookTarget,
} from "./config.ts";
export { parseMonitorConfig } from "./config.ts";
export { MonitorDbError } from "./db.ts";
export type { Monitor, MonitorDeps } from "./monitor.ts";
export { openMonitor } from "./monitor.ts";
export type { AlertEvent, NotificationRecord } from "./outbox-queries.ts";
export type { Changes } from "./reconcile.ts";
export type {
  Alert,
  AlertRule,
  AlertState,
  CertificateExpiry,
  CheckRun,
  MonitorView,
} from "./types.ts";
