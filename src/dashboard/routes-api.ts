// The JSON API (docs/dashboard.md): the same answers the pages render, plus
// the actions. Callers are already authenticated; POSTs have passed the CSRF
// and role checks in app.ts.

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
import { HttpError, send, sendJson } from "./http.ts";
import {
  domainName,
  MAX_DAYS,
  MAX_LIMIT,
  pathId,
  pathParts,
  Query,
  reportsFilter,
} from "./params.ts";

export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  principal: Principal;
  src: Sources;
  /** The form or JSON body of a POST, read by app.ts for its CSRF check. */
  form: Map<string, string> | null;
}

export async function handleApi(r: ApiRequest): Promise<void> {
  const { req, res, url, src } = r;
  const parts = pathParts(url.pathname, 2);
  const get = req.method === "GET" || req.method === "HEAD";
  const [a, b, c] = parts;
  if (a === "me" && parts.length === 1 && get) {
    new Query(url.searchParams, []);
    return sendJson(req, res, 200, {
      user: r.principal.user,
      role: r.principal.role,
      via: r.principal.via,
      csrf: r.principal.csrf,
    });
  }
  if (a === "domains" && parts.length === 1 && get) {
    new Query(url.searchParams, []);
    return sendJson(req, res, 200, await domainsAnswer(src));
  }
  if (a === "domains" && b !== undefined && c === "overview" && parts.length === 3 && get) {
    const q = new Query(url.searchParams, ["days"]);
    const days = q.count("days", 30, MAX_DAYS);
    return sendJson(req, res, 200, await domainAnswer(src, domainName(b), days, q.capped));
  }
  if (a === "domains" && b !== undefined && c === "check" && parts.length === 3) {
    if (req.method !== "POST") throw methodNotAllowed("POST");
    await checkNow(src.monitor, domainName(b));
    return sendJson(req, res, 202, { status: "checked", domain: domainName(b) });
  }
  if (a === "reports" && parts.length === 1 && get) {
    const q = new Query(url.searchParams, ["domain", "days", "limit"]);
    const filter = reportsFilter(q);
    return sendJson(req, res, 200, await reportsAnswer(src, filter, q.capped));
  }
  if (a === "reports" && b !== undefined && parts.length === 2 && get) {
    new Query(url.searchParams, []);
    return sendJson(req, res, 200, await reportAnswer(src, pathId(b, "report")));
  }
  if (a === "reports" && b !== undefined && c === "raw" && parts.length === 3 && get) {
    return sendRaw(r, pathId(b, "report"));
  }
  if (a === "alerts" && parts.length === 1 && get) {
    const q = new Query(url.searchParams, ["state", "domain", "limit"]);
    const state = q.oneOf("state", ALERT_STATES);
    const domain = q.domain("domain");
    const filter = {
      limit: q.count("limit", 200, MAX_LIMIT),
      ...(state === undefined ? {} : { state }),
      ...(domain === undefined ? {} : { domain }),
    };
    return sendJson(req, res, 200, await alertsAnswer(src, filter));
  }
  if (
    a === "alerts" &&
    b !== undefined &&
    (c === "snooze" || c === "resolve") &&
    parts.length === 3
  ) {
    if (req.method !== "POST") throw methodNotAllowed("POST");
    const id = pathId(b, "alert");
    if (c === "resolve") {
      await resolveAlert(src.monitor, id);
      return sendJson(req, res, 200, { id, state: "resolved" });
    }
    const until = await snoozeAlert(src.monitor, id, snoozeHours(r.form?.get("hours")), src.now());
    return sendJson(req, res, 200, { id, state: "snoozed", snoozedUntil: until.toISOString() });
  }
  if (
    parts.length > 0 &&
    (a === "domains" || a === "reports" || a === "alerts" || a === "me") &&
    !get &&
    req.method !== "POST"
  ) {
    throw methodNotAllowed("GET");
  }
  throw new HttpError(
    404,
    "not-found",
    `no API at ${url.pathname.slice(0, 200)}; see docs/dashboard.md for the list`,
  );
}

export async function sendRaw(
  r: { req: IncomingMessage; res: ServerResponse; src: Sources },
  id: string,
): Promise<void> {
  await reportAnswer(r.src, id);
  const raw = await r.src.store.getReportRaw(id);
  if (raw === null) throw new HttpError(404, "no-raw", `report ${id} has no stored bytes`);
  send(r.req, r.res, 200, "application/octet-stream", raw, {
    "content-disposition": `attachment; filename="report-${id}.bin"`,
  });
}

export function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, "method-not-allowed", `use ${allow} here`, { allow });
}
