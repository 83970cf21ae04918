// One domain: sessions per day stacked by result (successful from the policy
// summaries, failures by result type from the failure details), breakdowns
// by MX host, reporter and sending IP, and from the monitor the policy
// history and MX certificate expiry. Each chart reads its numbers from the
// data table printed beside it, so what is drawn is what is in the table.

import type { DomainAnswer } from "../answers.ts";
import { fmtInt, fmtRate, type Html, html, nothing } from "../html.ts";
import { layout, type PageContext } from "./layout.ts";
import { breakdownTable, cappedNotes, emptyState, MONITOR_HINT, when } from "./parts.ts";

const PERIODS = [7, 30, 90, 180, 365];

export function domainPage(a: DomainAnswer, ctx: PageContext): Html {
  const path = `/domains/${encodeURIComponent(a.domain)}`;
  const admin = ctx.principal.role === "admin";
  return layout(
    a.domain,
    { ...ctx, current: "overview" },
    html`<h1>${a.domain}</h1>
<form class="period" method="get" action="${path}">
  <label for="days">Period</label>
  <select id="days" name="days">${PERIODS.map(
    (d) =>
      html`<option value="${d}"${d === a.periodDays ? html` selected` : nothing}>last ${d} days</option>`,
  )}${PERIODS.includes(a.periodDays) ? nothing : html`<option value="${a.periodDays}" selected>last ${a.periodDays} days</option>`}</select>
  <button type="submit">Show</button>
</form>
${cappedNotes(a.capped)}
<dl class="totals">
  <div><dt>Successful sessions</dt><dd id="total-successful">${fmtInt(a.total.successful)}</dd></div>
  <div><dt>Failed sessions</dt><dd id="total-failed">${fmtInt(a.total.failed)}</dd></div>
  <div><dt>Success rate</dt><dd>${fmtRate(a.total.successful, a.total.failed)}</dd></div>
  <div><dt>Reports</dt><dd id="total-reports">${fmtInt(a.total.reports)}</dd></div>
</dl>
${a.days.length === 0 ? emptyState("No reports in this period", html`<p>Choose a longer period, or wait for senders' daily reports.</p>`) : sessionsChart(a)}
<div class="grid">
${breakdownTable("by-mx", "Failures by MX host", "MX host", a.byMx, false)}
${breakdownTable("by-reporter", "By reporter", "Reporter", a.byReporter, true)}
${breakdownTable("by-ip", `Failures by sending IP (top ${a.bySendingIp.length})`, "Sending IP", a.bySendingIp, false)}
</div>
<p><a href="/reports?domain=${encodeURIComponent(a.domain)}&amp;days=${a.periodDays}">Reports for ${a.domain} in this period</a></p>
${monitorSections(a, admin, ctx.principal.csrf ?? "", path)}`,
    true,
  );
}

function sessionsChart(a: DomainAnswer): Html {
  const types = a.resultTypes;
  return html`<figure class="chart" id="chart-sessions" data-chart="stacked" data-table="t-days" aria-labelledby="chart-days-cap">
<figcaption id="chart-days-cap">Sessions per day by result (UTC days a report period starts)</figcaption>
<div class="plot" aria-hidden="true"></div>
<details><summary>Data table</summary>
<div class="scroll"><table id="t-days" class="data">
<thead><tr><th scope="col">Day</th><th scope="col" class="num" data-series="successful">Successful</th>${types.map(
    (t) => html`<th scope="col" class="num" data-series="${t}">${t}</th>`,
  )}<th scope="col" class="num">Failed (summary)</th><th scope="col" class="num">Reports</th></tr></thead>
<tbody>${a.days.map(
    (d) =>
      html`<tr data-day="${d.day}"><th scope="row">${d.day}</th><td class="num" data-value="${d.successful}">${fmtInt(d.successful)}</td>${types.map(
        (t) =>
          html`<td class="num" data-value="${d.byType[t] ?? 0}">${fmtInt(d.byType[t] ?? 0)}</td>`,
      )}<td class="num" data-failed="${d.failed}">${fmtInt(d.failed)}</td><td class="num" data-reports="${d.reports}">${fmtInt(d.reports)}</td></tr>`,
  )}</tbody></table></div>
<p class="muted">Failures by result type come from the reports' failure details, which may overlap or be incomplete; the "Failed (summary)" column is the reports' own total.</p>
</details>
</figure>
${
  types.length === 0
    ? nothing
    : html`<figure class="chart" id="chart-failures" data-chart="stacked" data-table="t-days" data-skip="successful" aria-labelledby="chart-fail-cap">
<figcaption id="chart-fail-cap">Failed sessions per day by result type (the same table, without the successful sessions)</figcaption>
<div class="plot" aria-hidden="true"></div>
</figure>`
}`;
}

function monitorSections(a: DomainAnswer, admin: boolean, csrf: string, path: string): Html {
  if (!a.monitoring) {
    return html`<section aria-labelledby="mon-h"><h2 id="mon-h">Policy and MX certificates</h2>${MONITOR_HINT}</section>`;
  }
  if (!a.monitored) {
    return html`<section aria-labelledby="mon-h"><h2 id="mon-h">Policy and MX certificates</h2><p>${a.domain} is not a monitored domain; add it to the <code>monitor:</code> section to see checks, policy history and certificates.</p></section>`;
  }
  const history = a.policyHistory ?? [];
  const certs = a.certificates ?? [];
  return html`<section aria-labelledby="mon-h"><h2 id="mon-h">Policy and MX certificates</h2>
<p>Last check: ${a.lastCheck === null ? "not checked yet" : html`<span class="status status-${a.lastCheck.status}">${a.lastCheck.status}</span> at ${when(a.lastCheck.at)}`}</p>
${admin ? html`<form method="post" action="${path}/check"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Check now</button></form>` : nothing}
<h3>Policy history</h3>
${
  history.length === 0
    ? html`<p class="muted">No policy seen yet.</p>`
    : html`<div class="scroll"><table class="data" id="policy-history"><thead><tr><th scope="col">Since</th><th scope="col">Mode</th><th scope="col">Policy id</th></tr></thead><tbody>${history.map(
        (h) =>
          html`<tr><td>${when(h.at)}</td><td>${h.mode ?? "none"}</td><td>${h.policyId ?? "—"}</td></tr>`,
      )}</tbody></table></div>`
}
<h3>MX certificate expiry</h3>
${
  certs.length === 0
    ? html`<p class="muted">No certificates recorded by the last check.</p>`
    : html`<div class="scroll"><table class="data" id="certificates"><thead><tr><th scope="col">MX host</th><th scope="col">Not after</th><th scope="col" class="num">Days left</th></tr></thead><tbody>${certs.map(
        (c) =>
          html`<tr><th scope="row">${c.mx}</th><td>${when(c.notAfter)}</td><td class="num${c.daysLeft !== null && c.daysLeft < 14 ? " warn" : ""}">${c.daysLeft ?? "—"}</td></tr>`,
      )}</tbody></table></div>`
}
</section>`;
}
