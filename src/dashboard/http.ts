// Answers and request bodies for the dashboard: every answer carries the
// security headers (a strict Content-Security-Policy: scripts and styles from
// our own /static only, nothing inline), errors are JSON or a small page and
// never a stack trace, and bodies are read with a size cap.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Html } from "./html.ts";

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

export type Headers = Record<string, string | string[]>;

export function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Uint8Array,
  headers: Headers = {},
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": type,
    "content-length": String(bytes.byteLength),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(req.method === "HEAD" ? undefined : bytes);
}

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Headers = {},
): void {
  send(
    req,
    res,
    status,
    "application/json; charset=utf-8",
    `${JSON.stringify(value, null, 2)}\n`,
    headers,
  );
}

export function sendHtml(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  page: Html,
  headers: Headers = {},
): void {
  send(req, res, status, "text/html; charset=utf-8", page.text, headers);
}

export function redirect(res: ServerResponse, location: string, headers: Headers = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, "content-length": "0", ...headers });
  res.end();
}

/** A clear 4xx: `error` is a stable code, `message` says what to do. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly code: string;
  readonly headers: Headers;
  constructor(status: number, code: string, message: string, headers: Headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Forms and API bodies are small; anything larger is refused before it is all read. */
export const MAX_FORM_BYTES = 16 * 1024;

export async function readBody(req: IncomingMessage, max = MAX_FORM_BYTES): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > max)
    throw new HttpError(413, "too-large", `the request body is over ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.destroy();
      throw new HttpError(413, "too-large", `the request body is over ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** An urlencoded form (login, snooze, resolve); JSON is accepted too for API callers. */
export async function readForm(req: IncomingMessage): Promise<Map<string, string>> {
  const text = await readBody(req);
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  const out = new Map<string, string>();
  if (type === "application/json") {
    let value: unknown;
    try {
      value = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      throw new HttpError(400, "bad-json", "the request body is not valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new HttpError(400, "bad-json", "the request body must be a JSON object");
    }
    for (const [k, v] of Object.entries(value)) if (typeof v === "string") out.set(k, v);
    return out;
  }
  if (type !== "application/x-www-form-urlencoded" && text.length > 0) {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "send application/x-www-form-urlencoded or application/json",
    );
  }
  for (const [k, v] of new URLSearchParams(text)) if (!out.has(k)) out.set(k, v);
  return out;
}
