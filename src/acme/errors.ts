// Turning what a CA says (an RFC 8555 §6.7 problem document) or what went
// wrong on the way to it into one sentence an operator can act on: what
// failed, for which name, the CA's own words, and what to check.

const ACME_ERROR = "urn:ietf:params:acme:error:";

/** `temporary`: retrying (after a fix) can help; `permanent`: the same request will fail again. */
export type AcmeErrorKind = "temporary" | "permanent";

export class AcmeError extends Error {
  override name = "AcmeError";
  /** The name the attempt was for. */
  readonly domain: string;
  readonly kind: AcmeErrorKind;
  /** The problem document's type, e.g. `urn:ietf:params:acme:error:connection`, when the CA sent one. */
  readonly problemType: string | undefined;
  readonly detail: string | undefined;
  constructor(
    message: string,
    fields: { domain: string; kind: AcmeErrorKind; problemType?: string; detail?: string },
  ) {
    super(message);
    this.domain = fields.domain;
    this.kind = fields.kind;
    this.problemType = fields.problemType;
    this.detail = fields.detail;
  }
}

export interface Problem {
  type?: string;
  detail?: string;
  subproblems?: Problem[];
}

const PERMANENT = new Set([
  "rejectedIdentifier",
  "unsupportedIdentifier",
  "badCSR",
  "malformed",
  "invalidContact",
  "unsupportedContact",
  "externalAccountRequired",
  "userActionRequired",
]);

/** Why a challenge failed, from the problem document on the failed challenge (or authorization). */
export function validationError(
  ca: string,
  domain: string,
  challenge: { type: string; token?: string },
  problem: Problem | undefined,
): AcmeError {
  const type = problem?.type ?? "";
  const short = type.startsWith(ACME_ERROR) ? type.slice(ACME_ERROR.length) : type;
  const detail = oneLine(problem?.detail ?? "no detail given");
  const target =
    challenge.type === "http-01"
      ? `http://${domain}/.well-known/acme-challenge/${challenge.token ?? ""}`
      : `${domain}:443 (TLS with ALPN acme-tls/1)`;
  const port = challenge.type === "http-01" ? 80 : 443;
  let what: string;
  let hint: string;
  switch (category(short, detail)) {
    case "connection":
      what = `${ca} could not reach ${target}`;
      hint = `is port ${port} of ${domain} forwarded to the mtasts host, and is mtasts listening there?`;
      break;
    case "dns":
      what = `${ca} could not resolve ${domain}`;
      hint = `publish an A or AAAA record for ${domain} that points at the mtasts host`;
      break;
    case "unauthorized":
    case "incorrectResponse":
      what = `${ca} reached ${target} but got the wrong answer`;
      hint =
        challenge.type === "http-01"
          ? `is another server (a proxy, nginx, a load balancer) answering port 80 of ${domain} instead of mtasts?`
          : `is another TLS server answering port 443 of ${domain} instead of mtasts?`;
      break;
    case "tls":
      what = `${ca} could not complete the TLS handshake with ${target}`;
      hint = `does port 443 of ${domain} reach mtasts directly (no TLS-terminating proxy in front)?`;
      break;
    case "caa":
      what = `a CAA record forbids ${ca} to issue for ${domain}`;
      hint = `add this CA to ${domain}'s CAA records, or remove them`;
      break;
    case "rejectedIdentifier":
    case "unsupportedIdentifier":
      what = `${ca} will not issue for ${domain}`;
      hint = "use a publicly resolvable name that this CA accepts";
      break;
    case "rateLimited":
      what = `${ca} rate-limited the request for ${domain}`;
      hint = "mtasts retries with backoff; see the CA's rate-limit documentation";
      break;
    default:
      what = `${ca} refused ${challenge.type} validation of ${domain}`;
      hint = "see the CA's detail above";
  }
  return new AcmeError(`${what}: ${detail} [${type || "no problem type"}] — ${hint}`, {
    domain,
    kind: PERMANENT.has(short) ? "permanent" : "temporary",
    problemType: problem?.type,
    detail: problem?.detail,
  });
}

/**
 * The problem type, corrected by the detail where CAs differ: pebble, for
 * one, reports an unresolvable name as `connection` and a refused TLS-ALPN-01
 * connection as `unauthorized`; the operator's fix follows the detail.
 */
function category(short: string, detail: string): string {
  if (
    /could not resolve|no such host|NXDOMAIN|SERVFAIL|DNS problem|no valid A records/i.test(detail)
  )
    return "dns";
  if (
    /failed to connect|connection refused|dial tcp|i\/o timeout|timeout during connect|no route to host/i.test(
      detail,
    )
  )
    return "connection";
  return short;
}

/** An error thrown on the way (network, acme-client, disk) as an AcmeError for `domain`. */
export function attemptError(error: unknown, domain: string, directoryUrl: string): AcmeError {
  if (error instanceof AcmeError) return error;
  const e = error as { code?: string; message?: string; response?: { status?: number } };
  const message = oneLine(e?.message ?? String(error));
  const network = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT"]);
  if (e?.code !== undefined && network.has(e.code))
    return new AcmeError(
      `could not reach the ACME server ${directoryUrl} while ordering for ${domain}: ${message} — check the directory URL and this host's outbound HTTPS`,
      { domain, kind: "temporary" },
    );
  if (e?.code === "ECONNABORTED")
    return new AcmeError(
      `the ACME server ${directoryUrl} did not answer in time while ordering for ${domain}: ${message}`,
      { domain, kind: "temporary" },
    );
  if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY/i.test(String(e?.code ?? message)))
    return new AcmeError(
      `the ACME server ${directoryUrl} presented a certificate this host does not trust (${message}) — for a private or test CA, pass its root as the ACME trust root`,
      { domain, kind: "temporary" },
    );
  return new AcmeError(`ordering a certificate for ${domain} failed: ${message}`, {
    domain,
    kind: "temporary",
  });
}

function oneLine(text: string): string {
  // Problem details come from the network: one bounded line in the log.
  return text.replace(/[\r\n\t]+/g, " ").slice(0, 500);
}
