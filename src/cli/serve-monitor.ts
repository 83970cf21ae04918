// Connects `serve`'s `monitor:` section to src/monitor: parse it, point the
// checks at the configured resolvers and trust roots, open the monitor on the
// same database as the reports, and start its schedule. Kept out of serve.ts
// so `serve` without monitoring never loads the check stack.

import { readFileSync } from "node:fs";
import { defaultCheckDeps } from "../check/index.ts";
import type { CheckOptions } from "../check/types.ts";
import { openMonitor, parseMonitorConfig } from "../monitor/index.ts";
import type { MonitorHook } from "./serve.ts";

export const monitorHook: MonitorHook = async (settings, { db, store, log }) => {
  const parsed = parseMonitorConfig(settings, "monitor");
  if (!parsed.ok)
    throw new Error(`the monitor: section is invalid:\n  ${parsed.errors.join("\n  ")}`);
  const config = parsed.value;
  const { check } = config;
  const checkOptions: CheckOptions = { timeoutMs: config.timeoutMs };
  if (check.caFile !== null) checkOptions.ca = [readCa(check.caFile)];
  if (check.httpsPort !== null) checkOptions.httpsPort = check.httpsPort;
  if (check.smtpPort !== null) checkOptions.smtpPort = check.smtpPort;
  const monitor = await openMonitor(config, {
    db,
    reports: store,
    checkDeps: defaultCheckDeps(check.servers === null ? {} : { servers: check.servers }),
    checkOptions,
    // One event per line in serve's format, so --log-format json stays parseable.
    log: (line) => log({ event: "monitor", message: line }),
  });
  monitor.start();
  return {
    view: monitor,
    reportsStored: async () => {
      await monitor.evaluate();
    },
    close: () => monitor.stop(),
  };
};

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`monitor.check.ca_file ${path} cannot be read: ${(error as Error).message}`);
  }
}
