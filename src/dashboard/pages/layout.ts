// The frame every page shares: skip link, navigation, who is logged in and a
// logout form (with the CSRF token), and the static assets. No inline script
// or style anywhere: the Content-Security-Policy forbids both.

import type { Principal } from "../auth.ts";
import { type Html, html, markup, nothing } from "../html.ts";

export interface PageContext {
  principal: Principal;
  /** The path shown as current in the navigation. */
  current: "overview" | "reports" | "alerts" | "other";
}

export function layout(title: string, ctx: PageContext | null, body: Html, charts = false): Html {
  const nav = (href: string, name: PageContext["current"], label: string) =>
    html`<a href="${href}"${ctx?.current === name ? markup(' aria-current="page"') : nothing}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mtasts</title>
<link rel="stylesheet" href="/static/style.css">
${
  charts
    ? html`<link rel="stylesheet" href="/static/uplot/uPlot.min.css">
<script src="/static/uplot/uPlot.iife.min.js" defer></script>
<script src="/static/charts.js" defer></script>`
    : nothing
}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">mtasts</a>
  ${
    ctx === null
      ? nothing
      : html`<nav aria-label="Main">${nav("/", "overview", "Overview")}${nav("/reports", "reports", "Reports")}${nav("/alerts", "alerts", "Alerts")}</nav>
  <form class="who" method="post" action="/logout">
    <input type="hidden" name="csrf" value="${ctx.principal.csrf ?? ""}">
    <span>${ctx.principal.user} <span class="role">(${ctx.principal.role})</span></span>
    ${ctx.principal.via === "open" ? nothing : html`<button type="submit">Log out</button>`}
  </form>`
  }
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`;
}
