// The few things the dashboard can change, all through the monitor: snooze
// or resolve an alert, run the checks now. Shared by the forms and the API;
// the caller has already checked the CSRF token and the admin role.

import type { MonitorView } from "../monitor/types.ts";
import { HttpError } from "./http.ts";

/** Snoozes longer than 90 days are refused: a resolve is what that means. */
export const MAX_SNOOZE_HOURS = 90 * 24;

function needMonitor(monitor: MonitorView | null): MonitorView {
  if (monitor === null) {
    throw new HttpError(
      409,
      "monitoring-off",
      "monitoring is not enabled: add a monitor: section to the serve configuration",
    );
  }
  return monitor;
}

export function snoozeHours(text: string | undefined): number {
  if (
    text === undefined ||
    !/^\d{1,5}$/.test(text) ||
    Number(text) < 1 ||
    Number(text) > MAX_SNOOZE_HOURS
  ) {
    throw new HttpError(
      400,
      "bad-hours",
      `hours must be a whole number from 1 to ${MAX_SNOOZE_HOURS}`,
    );
  }
  return Number(text);
}

export async function snoozeAlert(
  monitor: MonitorView | null,
  id: string,
  hours: number,
  now: Date,
): Promise<Date> {
  const until = new Date(now.getTime() + hours * 3_600_000);
  if (!(await needMonitor(monitor).snooze(id, until))) {
    throw new HttpError(404, "unknown-alert", `there is no alert ${id}`);
  }
  return until;
}

export async function resolveAlert(monitor: MonitorView | null, id: string): Promise<void> {
  if (!(await needMonitor(monitor).resolve(id)))
    throw new HttpError(404, "unknown-alert", `there is no alert ${id}`);
}

export async function checkNow(
  monitor: MonitorView | null,
  domain: string | undefined,
): Promise<void> {
  const m = needMonitor(monitor);
  if (domain !== undefined && !m.domains().includes(domain)) {
    throw new HttpError(404, "unknown-domain", `${domain} is not a monitored domain`);
  }
  await m.checkNow(domain);
}
