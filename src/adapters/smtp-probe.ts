// Probes one MX the way an MTA-STS sender would (RFC 8461 §4, §7): connect,
// greeting, EHLO, STARTTLS, TLS ≥ 1.2 with SNI = the MX name (STS-CERT-01/02),
// and keeps the certificate chain and Node's verdict on it (STS-CERT-03). The
// name check (STS-CERT-04) is the caller's: it knows the policy's rules.
// Every server behaviour, however broken, ends in a result with a `failure`,
// never in a throw or a hang: lines, replies and the whole probe are bounded.

import { type Socket, connect as tcpConnect } from "node:net";
import { hostname as osHostname } from "node:os";
import { performance } from "node:perf_hooks";
import { type SecureContext, TLSSocket, connect as tlsConnect } from "node:tls";
import type { ResultType } from "../core/result-type.ts";
import { type CertSummary, summarizeChain } from "./certificate.ts";
import { ipFamily } from "./ip.ts";
import { trustContext } from "./tls-context.ts";

export interface SmtpProbeOptions {
  /** The MX name: sent as SNI (STS-CERT-02) and returned for the caller's name checks. */
  host: string;
  /** The IP address to connect to. */
  address: string;
  /** Default 25. */
  port?: number;
  /** For the whole probe, legacy-TLS retry included. Default 15 000. */
  timeoutMs?: number;
  /** Extra trusted roots (PEM), added to Node's bundled roots. */
  ca?: string[];
  /** Name to send in EHLO/HELO. Default: this machine's host name. */
  heloName?: string;
  /** SNI override, e.g. the TLSA base domain with DANE (STS-DANE-04). */
  servername?: string;
}

export type SmtpProbeStage = "connect" | "greeting" | "ehlo" | "starttls" | "tls";

export type SmtpProbeFailureKind =
  | "connect"
  | "timeout"
  /** 4xx/5xx greeting, or one that is not SMTP. */
  | "greeting"
  /** The server closed the connection before the probe was done. */
  | "closed"
  /** EHLO and HELO both refused, or the reply was not SMTP. */
  | "ehlo"
  | "no-starttls"
  | "starttls-refused"
  | "tls-handshake"
  /** TLS ≥ 1.2 failed but an older version works (see `legacyTlsOnly`). */
  | "tls-version";

export interface SmtpProbeTls {
  version: string;
  cipher: string;
  /** Leaf first. */
  chain: CertSummary[];
  /** The chain verifies to a trusted root (names are not checked here). */
  authorized: boolean;
  /** Node's code, e.g. CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  authorizationError?: string;
}

export interface SmtpProbeResult {
  host: string;
  address: string;
  port: number;
  /**
   * The last stage completed. A failed connect also says "connect": read
   * `failure` first.
   */
  reached: SmtpProbeStage;
  /** Greeting text without the reply codes, lines joined by "\n". */
  greeting?: string;
  /** The name the server gave in its EHLO (or HELO) reply. */
  ehloName?: string;
  /** EHLO keywords, upper-cased, without parameters ("SIZE 1000" → "SIZE"). */
  extensions: string[];
  /** STARTTLS was offered in EHLO. */
  starttls: boolean;
  tls?: SmtpProbeTls;
  /** Set when TLS ≥ 1.2 failed but the server negotiates this older version (e.g. "TLSv1"). */
  legacyTlsOnly?: string;
  failure?: {
    kind: SmtpProbeFailureKind;
    detail: string;
    /** The SMTP reply code or Node's error code, when there was one. */
    code?: string;
  };
  elapsedMs: number;
}

const MAX_LINE = 4096;
const MAX_REPLY = 64 * 1024;
/** Courtesy EHLO/QUIT after a finished handshake never holds the probe longer than this. */
const GOODBYE_MS = 2000;
const LEGACY_CIPHERS = "DEFAULT@SECLEVEL=0";

/** A probe step failed; caught in probeSmtp and turned into `failure`. */
class ProbeFailure extends Error {
  readonly kind: SmtpProbeFailureKind;
  readonly code: string | undefined;
  constructor(kind: SmtpProbeFailureKind, detail: string, code?: string) {
    super(detail);
    this.kind = kind;
    this.code = code;
  }
}

export async function probeSmtp(options: SmtpProbeOptions): Promise<SmtpProbeResult> {
  const started = performance.now();
  const port = options.port ?? 25;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const result: SmtpProbeResult = {
    host: options.host,
    address: options.address,
    port,
    reached: "connect",
    extensions: [],
    starttls: false,
    elapsedMs: 0,
  };
  const sockets = new Set<Socket>();
  let stage = "connecting";
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      destroyAll(sockets);
      reject(new ProbeFailure("timeout", `probe timed out after ${timeoutMs} ms, ${stage}`));
    }, timeoutMs);
  });
  deadline.catch(() => {});
  const run: Runner = {
    options,
    port,
    sockets,
    within: <T>(what: string, step: Promise<T>) => {
      stage = what;
      step.catch(() => {});
      return Promise.race([step, deadline]);
    },
  };

  try {
    const session = await openSession(run, result, { minVersion: "TLSv1.2" });
    if (session.ok) {
      await goodbye(session.channel, run);
    } else if (session.protocolError) {
      // STS-CERT-01: learn what the server does speak, to say so.
      const legacy = await openSession(run, undefined, {
        minVersion: "TLSv1",
        ciphers: LEGACY_CIPHERS,
      }).catch(() => undefined);
      if (legacy?.ok) {
        result.legacyTlsOnly = legacy.version;
        await goodbye(legacy.channel, run);
        throw new ProbeFailure(
          "tls-version",
          `the server negotiates only ${legacy.version}; TLS 1.2 or later is required`,
          session.error.code,
        );
      }
      throw session.error;
    } else {
      throw session.error;
    }
  } catch (error) {
    result.failure = failureOf(error);
  } finally {
    clearTimeout(timer);
    destroyAll(sockets);
    result.elapsedMs = Math.round(performance.now() - started);
  }
  return result;
}

interface Runner {
  options: SmtpProbeOptions;
  port: number;
  sockets: Set<Socket>;
  /** Waits for a step, bounded by the whole-probe deadline; `what` names it in a timeout. */
  within<T>(what: string, step: Promise<T>): Promise<T>;
}

type Session =
  | { ok: true; channel: Channel; version: string }
  | { ok: false; protocolError: boolean; error: ProbeFailure };

/**
 * One connection up to a finished handshake. Fills `result` as it goes (the
 * legacy retry passes none). Protocol failures before TLS throw; a handshake
 * failure is returned, so the caller can retry with older versions.
 */
async function openSession(
  run: Runner,
  result: SmtpProbeResult | undefined,
  tlsOptions: { minVersion: "TLSv1" | "TLSv1.2"; ciphers?: string },
): Promise<Session> {
  const { options } = run;
  const socket = await run.within("connecting", connectTcp(options.address, run.port, run.sockets));
  let channel = new Channel(socket);

  const greeting = await run.within("waiting for the greeting", channel.readReply("greeting"));
  if (greeting.code !== 220) {
    throw new ProbeFailure("greeting", `greeting refused: ${show(greeting)}`, `${greeting.code}`);
  }
  if (result) {
    result.reached = "greeting";
    result.greeting = greeting.lines.join("\n");
  }

  const heloName = options.heloName ?? osHostname();
  let ehlo = await run.within(
    "waiting for the EHLO reply",
    channel.command(`EHLO ${heloName}`, "ehlo"),
  );
  let extensions: string[] = [];
  if (ehlo.code === 250) {
    extensions = ehlo.lines.slice(1).map((line) => (line.split(" ")[0] ?? "").toUpperCase());
  } else if (ehlo.code >= 500 && ehlo.code < 600) {
    // RFC 5321 §3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
    ehlo = await run.within(
      "waiting for the HELO reply",
      channel.command(`HELO ${heloName}`, "ehlo"),
    );
  }
  if (ehlo.code !== 250) {
    throw new ProbeFailure("ehlo", `EHLO/HELO refused: ${show(ehlo)}`, `${ehlo.code}`);
  }
  const starttls = extensions.includes("STARTTLS");
  if (result) {
    result.reached = "ehlo";
    result.ehloName = (ehlo.lines[0] ?? "").split(" ")[0] ?? "";
    result.extensions = extensions;
    result.starttls = starttls;
  }
  if (!starttls) {
    await goodbye(channel, run);
    throw new ProbeFailure("no-starttls", "the server does not offer STARTTLS in its EHLO reply");
  }

  const ready = await run.within(
    "waiting for the STARTTLS reply",
    channel.command("STARTTLS", "starttls-refused"),
  );
  if (ready.code !== 220) {
    await goodbye(channel, run);
    throw new ProbeFailure("starttls-refused", `STARTTLS refused: ${show(ready)}`, `${ready.code}`);
  }
  if (result) result.reached = "starttls";

  // Anything the server sent after its 220 and before the handshake is dropped
  // unread (RFC 3207 §4.2: nothing from before TLS may be trusted after it).
  channel.detach();
  const servername = sniName(options.servername ?? options.host);
  let tls: TLSSocket;
  try {
    tls = await run.within(
      "in the TLS handshake",
      handshake(socket, {
        ...tlsOptions,
        ...(servername ? { servername } : {}),
        ...(options.ca ? { ca: options.ca } : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ProbeFailure) || error.kind !== "tls-handshake") throw error;
    return { ok: false, protocolError: isProtocolVersionError(error.code), error };
  }
  run.sockets.add(tls);
  const version = tls.getProtocol() ?? "unknown";
  if (result) {
    result.reached = "tls";
    const peer = tls.getPeerCertificate(true);
    result.tls = {
      version,
      cipher: tls.getCipher()?.name ?? "",
      chain: peer && Object.keys(peer).length > 0 ? summarizeChain(peer) : [],
      authorized: tls.authorized,
      ...(tls.authorizationError ? { authorizationError: String(tls.authorizationError) } : {}),
    };
  }
  channel = new Channel(tls);
  return { ok: true, channel, version };
}

/** EHLO again over TLS (as a sender would), then QUIT; failures here change nothing. */
async function goodbye(channel: Channel, run: Runner): Promise<void> {
  const heloName = run.options.heloName ?? osHostname();
  const politely = async () => {
    if (channel.encrypted) await channel.command(`EHLO ${heloName}`, "ehlo");
    await channel.command("QUIT", "closed");
  };
  let timer: NodeJS.Timeout | undefined;
  const enough = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, GOODBYE_MS);
  });
  await run.within("saying goodbye", Promise.race([politely(), enough])).catch(() => {});
  clearTimeout(timer);
  channel.close();
}

function connectTcp(address: string, port: number, sockets: Set<Socket>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // Name resolution is the DNS adapter's job; connecting to a name would hide a lookup here.
    if (ipFamily(address) === 0) {
      reject(new ProbeFailure("connect", `not an IP address: "${printable(address)}"`));
      return;
    }
    const socket = tcpConnect({ host: address, port });
    sockets.add(socket);
    socket.on("error", () => {}); // reported through the promises below
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        new ProbeFailure("connect", `connect to ${address}:${port}: ${error.message}`, error.code),
      );
    socket.once("error", onError);
  });
}

function secureContext(
  ca: readonly string[] | undefined,
  minVersion: "TLSv1" | "TLSv1.2",
  ciphers?: string,
): SecureContext {
  return trustContext({ ca, minVersion, ciphers });
}

function handshake(
  socket: Socket,
  options: {
    minVersion: "TLSv1" | "TLSv1.2";
    ciphers?: string;
    servername?: string;
    ca?: string[];
  },
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const { ca, minVersion, ciphers, servername } = options;
    const tls = tlsConnect({
      socket,
      // Record the verdict instead of failing, so a bad certificate is still examined.
      rejectUnauthorized: false,
      // `authorized` is about the chain only: the caller checks names by STS-CERT-04
      // (no CN fallback, stricter wildcards) or DANE rules, not Node's.
      checkServerIdentity: () => undefined,
      secureContext: secureContext(ca, minVersion, ciphers),
      ...(servername ? { servername } : {}),
    });
    tls.on("error", () => {});
    tls.once("secureConnect", () => {
      tls.off("error", onError);
      resolve(tls);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      tls.destroy();
      reject(
        new ProbeFailure("tls-handshake", `TLS handshake failed: ${error.message}`, error.code),
      );
    };
    tls.once("error", onError);
  });
}

/** OpenSSL's ways of saying "no TLS version in common" (either side may notice first). */
function isProtocolVersionError(code: string | undefined): boolean {
  return (
    code !== undefined &&
    /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW/.test(code)
  );
}

/** SNI carries a host name without the root dot, never an IP literal (RFC 6066 §3). */
function sniName(name: string): string | undefined {
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  return bare && ipFamily(bare) === 0 ? bare : undefined;
}

/**
 * Outermost first: the TLS socket before the TCP socket under it. Node 24
 * crashes (SIGSEGV in SSL_read, on a later connection) when a TCP socket is
 * destroyed before the TLS socket wrapping it.
 */
function destroyAll(sockets: Set<Socket>): void {
  for (const socket of [...sockets].reverse()) socket.destroy();
}

function failureOf(error: unknown): NonNullable<SmtpProbeResult["failure"]> {
  if (error instanceof ProbeFailure) {
    return { kind: error.kind, detail: error.message, ...(error.code ? { code: error.code } : {}) };
  }
  // Not expected: a bug here must still not hang or throw at the caller.
  return { kind: "closed", detail: `probe aborted: ${String(error)}` };
}

interface Reply {
  code: number;
  /** Text of each line, after the code and separator. */
  lines: string[];
}

function show(reply: Reply): string {
  return `${reply.code} ${printable(reply.lines.join(" / "))}`;
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/**
 * SMTP replies read from one socket. Lines end in LF (CR optional); a line
 * longer than MAX_LINE, a reply longer than MAX_REPLY, a line that is not a
 * reply, or a close all reject the pending read with a ProbeFailure.
 */
class Channel {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #lines: string[] = [];
  #queued = 0;
  #problem: { kind: "closed" | "too-long"; detail: string } | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", this.#onData);
    socket.on("end", this.#onClose);
    socket.on("close", this.#onClose);
    socket.on("error", this.#onError);
  }

  get encrypted(): boolean {
    return this.#socket instanceof TLSSocket;
  }

  async command(line: string, kind: SmtpProbeFailureKind): Promise<Reply> {
    if (this.#problem?.kind === "closed" || this.#socket.destroyed) {
      throw new ProbeFailure("closed", "the server closed the connection");
    }
    this.#socket.write(`${line}\r\n`);
    return this.readReply(kind);
  }

  /** Reads one (possibly multi-line) reply; protocol errors take `kind`. */
  async readReply(kind: SmtpProbeFailureKind): Promise<Reply> {
    const lines: string[] = [];
    let bytes = 0;
    for (;;) {
      const line = await this.#nextLine(kind);
      bytes += line.length + 2;
      if (bytes > MAX_REPLY) throw new ProbeFailure(kind, `reply longer than ${MAX_REPLY} bytes`);
      const match = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
      if (!match) throw new ProbeFailure(kind, `not an SMTP reply: "${printable(line)}"`);
      lines.push(match[3] ?? "");
      if (match[2] !== "-") return { code: Number(match[1]), lines };
    }
  }

  /** Stops reading this socket and drops what was buffered (before STARTTLS). */
  detach(): void {
    this.#socket.off("data", this.#onData);
    this.#socket.off("end", this.#onClose);
    this.#socket.off("close", this.#onClose);
    this.#socket.off("error", this.#onError);
    this.#socket.on("error", () => {});
    this.#buffer = Buffer.alloc(0);
    this.#lines = [];
  }

  close(): void {
    this.#socket.destroy();
  }

  async #nextLine(kind: SmtpProbeFailureKind): Promise<string> {
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        this.#queued -= line.length;
        return line;
      }
      if (this.#problem) {
        throw new ProbeFailure(
          this.#problem.kind === "closed" ? "closed" : kind,
          this.#problem.detail,
        );
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(kind: "closed" | "too-long", detail: string): void {
    this.#problem ??= { kind, detail };
    if (kind === "too-long") this.#socket.destroy();
    this.#notify();
  }

  #onData = (chunk: Buffer): void => {
    if (this.#problem) return;
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    let tooLong = false;
    for (;;) {
      const nl = this.#buffer.indexOf(10);
      if (nl < 0) break;
      const line = this.#buffer.subarray(0, nl).toString("latin1").replace(/\r$/, "");
      this.#buffer = this.#buffer.subarray(nl + 1);
      if (line.length > MAX_LINE) {
        tooLong = true;
        break;
      }
      this.#lines.push(line);
      this.#queued += line.length;
    }
    if (tooLong || this.#buffer.length > MAX_LINE) {
      this.#fail("too-long", `reply line longer than ${MAX_LINE} bytes`);
    } else if (this.#queued > MAX_REPLY) {
      this.#fail("too-long", `more than ${MAX_REPLY} bytes unread`);
    } else {
      this.#notify();
    }
  };

  #onClose = (): void => this.#fail("closed", "the server closed the connection");

  #onError = (error: NodeJS.ErrnoException): void =>
    this.#fail("closed", `connection lost: ${error.code ?? error.message}`);
}

/**
 * The RFC 8460 result type for a probe's TLS outcome (RPT-GEN-06), or null when
 * there is nothing TLS-specific to report: the handshake succeeded with a
 * trusted chain, or the session ended before STARTTLS was tried (connect,
 * greeting, EHLO). The certificate name (certificate-host-mismatch) is checked
 * by the caller.
 */
export function tlsFailureResultType(
  result: SmtpProbeResult,
): { resultType: ResultType; reason?: string } | null {
  const failure = result.failure;
  if (failure) {
    switch (failure.kind) {
      case "no-starttls":
        return { resultType: "starttls-not-supported" };
      case "starttls-refused":
        return { resultType: "starttls-not-supported", reason: "starttls-refused" };
      case "tls-version":
        return { resultType: "validation-failure", reason: "unsupported-tls-version" };
      case "tls-handshake":
        return { resultType: "validation-failure", reason: failure.code ?? "tls-handshake" };
      case "timeout":
      case "closed":
        return result.reached === "starttls"
          ? { resultType: "validation-failure", reason: `tls-${failure.kind}` }
          : null;
      default:
        return null;
    }
  }
  if (!result.tls || result.tls.authorized) return null;
  const code = result.tls.authorizationError ?? "UNKNOWN";
  if (code === "CERT_HAS_EXPIRED") return { resultType: "certificate-expired" };
  if (UNTRUSTED.has(code)) return { resultType: "certificate-not-trusted", reason: code };
  return { resultType: "validation-failure", reason: code };
}

/** Node/OpenSSL verification codes that mean "no path to a trusted root". */
const UNTRUSTED: ReadonlySet<string> = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
  "CERT_CHAIN_TOO_LONG",
  "PATH_LENGTH_EXCEEDED",
  "CERT_REVOKED",
]);
