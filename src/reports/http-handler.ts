// The report receiver as a function of a request (RFC 8460 §5.4): routing,
// the limits that apply before a body is read, the capped read, ingest, and
// the answer that tells the sender whether to stop. intake-http.ts binds it
// to a port; nothing here listens.
//
//   201 stored · 200 duplicate · 202 quarantined (received and kept, not
//   counted) — all "successful" in §5.4's sense, so the sender stops; a
//   retry would bring the same bytes back, and RPT-DLV-10 senders retry
//   any other code for 24 hours.
//   413 over 10 MiB, as sent or inflated (RPT-RCV-03) · 415 a media type that
//   is not a report · 405 not POST · 404 another path · 429 rate limited ·
//   503 the store failed, too many reports in flight, or shutting down (with
//   Retry-After: nothing was kept, so the sender must retry) · 400 a body
//   that broke off.
//
// Media types (RPT-RCV-01): the two of §5.4, the bare `application/tlsrpt`
// seen in the wild, the generic JSON/gzip/octet-stream types and no type at
// all are accepted; the content is always recognised by its bytes (gzip by
// its magic number), never by the label. Anything else (a form post, HTML,
// text) is refused with 415.

import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_INFLATED_BYTES, MAX_INPUT_BYTES } from "../adapters/report-source.ts";
import { readCappedBody } from "./http-body.ts";
import {
  attemptIngest,
  describe,
  emit,
  type IntakeEventSink,
  type IntakeStore,
} from "./intake-attempt.ts";
import { clientKey, createRateLimiter, type RateLimit } from "./token-bucket.ts";
import type { IngestOptions, IngestOutcome } from "./types.ts";

export const DEFAULT_REPORT_PATH = "/tlsrpt";

/** 300 reports at once, then five a second, per client (an IPv6 /64 counts as one). */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 300, perSecond: 5 };

export interface ReportHandlerOptions {
  store: IntakeStore;
  /** Default `/tlsrpt`. */
  path?: string;
  /** `false` turns limiting off. */
  rateLimit?: RateLimit | false;
  /** Behind a proxy: take the client address from the last X-Forwarded-For entry. */
  trustProxy?: boolean;
  ingest?: IngestOptions;
  /** Bytes as sent and after inflation; 10 MiB each by default. */
  maxBodyBytes?: number;
  maxInflatedBytes?: number;
  /** Reports being read or ingested at once; more are answered 503. Default 16. */
  maxInFlight?: number;
  onEvent?: IntakeEventSink;
  /** Clock for the rate limiter (milliseconds). */
  now?: () => number;
}

export interface ReportHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** True when the headers alone decide a refusal (answer instead of 100 Continue). */
  refusesEarly(req: IncomingMessage): boolean;
  /** From now on, new reports are answered 503; resolves when those in flight are done. */
  drain(): Promise<void>;
}

const ACCEPTED_TYPES = new Set([
  "application/tlsrpt+json",
  "application/tlsrpt+gzip",
  "application/tlsrpt",
  "application/json",
  "application/gzip",
  "application/x-gzip",
  "application/octet-stream",
]);

/** Retry-After for 503: the store may be back soon; senders back off on their own too. */
const STORE_RETRY_SECONDS = 60;
const BUSY_RETRY_SECONDS = 5;
/** How long a refused upload may go on being discarded before the connection is cut. */
const LINGER_MS = 5_000;

export function createReportHandler(options: ReportHandlerOptions): ReportHandler {
  const path = options.path ?? DEFAULT_REPORT_PATH;
  if (!path.startsWith("/")) throw new Error(`the report path must start with "/", got ${path}`);
  const limiter =
    options.rateLimit === false
      ? null
      : createRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT, options.now);
  const limits = {
    maxBytes: options.maxBodyBytes ?? MAX_INPUT_BYTES,
    maxInflatedBytes: options.maxInflatedBytes ?? MAX_INFLATED_BYTES,
  };
  const maxInFlight = Math.max(1, options.maxInFlight ?? 16);
  const onEvent = options.onEvent;
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const client = clientAddress(req, options.trustProxy === true);
    const origin = `http ${client}`;
    const refuse = (status: number, reason: string, detail: string, headers = {}): void => {
      emit(onEvent, { type: "refused", channel: "https", origin, reason, detail });
      reply(req, res, status, { error: reason, message: detail }, headers);
    };
    const url = new URL(req.url ?? "/", "http://intake.invalid");
    if (url.pathname === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      reply(req, res, 200, { status: "ok" });
      return;
    }
    if (url.pathname !== path && url.pathname !== `${path}/`) {
      reply(req, res, 404, { error: "not-found", message: `reports are received at ${path}` });
      return;
    }
    if (req.method !== "POST") {
      reply(
        req,
        res,
        405,
        { error: "method-not-allowed", message: "send the report with POST" },
        { Allow: "POST" },
      );
      return;
    }
    if (limiter) {
      const decision = limiter.take(clientKey(client));
      if (!decision.allowed) {
        refuse(429, "rate-limited", "too many reports from this client", {
          "Retry-After": String(decision.retryAfterSeconds),
        });
        return;
      }
    }
    const type = mediaType(req.headers["content-type"]);
    if (type !== null && !ACCEPTED_TYPES.has(type)) {
      refuse(
        415,
        "unsupported-media-type",
        `expected application/tlsrpt+json or +gzip, got ${type}`,
      );
      return;
    }
    const coding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
    if (coding !== "identity" && coding !== "gzip" && coding !== "x-gzip") {
      // A gzip content coding is the same bytes as a +gzip body; others are not read.
      refuse(415, "unsupported-content-encoding", `content coding ${coding} is not accepted`);
      return;
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      refuse(413, "too-large", `body of ${declared} bytes is over ${limits.maxBytes}`);
      return;
    }
    if (closing || inFlight.size >= maxInFlight) {
      const detail = closing ? "shutting down; try again" : "too many reports in flight; try again";
      refuse(503, "busy", detail, { "Retry-After": String(BUSY_RETRY_SECONDS) });
      return;
    }
    const body = await readCappedBody(req, limits);
    if (!body.ok) {
      if (body.reason === "too-large") {
        refuse(413, "too-large", body.detail);
        return;
      }
      emit(onEvent, {
        type: "refused",
        channel: "https",
        origin,
        reason: "aborted",
        detail: body.detail,
      });
      // Usually the client is gone and there is no one to answer; reply() then does nothing.
      reply(req, res, 400, { error: "aborted", message: "the body ended early" });
      return;
    }
    const attempt = await attemptIngest(
      options.store,
      {
        bytes: body.bytes,
        channel: "https",
        origin,
        ...(type === null ? {} : { contentType: type }),
      },
      options.ingest,
      onEvent,
    );
    if (!attempt.ok) {
      reply(
        req,
        res,
        503,
        { error: "store-unavailable", message: "the report could not be stored; try again later" },
        { "Retry-After": String(STORE_RETRY_SECONDS) },
      );
      return;
    }
    const [status, payload] = answerFor(attempt.outcome);
    reply(req, res, status, payload);
  };

  return {
    handle(req, res) {
      const work = handle(req, res).catch((err: unknown) => {
        emit(onEvent, {
          type: "intake-error",
          channel: "https",
          origin: `http ${req.socket.remoteAddress ?? "unknown"}`,
          error: describe(err),
        });
        if (!res.headersSent)
          reply(req, res, 500, { error: "internal", message: "internal error" });
        else res.destroy();
      });
      inFlight.add(work);
      work.finally(() => inFlight.delete(work));
    },
    refusesEarly(req) {
      const declared = Number(req.headers["content-length"]);
      const type = mediaType(req.headers["content-type"]);
      return (
        (Number.isFinite(declared) && declared > limits.maxBytes) ||
        (type !== null && !ACCEPTED_TYPES.has(type))
      );
    },
    async drain() {
      closing = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}

function answerFor(outcome: IngestOutcome): [number, Record<string, unknown>] {
  switch (outcome.status) {
    case "stored":
      return [201, { status: "stored", id: outcome.id, reportId: outcome.reportId }];
    case "duplicate":
      return [200, { status: "duplicate", id: outcome.id, reportId: outcome.reportId }];
    case "quarantined":
      return [
        202,
        {
          status: "quarantined",
          id: outcome.quarantineId,
          code: outcome.code,
          message: outcome.reason,
        },
      ];
  }
}

/** `type/subtype` in lowercase without parameters; null when the header is absent or empty. */
export function mediaType(header: string | undefined): string | null {
  if (header === undefined) return null;
  const type = (header.split(";")[0] ?? "").trim().toLowerCase();
  return type === "" ? null : type;
}

/**
 * The client's address: the socket's, or behind a trusted proxy the last
 * X-Forwarded-For entry (the one the proxy itself appended).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const direct = req.socket.remoteAddress ?? "unknown";
  if (!trustProxy) return direct;
  const forwarded = req.headers["x-forwarded-for"];
  const list = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? ""))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  // The proxy appends the address it saw; earlier entries are the client's own claims.
  return list.at(-1) ?? direct;
}

/**
 * A short JSON answer. When the request body was not (all) read — a refusal
 * before or during the upload — Node discards the rest after the answer; the
 * connection is not closed at once, because closing a socket with unread
 * bytes sends a TCP reset that can destroy the answer before the sender
 * reads it (the "lingering close" of other servers). A sender that keeps on
 * uploading regardless is cut off after LINGER_MS.
 */
function reply(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  payload: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded || req.socket.destroyed) return;
  const body = `${JSON.stringify(payload)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(body);
  if (!req.complete) {
    const socket = req.socket;
    req.resume(); // flowing with no listener: the rest of the body is read and dropped
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    const stop = () => clearTimeout(timer);
    req.once("end", stop);
    socket.once("close", stop);
  }
}
