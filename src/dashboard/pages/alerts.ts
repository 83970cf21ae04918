// Alerts from the monitor: open first, with snooze and resolve forms for
// admins (each with the CSRF token). Without a monitor, an empty state that
// says how to enable monitoring.

import type { Alert } from "../../monitor/types.ts";
import type { AlertsAnswer } from "../answers.ts";
import { type Html, html, nothing } from "../html.ts";
import { layout, type PageContext } from "./layout.ts";
import { emptyState, MONITOR_HINT, when } from "./parts.ts";

export const SNOOZE_HOURS = [1, 8, 24, 168];

export function alertsPage(a: AlertsAnswer, ctx: PageContext, state: string | undefined): Html {
  const admin = ctx.principal.role === "admin";
  const csrf = ctx.principal.csrf ?? "";
  let body: Html;
  if (!a.monitoring) body = emptyState("Monitoring is not enabled", MONITOR_HINT);
  else if (a.alerts.length === 0) {
    body = emptyState(
      state === undefined ? "No alerts" : `No ${state} alerts`,
      html`<p>Checks run on schedule; an alert appears here when a rule fires (failure rate, a new result type, certificate expiry, policy host, policy id).</p>`,
    );
  } else {
    body = html`<div class="scroll"><table class="data" id="alerts">
<thead><tr><th scope="col">Domain</th><th scope="col">Rule</th><th scope="col">About</th><th scope="col">Message</th><th scope="col">State</th><th scope="col">First / last seen</th>${admin ? html`<th scope="col">Act</th>` : nothing}</tr></thead>
<tbody>${a.alerts.map((x) => row(x, admin, csrf))}</tbody></table></div>`;
  }
  return layout(
    "Alerts",
    { ...ctx, current: "alerts" },
    html`<h1>Alerts</h1>
<nav class="filters" aria-label="Alert state"><a href="/alerts">all</a> · <a href="/alerts?state=open">open</a> · <a href="/alerts?state=snoozed">snoozed</a> · <a href="/alerts?state=resolved">resolved</a></nav>
${body}`,
  );
}

function row(a: Alert, admin: boolean, csrf: string): Html {
  const id = encodeURIComponent(a.id);
  return html`<tr><th scope="row"><a href="/domains/${encodeURIComponent(a.domain)}">${a.domain}</a></th><td>${a.rule}</td><td>${a.subject}</td><td>${a.message}</td><td>${a.state}${a.snoozedUntil === null ? "" : ` until ${when(a.snoozedUntil)}`}</td><td>${when(a.firstSeen)}<br>${when(a.lastSeen)}</td>${
    admin
      ? html`<td>${
          a.state === "resolved"
            ? nothing
            : html`<form class="inline" method="post" action="/alerts/${id}/snooze"><input type="hidden" name="csrf" value="${csrf}"><label for="h-${id}">Snooze for</label> <select id="h-${id}" name="hours">${SNOOZE_HOURS.map((h) => html`<option value="${h}">${h} h</option>`)}</select> <button type="submit">Snooze</button></form>
<form class="inline" method="post" action="/alerts/${id}/resolve"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Resolve</button></form>`
        }</td>`
      : nothing
  }</tr>`;
}
