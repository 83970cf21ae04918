// The overview: every domain seen in reports or monitored, with its policy
// (from the monitor), last check, 7/30-day success rates, a 30-day sparkline
// and open alerts. The table is the data; the sparkline only draws it.

import type { DomainsAnswer } from "../answers.ts";
import { fmtInt, type Html, html, nothing } from "../html.ts";
import { layout, type PageContext } from "./layout.ts";
import { emptyState, MONITOR_HINT, rate, sparkline, when } from "./parts.ts";

export function overviewPage(a: DomainsAnswer, ctx: PageContext, host: string): Html {
  const body =
    a.domains.length === 0
      ? emptyState(
          "No reports yet",
          html`<p>Publish a TLS-RPT record that sends reports here, for example:</p>
<pre><code>_smtp._tls.example.com. TXT "v=TLSRPTv1; rua=https://${host}/tlsrpt"</code></pre>
<p>Senders deliver daily reports, so the first ones arrive within a day or two. You can also load reports you already have with <code>mtasts reports ingest FILE…</code>.</p>`,
        )
      : html`<div class="scroll"><table class="data" id="domains">
<caption>Policy domains (${fmtInt(a.domains.length)})</caption>
<thead><tr><th scope="col">Domain</th><th scope="col">Policy</th><th scope="col">Last check</th><th scope="col" class="num">7 days</th><th scope="col" class="num">30 days</th><th scope="col" class="num">Reports (30 d)</th><th scope="col">Success, 30 days</th><th scope="col" class="num">Open alerts</th></tr></thead>
<tbody>${a.domains.map(
          (d) => html`<tr>
<th scope="row"><a href="/domains/${encodeURIComponent(d.domain)}">${d.domain}</a></th>
<td>${d.policy === null ? "—" : html`${d.policy.mode ?? "none"}<br><span class="muted">id ${d.policy.id ?? "—"}</span>`}</td>
<td>${d.lastCheck === null ? "—" : html`<span class="status status-${d.lastCheck.status}">${d.lastCheck.status}</span><br><span class="muted">${when(d.lastCheck.at)}</span>`}</td>
<td class="num" data-rate7="${rate(d.last7.successful, d.last7.failed)}">${rate(d.last7.successful, d.last7.failed)}</td>
<td class="num" data-rate30="${rate(d.last30.successful, d.last30.failed)}">${rate(d.last30.successful, d.last30.failed)}</td>
<td class="num">${fmtInt(d.last30.reports)}</td>
<td>${sparkline(d.spark, `daily success rate of ${d.domain}, last 30 days`)}</td>
<td class="num">${d.openAlerts > 0 ? html`<a href="/alerts?domain=${encodeURIComponent(d.domain)}">${d.openAlerts}</a>` : "0"}</td>
</tr>`,
        )}</tbody></table></div>`;
  return layout(
    "Overview",
    ctx,
    html`<h1>Overview</h1>
${a.monitoring ? nothing : html`<div class="hint">${MONITOR_HINT}</div>`}
${body}
<p class="muted">Success rates count sessions in reports whose period overlaps the last 7 or 30 days (RFC 8460 summaries). Updated ${when(a.generatedAt)}.</p>`,
  );
}
