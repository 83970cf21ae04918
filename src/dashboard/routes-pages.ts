// The HTML pages and their forms. Each page renders the answer its API call
// returns (answers.ts). Forms post back here and redirect (303), so a reload
// never repeats an action.

import type { IncomingMessage, ServerResponse } from "node:http";
import { ALERT_STATES } from "../monitor/types.ts";
import { checkNow, resolveAlert, snoozeAlert, snoozeHours } from "./actions.ts";
import {
  alertsAnswer,
  domainAnswer,
  domainsAnswer,
  reportAnswer,
  reportsAnswer,
  type Sources,
} from "./answers.ts";
import type { Principal } from "./auth.ts";
import { HttpError, redirect, sendHtml } from "./http.ts";
import { alertsPage } from "./pages/alerts.ts";
import { domainPage } from "./pages/domain.ts";
import type { PageContext } from "./pages/layout.ts";
import { overviewPage } from "./pages/overview.ts";
import { reportListPage, reportPage } from "./pages/reports.ts";
import {
  domainName,
  MAX_DAYS,
  MAX_LIMIT,
  pathId,
  pathParts,
  Query,
  reportsFilter,
} from "./params.ts";
import { methodNotAllowed, sendRaw } from "./routes-api.ts";

export interface PageRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  principal: Principal;
  src: Sources;
  form: Map<string, string> | null;
}

export async function handlePage(r: PageRequest): Promise<void> {
  const { req, res, url, src } = r;
  const ctx: PageContext = { principal: r.principal, current: "other" };
  const get = req.method === "GET" || req.method === "HEAD";
  const parts = pathParts(url.pathname, 1);
  const [a, b, c] = parts;
  if (url.pathname === "/") {
    if (!get) throw methodNotAllowed("GET");
    new Query(url.searchParams, []);
    const host = (req.headers.host ?? "this-host").replace(/[^A-Za-z0-9.:[\]-]/g, "");
    return sendHtml(
      req,
      res,
      200,
      overviewPage(await domainsAnswer(src), { ...ctx, current: "overview" }, host),
    );
  }
  if (a === "domains" && b !== undefined && parts.length === 2) {
    if (!get) throw methodNotAllowed("GET");
    const q = new Query(url.searchParams, ["days"]);
    const days = q.count("days", 30, MAX_DAYS);
    return sendHtml(
      req,
      res,
      200,
      domainPage(await domainAnswer(src, domainName(b), days, q.capped), ctx),
    );
  }
  if (a === "domains" && b !== undefined && c === "check" && parts.length === 3) {
    if (req.method !== "POST") throw methodNotAllowed("POST");
    const domain = domainName(b);
    await checkNow(src.monitor, domain);
    return redirect(res, `/domains/${encodeURIComponent(domain)}`);
  }
  if (a === "reports" && parts.length === 1) {
    if (!get) throw methodNotAllowed("GET");
    const q = new Query(url.searchParams, ["domain", "days", "limit"]);
    const filter = reportsFilter(q);
    return sendHtml(req, res, 200, reportListPage(await reportsAnswer(src, filter, q.capped), ctx));
  }
  if (a === "reports" && b !== undefined && parts.length <= 3) {
    if (!get) throw methodNotAllowed("GET");
    new Query(url.searchParams, []);
    const id = pathId(b, "report");
    if (c === "raw") return sendRaw(r, id);
    if (c !== undefined) throw new HttpError(404, "not-found", "no such page");
    const report = await reportAnswer(src, id);
    return sendHtml(req, res, 200, reportPage(report, await src.store.getReportRaw(id), ctx));
  }
  if (a === "alerts" && parts.length === 1) {
    if (!get) throw methodNotAllowed("GET");
    const q = new Query(url.searchParams, ["state", "domain"]);
    const state = q.oneOf("state", ALERT_STATES);
    const domain = q.domain("domain");
    const answer = await alertsAnswer(src, {
      limit: MAX_LIMIT,
      ...(state === undefined ? {} : { state }),
      ...(domain === undefined ? {} : { domain }),
    });
    return sendHtml(req, res, 200, alertsPage(answer, ctx, state));
  }
  if (
    a === "alerts" &&
    b !== undefined &&
    (c === "snooze" || c === "resolve") &&
    parts.length === 3
  ) {
    if (req.method !== "POST") throw methodNotAllowed("POST");
    const id = pathId(b, "alert");
    if (c === "resolve") await resolveAlert(src.monitor, id);
    else await snoozeAlert(src.monitor, id, snoozeHours(r.form?.get("hours")), src.now());
    return redirect(res, "/alerts");
  }
  throw new HttpError(404, "not-found", `there is no page at ${url.pathname.slice(0, 200)}`);
}
