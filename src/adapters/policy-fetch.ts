// Fetching a policy over HTTPS by the rules of RFC 8461 §3.3 and §7
// (STS-FETCH-01..08). Each phase (DNS, TCP, TLS, HTTP) is done by hand on
// node:net / node:tls / node:http, so every failure is classified by the phase
// it happened in, one deadline covers them all, and nothing is followed,
// cached or retried behind our back.

import { X509Certificate } from "node:crypto";
import { lookup as dnsLookup } from "node:dns/promises";
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import { type Socket, connect as tcpConnect } from "node:net";
import {
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { certificateNameMatches } from "../core/cert-name.ts";
import { policyHost, policyUrl } from "../core/names.ts";
import { MAX_POLICY_BYTES } from "../core/policy.ts";
import type { FailureKind } from "../core/result-type.ts";
import {
  type CertSummary,
  describeCertificateError,
  dnsNamesOf,
  summarizeCertificate,
  summarizeChain,
} from "./certificate.ts";
import { trustContext } from "./tls-context.ts";

// `import … from "node:http"` builds an ES module facade that reads every
// export, including the lazy fetch/WebSocket getters that load undici: ~20 ms
// of start-up for a one-shot check. require() skips the facade.
const { request } = createRequire(import.meta.url)("node:http") as typeof import("node:http");

export interface PolicyFetchOptions {
  /** The whole request: DNS, connect, TLS, headers and body (STS-FETCH-08). Default 60 000. */
  timeoutMs?: number;
  /** Extra trusted roots (PEM), added to Node's bundled roots (the `--ca-file` option). */
  ca?: string[];
  /** Default 443 (STS-FETCH-01); only tests change it. */
  port?: number;
  /** Host → addresses, tried in order. Default: the system resolver (`dns.lookup`). */
  lookup?: (host: string) => Promise<string[]>;
  /** The clock for `elapsedMs`. */
  now?: () => Date;
  /** Default MAX_POLICY_BYTES (STS-FETCH-07). */
  maxBytes?: number;
  /**
   * Describe the certificate chain of a successful fetch (default true). The
   * resolver turns it off: it never shows the chain, and summarising costs
   * a fifth of a cold lookup's CPU and garbage that inflates a daemon's heap.
   */
  describeChain?: boolean;
}

/** The failure kinds a fetch can end in (all `fetch.*` kinds but `fetch.policy-invalid`). */
export type PolicyFetchFailureKind = Exclude<
  Extract<FailureKind, `fetch.${string}`>,
  "fetch.policy-invalid"
>;

export type PolicyFetchResult =
  | {
      ok: true;
      url: string;
      address: string;
      body: Uint8Array;
      contentType: string;
      /** Set when the charset is neither utf-8 nor us-ascii (STS-FETCH-06). */
      charsetWarning?: string;
      tls: { version: string; cipher: string; chain: CertSummary[] };
      elapsedMs: number;
    }
  | {
      ok: false;
      url: string;
      kind: PolicyFetchFailureKind;
      detail: string;
      status?: number;
      location?: string;
      /** The presented leaf, on a certificate failure. */
      certificate?: CertSummary;
      /** Node's verification code (CERT_HAS_EXPIRED, …) or `hostname-mismatch`. */
      certificateError?: string;
      address?: string;
    };

type Failure = Extract<PolicyFetchResult, { ok: false }>;
type Outcome = PolicyFetchResult | Omit<Failure, "url">;

const PATH = "/.well-known/mta-sts.txt";

/** GET `https://mta-sts.<domain>/.well-known/mta-sts.txt`. Never throws; settles within the timeout. */
export async function fetchPolicy(
  domain: string,
  options: PolicyFetchOptions = {},
): Promise<PolicyFetchResult> {
  const now = options.now ?? (() => new Date());
  const started = now().getTime();
  const host = policyHost(domain);
  const url = policyUrl(domain) ?? `https://mta-sts.${domain}${PATH}`;
  if (host === null) {
    return { ok: false, url, kind: "fetch.dns", detail: `"${domain}" is not a domain name` };
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const attempt = new Attempt();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      attempt.stop();
      resolve({
        ok: false,
        kind: "fetch.timeout",
        detail: `No complete answer from ${host} within ${timeoutMs} ms; gave up while ${attempt.phase} (STS-FETCH-08)`,
        ...(attempt.address ? { address: attempt.address } : {}),
      });
    }, timeoutMs);
  });
  const work = run(host, options, attempt, started, now).catch(
    (error: unknown): Outcome => ({
      ok: false,
      kind: "fetch.connect",
      detail: `Unexpected error while ${attempt.phase}: ${String(error)}`,
    }),
  );
  try {
    const outcome = await Promise.race([work, deadline]);
    return { ...outcome, url } as PolicyFetchResult;
  } finally {
    clearTimeout(timer);
    attempt.stop();
  }
}

/** One fetch's sockets and progress; `stop()` destroys every socket, now and later. */
class Attempt {
  phase = "starting";
  address: string | undefined;
  stopped = false;
  readonly #sockets = new Set<Socket>();

  track<S extends Socket>(socket: S): S {
    if (this.stopped) socket.destroy();
    else this.#sockets.add(socket);
    return socket;
  }

  stop(): void {
    this.stopped = true;
    // Newest first: a TLS socket before the TCP socket under it. Destroying
    // the TCP socket first makes Node 24 read through a freed SSL (SIGSEGV).
    for (const s of [...this.#sockets].reverse()) s.destroy();
    this.#sockets.clear();
  }
}

async function run(
  host: string,
  options: PolicyFetchOptions,
  attempt: Attempt,
  started: number,
  now: () => Date,
): Promise<Outcome> {
  // DNS: the policy host's addresses.
  attempt.phase = `resolving ${host}`;
  let addresses: string[];
  try {
    addresses = await (options.lookup ?? systemLookup)(host);
  } catch (error) {
    return {
      ok: false,
      kind: "fetch.dns",
      detail: `${host} did not resolve (${errorText(error)})`,
    };
  }
  if (addresses.length === 0) {
    return { ok: false, kind: "fetch.dns", detail: `${host} has no address` };
  }

  // TCP: the first address that accepts a connection.
  const port = options.port ?? 443;
  const refused: string[] = [];
  let socket: Socket | null = null;
  for (const address of addresses) {
    if (attempt.stopped) return stoppedOutcome;
    attempt.address = address;
    attempt.phase = `connecting to ${address} port ${port}`;
    try {
      socket = await connectTcp(address, port, attempt);
      break;
    } catch (error) {
      refused.push(`${address}: ${errorText(error)}`);
    }
  }
  const address = attempt.address ?? "";
  if (socket === null) {
    return {
      ok: false,
      kind: "fetch.connect",
      detail: `Could not connect to ${host} port ${port} (${refused.join("; ")})`,
      address,
    };
  }

  // TLS: SNI is the policy host (STS-FETCH-03); 1.2 or newer; web-PKI chain and name (STS-FETCH-02).
  attempt.phase = `in the TLS handshake with ${address}`;
  const secured = await handshake(socket, host, options.ca, attempt);
  if ("failure" in secured) return { ...secured.failure, address };
  const tls = secured.tls;
  const describe = options.describeChain !== false || !tls.authorized;
  const peer = describe ? tls.getPeerCertificate(true) : undefined;
  if (!tls.authorized) {
    const certificate = peer?.raw ? summarizeCertificate(peer) : undefined;
    const certificateError = refineCode(String(tls.authorizationError ?? "UNSPECIFIED"), peer);
    return {
      ok: false,
      kind: "fetch.certificate",
      detail: `${describeCertificateError(certificateError, host, certificate)}: ${host} (${address}) (STS-FETCH-02)`,
      certificateError,
      ...(certificate ? { certificate } : {}),
      address,
    };
  }
  const tlsInfo = {
    version: tls.getProtocol() ?? "",
    cipher: tls.getCipher()?.standardName ?? tls.getCipher()?.name ?? "",
    chain: peer?.raw ? summarizeChain(peer) : [],
  };

  // HTTP: one GET, no redirects, no cache (STS-FETCH-04, -05), bounded size (STS-FETCH-07).
  attempt.phase = `waiting for the response headers from ${address}`;
  const answer = await get(tls, host, port, options.maxBytes ?? MAX_POLICY_BYTES, attempt);
  if (!answer.ok) return { ...answer, address };
  return {
    ok: true,
    url: "",
    address,
    body: answer.body,
    contentType: answer.contentType,
    ...(answer.charsetWarning ? { charsetWarning: answer.charsetWarning } : {}),
    tls: tlsInfo,
    elapsedMs: Math.max(0, now().getTime() - started),
  };
}

/** What `run` returns once the deadline has fired (the race has already been decided). */
const stoppedOutcome: Outcome = { ok: false, kind: "fetch.timeout", detail: "stopped" };

async function systemLookup(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true, order: "verbatim" });
  return found.map((a) => a.address);
}

function connectTcp(address: string, port: number, attempt: Attempt): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = attempt.track(tcpConnect({ host: address, port }));
    socket.on("error", reject); // later errors surface through the TLS socket
    socket.once("connect", () => resolve(socket));
    socket.once("close", () => reject(new Error("connection closed")));
  });
}

/** TLS 1.2+ with Node's roots plus any extra ones. */
function secureContext(extra: readonly string[] | undefined): SecureContext {
  return trustContext({ ca: extra, minVersion: "TLSv1.2" });
}

function handshake(
  socket: Socket,
  host: string,
  ca: readonly string[] | undefined,
  attempt: Attempt,
): Promise<{ tls: TLSSocket } | { failure: Omit<Failure, "url"> }> {
  return new Promise((resolve) => {
    const tls = attempt.track(
      tlsConnect({
        socket,
        servername: host,
        secureContext: secureContext(ca),
        // Verification results are read after the handshake, so the presented
        // certificate can be reported; nothing is sent unless `authorized`.
        rejectUnauthorized: false,
        checkServerIdentity: (name, cert) => {
          const names = dnsNamesOf(cert.subjectaltname);
          if (certificateNameMatches(name, names) !== null) return undefined;
          return Object.assign(
            new Error(`${name} is not among the certificate's ${names.length} names`),
            {
              code: "hostname-mismatch",
            },
          );
        },
      }),
    );
    tls.once("secureConnect", () => resolve({ tls }));
    tls.once("close", () =>
      resolve({
        failure: {
          ok: false,
          kind: "fetch.tls",
          detail: `${host} closed the connection during the TLS handshake`,
        },
      }),
    );
    // Before the handshake an error is a TLS failure; later ones reach the HTTP request.
    tls.on("error", (error: NodeJS.ErrnoException) => {
      tls.destroy();
      resolve({ failure: tlsFailure(error, host) });
    });
  });
}

function tlsFailure(error: NodeJS.ErrnoException, host: string): Omit<Failure, "url"> {
  const text = errorText(error);
  if (
    /protocol.version|unsupported.protocol|wrong.version/i.test(`${error.code} ${error.message}`)
  ) {
    return {
      ok: false,
      kind: "fetch.tls",
      detail: `${host} offers only TLS versions older than 1.2; MTA-STS needs TLS 1.2 or newer (STS-FETCH-03): ${text}`,
    };
  }
  if (/unrecognized.name/i.test(error.message)) {
    return {
      ok: false,
      kind: "fetch.tls",
      detail: `${host} refused the TLS handshake for this name (no certificate for SNI ${host}): ${text}`,
    };
  }
  return {
    ok: false,
    kind: "fetch.tls",
    detail: `The TLS handshake with ${host} failed: ${text}`,
  };
}

/** Node reports some OpenSSL codes as UNSPECIFIED; name the weak-key case. */
function refineCode(code: string, peer: PeerCertificate | undefined): string {
  if (code !== "UNSPECIFIED" || !peer?.raw) return code;
  try {
    const key = new X509Certificate(peer.raw).publicKey;
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType === "rsa" && bits !== undefined && bits < 2048) {
      return "EE_KEY_TOO_SMALL";
    }
  } catch {
    // keep UNSPECIFIED
  }
  return code;
}

type Answer =
  | { ok: true; body: Uint8Array; contentType: string; charsetWarning?: string }
  | Omit<Failure, "url" | "address">;

function get(
  tls: TLSSocket,
  host: string,
  port: number,
  maxBytes: number,
  attempt: Attempt,
): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      if (!answer.ok) tls.destroy();
      resolve(answer);
    };
    const req = request(
      {
        createConnection: () => tls,
        method: "GET",
        path: PATH,
        setHost: false,
        // No conditional or cache headers (STS-FETCH-05); identity encoding only.
        headers: {
          host: port === 443 ? host : `${host}:${port}`,
          "user-agent": "mtasts",
          accept: "text/plain",
          "accept-encoding": "identity",
          connection: "close",
        },
      },
      (res) => onResponse(res, maxBytes, attempt, finish),
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      const parse = String(error.code ?? "").startsWith("HPE_");
      finish({
        ok: false,
        kind: parse ? "fetch.status" : "fetch.connect",
        detail: parse
          ? `${host} sent a malformed HTTP response (${errorText(error)})`
          : `The connection to ${host} failed while ${attempt.phase} (${errorText(error)})`,
      });
    });
    req.end();
  });
}

function onResponse(
  res: IncomingMessage,
  maxBytes: number,
  attempt: Attempt,
  finish: (answer: Answer) => void,
): void {
  const status = res.statusCode ?? 0;
  // STS-FETCH-04: only 200 is a policy; a redirect is reported, never followed.
  if (status >= 300 && status < 400 && status !== 304) {
    const location = res.headers.location;
    finish({
      ok: false,
      kind: "fetch.redirect",
      detail: `HTTP ${status} redirect${location ? ` to ${location}` : ""}; MTA-STS senders must not follow redirects (STS-FETCH-04)`,
      status,
      ...(location ? { location } : {}),
    });
    return;
  }
  if (status !== 200) {
    finish({
      ok: false,
      kind: "fetch.status",
      detail:
        `HTTP ${status} ${res.statusMessage ?? ""}`.trimEnd() +
        "; only 200 yields a policy (STS-FETCH-04)",
      status,
    });
    return;
  }
  // STS-FETCH-06: text/plain, case-insensitive; an odd charset only warns.
  const contentType = res.headers["content-type"] ?? "";
  const media = mediaType(contentType);
  if (media.type !== "text/plain") {
    finish({
      ok: false,
      kind: "fetch.content-type",
      detail: contentType
        ? `Content-Type is "${contentType}"; the policy must be served as text/plain (STS-FETCH-06)`
        : "No Content-Type; the policy must be served as text/plain (STS-FETCH-06)",
      status,
    });
    return;
  }
  const encoding = (res.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    finish({
      ok: false,
      kind: "fetch.encoding",
      detail: `Content-Encoding "${encoding}" was sent although only identity was accepted`,
      status,
    });
    return;
  }
  // STS-FETCH-07: refuse an announced or actual body over the limit.
  const length = Number(res.headers["content-length"] ?? Number.NaN);
  const tooLarge = (what: string): Answer => ({
    ok: false,
    kind: "fetch.too-large",
    detail: `${what}; the limit is ${maxBytes} bytes (STS-FETCH-07)`,
    status,
  });
  if (length > maxBytes) {
    finish(tooLarge(`Content-Length is ${length}`));
    return;
  }
  attempt.phase = "reading the body";
  const chunks: Buffer[] = [];
  let size = 0;
  res.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) finish(tooLarge(`The body passed ${maxBytes} bytes`));
    else chunks.push(chunk);
  });
  res.on("error", () => undefined);
  res.on("close", () => {
    if (!res.complete) {
      finish({
        ok: false,
        kind: "fetch.connect",
        detail: `The connection closed after ${size} bytes, before the body was complete`,
        status,
      });
    }
  });
  res.on("end", () => {
    const body = new Uint8Array(Buffer.concat(chunks));
    // STS-FETCH-09: the body must be UTF-8, whatever the charset says.
    if (!isUtf8(body)) {
      finish({
        ok: false,
        kind: "fetch.encoding",
        detail: "The body is not valid UTF-8 (STS-FETCH-09)",
        status,
      });
    }
    const charset = media.charset;
    finish({
      ok: true,
      body,
      contentType,
      ...(charset !== undefined && charset !== "utf-8" && charset !== "us-ascii"
        ? {
            charsetWarning: `charset "${charset}" is ignored; the policy is read as UTF-8 (STS-FETCH-06)`,
          }
        : {}),
    });
  });
}

/** `type/subtype` lowercased, and the charset parameter if any (other parameters are ignored). */
function mediaType(header: string): { type: string; charset?: string } {
  const [type = "", ...params] = header.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    charset ??= param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
  }
  return { type: type.trim().toLowerCase(), ...(charset !== undefined ? { charset } : {}) };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error.message.split("\n")[0] ?? "";
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}
