// The report list and one report: its metadata, the normalised policies and
// failure details, and the bytes as received (shown as text when they are
// text, always downloadable). Every field is escaped: report content is
// written by whoever sent it.

import type { StoredReport } from "../../reports/store.ts";
import type { ReportsAnswer } from "../answers.ts";
import { fmtInt, type Html, html, nothing } from "../html.ts";
import { layout, type PageContext } from "./layout.ts";
import { cappedNotes, emptyState, rate, when } from "./parts.ts";

/** Raw bytes over this are offered for download only. */
const RAW_SHOWN = 256 * 1024;

export function reportListPage(a: ReportsAnswer, ctx: PageContext): Html {
  const filter = a.filter.domain === null ? "" : ` for ${a.filter.domain}`;
  return layout(
    "Reports",
    { ...ctx, current: "reports" },
    html`<h1>Reports${filter}</h1>
<form class="period" method="get" action="/reports">
  <label for="domain">Domain</label> <input id="domain" name="domain" value="${a.filter.domain ?? ""}" placeholder="all domains">
  <label for="days">Days</label> <input id="days" name="days" inputmode="numeric" value="${a.filter.days}" size="4">
  <button type="submit">Filter</button>
</form>
${cappedNotes(a.capped)}
${
  a.reports.length === 0
    ? emptyState(
        "No reports in this period",
        html`<p>Reports arrive when a domain's <code>_smtp._tls</code> TXT record names this server (<code>rua=https://…/tlsrpt</code>), or when you load them with <code>mtasts reports ingest</code>. Try a longer period.</p>`,
      )
    : html`<div class="scroll"><table class="data" id="reports">
<caption>Newest first, at most ${a.limit}</caption>
<thead><tr><th scope="col">Reporter</th><th scope="col">Report id</th><th scope="col">Period</th><th scope="col">Domains</th><th scope="col" class="num">Successful</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Rate</th><th scope="col">DKIM</th></tr></thead>
<tbody>${a.reports.map(
        (r) =>
          html`<tr><td>${r.organization ?? "(no organization)"}</td><td><a href="/reports/${r.id}">${r.reportId}</a></td><td>${r.start.slice(0, 10)} – ${r.end.slice(0, 10)}</td><td>${r.domains.join(", ")}</td><td class="num">${fmtInt(r.successful)}</td><td class="num">${fmtInt(r.failed)}</td><td class="num">${rate(r.successful, r.failed)}</td><td>${r.dkim ?? "—"}</td></tr>`,
      )}</tbody></table></div>`
}`,
  );
}

export function reportPage(r: StoredReport, raw: Uint8Array | null, ctx: PageContext): Html {
  const text = raw === null ? null : rawText(raw);
  return layout(
    `Report ${r.reportId}`,
    { ...ctx, current: "reports" },
    html`<h1>Report <span class="id">${r.reportId}</span></h1>
<dl class="meta">
  <div><dt>Reporter</dt><dd id="organization">${r.organization ?? "(no organization)"}</dd></div>
  <div><dt>Contact</dt><dd id="contact">${r.contact ?? "—"}</dd></div>
  <div><dt>Period</dt><dd>${when(r.start)} – ${when(r.end)}</dd></div>
  <div><dt>Received</dt><dd>${when(r.receivedAt)} by ${r.channel}${r.origin === null ? "" : ` (${r.origin})`}</dd></div>
  <div><dt>DKIM</dt><dd>${r.dkim ?? "not mail"}${r.dkimDetail?.domain ? ` (d=${r.dkimDetail.domain})` : ""}</dd></div>
  <div><dt>Sessions</dt><dd>${fmtInt(r.successful)} successful, ${fmtInt(r.failed)} failed (${rate(r.successful, r.failed)})</dd></div>
</dl>
${r.warnings.length === 0 ? nothing : html`<h2>Warnings</h2><ul>${r.warnings.map((w) => html`<li><code>${w.code}</code> ${w.message}</li>`)}</ul>`}
<h2>Policies</h2>
${r.report.policies.map(
  (
    p,
    i,
  ) => html`<section class="policy" aria-labelledby="pol-${i}"><h3 id="pol-${i}">${p.policy["policy-type"]} policy for ${p.policy["policy-domain"] ?? "(no domain)"}</h3>
<p>${fmtInt(p.summary["total-successful-session-count"])} successful, ${fmtInt(p.summary["total-failure-session-count"])} failed sessions.</p>
${
  p["failure-details"].length === 0
    ? html`<p class="muted">No failure details.</p>`
    : html`<div class="scroll"><table class="data"><thead><tr><th scope="col">Result type</th><th scope="col">Sending IP</th><th scope="col">Receiving MX</th><th scope="col" class="num">Failed sessions</th><th scope="col">Additional information</th><th scope="col">Reason code</th></tr></thead><tbody>${p[
        "failure-details"
      ].map(
        (d) =>
          html`<tr><td>${d["result-type"]}</td><td>${d["sending-mta-ip"] ?? "—"}</td><td>${d["receiving-mx-hostname"] ?? "—"}</td><td class="num">${fmtInt(d["failed-session-count"])}</td><td>${d["additional-information"] ?? ""}</td><td>${d["failure-reason-code"] ?? ""}</td></tr>`,
      )}</tbody></table></div>`
}</section>`,
)}
<h2>Normalised</h2>
<pre class="json" id="normalised">${JSON.stringify(r.report, null, 2)}</pre>
<h2>As received</h2>
<p><a href="/reports/${r.id}/raw" download>Download the bytes as received</a> (${fmtInt(r.rawSize)} bytes).</p>
${text === null ? html`<p class="muted">The bytes are compressed or binary (or over ${RAW_SHOWN / 1024} KiB); download them to read.</p>` : html`<pre class="raw" id="raw">${text}</pre>`}`,
  );
}

function rawText(raw: Uint8Array): string | null {
  if (raw.length > RAW_SHOWN || (raw[0] === 0x1f && raw[1] === 0x8b)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return null;
  }
}
