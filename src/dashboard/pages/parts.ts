// Pieces several pages use: the empty state, breakdown tables, the notes for
// capped parameters, a server-drawn sparkline (SVG: no script needed) and
// dates shown as UTC.

import type { Breakdown } from "../../reports/dashboard-queries.ts";
import { fmtInt, fmtRate, type Html, html, nothing } from "../html.ts";
import type { Capped } from "../params.ts";

export function emptyState(title: string, body: Html): Html {
  return html`<div class="empty" role="note"><p class="empty-title">${title}</p>${body}</div>`;
}

export function cappedNotes(capped: readonly Capped[]): Html {
  if (capped.length === 0) return nothing;
  return html`<p class="notice" role="status">${capped.map((c) => c.message).join("; ")}</p>`;
}

export function breakdownTable(
  id: string,
  caption: string,
  keyLabel: string,
  rows: readonly Breakdown[],
  withSuccess: boolean,
): Html {
  if (rows.length === 0) {
    return html`<section aria-labelledby="${id}-h"><h3 id="${id}-h">${caption}</h3><p class="muted">No failure details in this period.</p></section>`;
  }
  return html`<section aria-labelledby="${id}-h"><h3 id="${id}-h">${caption}</h3>
<div class="scroll"><table id="${id}" class="data">
<thead><tr><th scope="col">${keyLabel}</th><th scope="col" class="num">Reports</th>${withSuccess ? html`<th scope="col" class="num">Successful</th>` : nothing}<th scope="col" class="num">Failed sessions</th>${withSuccess ? html`<th scope="col" class="num">Success rate</th>` : nothing}</tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><th scope="row">${r.key ?? "(not given)"}</th><td class="num">${fmtInt(r.reports)}</td>${
        withSuccess ? html`<td class="num">${fmtInt(r.successful ?? 0)}</td>` : nothing
      }<td class="num">${fmtInt(r.failed)}</td>${withSuccess ? html`<td class="num">${fmtRate(r.successful ?? 0, r.failed)}</td>` : nothing}</tr>`,
  )}</tbody></table></div></section>`;
}

/**
 * Success rate per day as a small SVG line through the days that had
 * sessions. The scale runs from the lowest rate (98% at most, so a steady
 * 99.9% still reads as a line near the top, not as noise) to 100%.
 */
export function sparkline(
  days: readonly { day: string; successful: number; failed: number }[],
  label: string,
): Html {
  const w = 120;
  const h = 28;
  const step = days.length > 1 ? w / (days.length - 1) : w;
  const points = days.flatMap((d, i) => {
    const all = d.successful + d.failed;
    return all === 0 ? [] : [{ x: i * step, rate: d.successful / all }];
  });
  const low = Math.min(0.98, ...points.map((p) => p.rate));
  const y = (rate: number) => 2 + (1 - (rate - low) / (1 - low || 1)) * (h - 4);
  const path = points
    .map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${y(p.rate).toFixed(1)}`)
    .join("");
  const dot = points.length === 1 ? points[0] : undefined;
  return html`<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${label}"><path d="${path}" fill="none" stroke="currentColor" stroke-width="1.5"/>${dot === undefined ? nothing : html`<circle cx="${dot.x.toFixed(1)}" cy="${y(dot.rate).toFixed(1)}" r="2" fill="currentColor"/>`}</svg>`;
}

export function when(value: string | Date | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const d = typeof value === "string" ? new Date(value) : value;
  return Number.isNaN(d.getTime()) ? "—" : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function rate(successful: number, failed: number): string {
  return fmtRate(successful, failed);
}

/** What to do when monitoring is not configured. */
export const MONITOR_HINT = html`<p>Monitoring is not enabled, so there are no checks, policy history, certificates or alerts. Add a <code>monitor:</code> section to the serve configuration (see <code>docs/dashboard.md</code>) and restart <code>mtasts serve</code>.</p>`;
