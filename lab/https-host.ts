// One HTTPS server for every policy host of a lab scenario, on one loopback
// address and port. It reads the SNI from the ClientHello itself, so each
// host can have its own certificate and its own TLS versions (a server-side
// SNI callback runs only after the protocol version is already chosen), and
// each can carry a named fault. Hosts that play by the rules do what
// STS-OPS-04 asks: the right chain or an aborted handshake, `text/plain`, no
// redirects, within the size limit.

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import type { IssuedCert } from "./ca.ts";

export type HttpsFault =
  | "404"
  | "500"
  /** 301 to another URL (on the same host) that serves the valid policy. */
  | "redirect"
  | "content-type-html"
  | "no-content-type"
  | "charset-latin1"
  /** A body over 64 KiB, announced by Content-Length. */
  | "oversize"
  /** A body over 64 KiB, chunked, with no Content-Length. */
  | "oversize-chunked"
  /** Headers and part of the body, then nothing. */
  | "slow-body"
  /** Completes TLS, reads the request, never answers. */
  | "slow-headers"
  /** Offers only TLS 1.0 and 1.1. */
  | "tls-1.0";

export interface PolicySite {
  /** null: no certificate for this SNI, so the handshake is aborted (STS-OPS-04). */
  cert: IssuedCert | null;
  /** The policy text; default: a valid `enforce` policy naming `mx.<domain>`. */
  body?: string | Uint8Array;
  fault?: HttpsFault;
  /** Extra response headers for the policy (e.g. `cache-control`, or a content-type to try). */
  headers?: Record<string, string>;
}

export interface PolicyRequest {
  /** The Host header as sent. */
  host: string;
  path: string;
  /** The SNI the TLS connection carried. */
  sni: string;
  /** All request headers, names lowercased. */
  headers: Record<string, string | string[] | undefined>;
}

export interface PolicyHost {
  address: string;
  port: number;
  /** Every HTTP request served, in order. */
  requests: PolicyRequest[];
  /** The SNI of every ClientHello, including refused ones (null: none sent). */
  handshakes: { sni: string | null }[];
  setSites(sites: Record<string, PolicySite>): void;
  /** Stops listening and destroys every open connection, slow ones included. */
  close(): Promise<void>;
}

export const POLICY_PATH = "/.well-known/mta-sts.txt";
/** Where the `redirect` fault points: serves the site's policy with no fault. */
export const MOVED_PATH = "/moved/mta-sts.txt";
const OVERSIZE_BYTES = 70_000;

export async function startPolicyHost(options: {
  address?: string;
  port?: number;
  sites: Record<string, PolicySite>;
}): Promise<PolicyHost> {
  let sites = lowerKeys(options.sites);
  const requests: PolicyRequest[] = [];
  const handshakes: { sni: string | null }[] = [];
  const open = new Set<Socket>();
  const contexts = new WeakMap<IssuedCert, Map<boolean, SecureContext>>();

  const contextFor = (cert: IssuedCert, legacy: boolean): SecureContext => {
    let byVersion = contexts.get(cert);
    if (!byVersion) {
      byVersion = new Map();
      contexts.set(cert, byVersion);
    }
    let ctx = byVersion.get(legacy);
    if (!ctx) {
      ctx = secureContext(cert, legacy);
      byVersion.set(legacy, ctx);
    }
    return ctx;
  };

  const http = createHttpServer((req, res) => {
    const sni = (req.socket as TLSSocket).servername || "";
    const path = req.url ?? "/";
    requests.push({ host: req.headers.host ?? "", path, sni, headers: { ...req.headers } });
    const site = sites.get(sni);
    if (site) respond(sni, site, req, res);
    else send(res, 421, "text/plain; charset=utf-8", "no site for this name\n");
  });

  const tcp = createTcpServer((socket) => {
    open.add(socket);
    let tls: TLSSocket | undefined;
    socket.on("close", () => open.delete(socket));
    socket.on("error", () => {
      tls?.destroy(); // always before the TCP socket under it
      socket.destroy();
    });
    readClientHello(socket, (sni) => {
      handshakes.push({ sni });
      const site = sni === null ? undefined : sites.get(sni);
      if (!site?.cert) {
        // No certificate for this name: abort with unrecognized_name (RFC 6066 §3).
        socket.end(Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70));
        return;
      }
      const secure = new TLSSocket(socket, {
        isServer: true,
        secureContext: contextFor(site.cert, site.fault === "tls-1.0"),
      });
      tls = secure;
      open.add(secure);
      secure.on("close", () => open.delete(secure));
      secure.on("error", () => {
        secure.destroy();
        socket.destroy();
      });
      secure.once("secure", () => http.emit("connection", secure));
    });
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port ?? 0, options.address ?? "127.0.0.1", () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const bound = tcp.address();
  if (bound === null || typeof bound === "string") throw new Error("policy host: no TCP address");

  return {
    address: bound.address,
    port: bound.port,
    requests,
    handshakes,
    setSites(next) {
      sites = lowerKeys(next);
    },
    close() {
      return new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        // TLS sockets before the TCP sockets under them (the other order crashes Node 24).
        for (const socket of [...open].reverse()) socket.destroy();
        open.clear();
      });
    },
  };
}

function respond(sni: string, site: PolicySite, req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? "/";
  const body = toBytes(site.body ?? defaultPolicy(sni));
  const plain = "text/plain; charset=utf-8";
  for (const [name, value] of Object.entries(site.headers ?? {})) res.setHeader(name, value);
  if (path === MOVED_PATH) {
    send(res, 200, plain, body);
    return;
  }
  if (path !== POLICY_PATH) {
    send(res, 404, plain, "not found\n");
    return;
  }
  switch (site.fault) {
    case "slow-headers":
      break; // never answer; close() destroys the socket
    case "404":
      send(res, 404, plain, "not found\n");
      break;
    case "500":
      send(res, 500, plain, "internal server error\n");
      break;
    case "redirect":
      res.setHeader("location", `https://${req.headers.host ?? sni}${MOVED_PATH}`);
      send(res, 301, plain, "moved\n");
      break;
    case "content-type-html":
      send(res, 200, "text/html; charset=utf-8", body);
      break;
    case "no-content-type":
      send(res, 200, null, body);
      break;
    case "charset-latin1":
      send(res, 200, "text/plain; charset=iso-8859-1", body);
      break;
    case "oversize":
      send(res, 200, plain, pad(body));
      break;
    case "oversize-chunked": {
      res.writeHead(200, { "content-type": plain });
      const big = pad(body);
      for (let at = 0; at < big.length; at += 8192) res.write(big.subarray(at, at + 8192));
      res.end();
      break;
    }
    case "slow-body":
      res.writeHead(200, { "content-type": plain, "content-length": String(body.length) });
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      break; // the rest never comes
    default:
      send(res, 200, plain, body);
      break;
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string | null,
  body: string | Uint8Array,
): void {
  const bytes = toBytes(body);
  res.setHeader("content-length", String(bytes.length));
  // A content-type set by the site's own headers wins.
  if (contentType !== null && !res.hasHeader("content-type")) {
    res.setHeader("content-type", contentType);
  }
  res.writeHead(status);
  res.end(bytes);
}

/** The policy served when a site gives no body: valid, `enforce`, MX `mx.<domain>`. */
export function defaultPolicy(policyHost: string): string {
  const domain = policyHost.replace(/^mta-sts\./, "");
  return `version: STSv1\nmode: enforce\nmx: mx.${domain}\nmax_age: 86400\n`;
}

function pad(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(OVERSIZE_BYTES, body.length + 1));
  out.fill(0x61); // "a"
  out.set(body);
  return out;
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === "string" ? new TextEncoder().encode(body) : body;
}

function lowerKeys(sites: Record<string, PolicySite>): Map<string, PolicySite> {
  return new Map(Object.entries(sites).map(([name, site]) => [name.toLowerCase(), site]));
}

function secureContext(cert: IssuedCert, legacy: boolean): SecureContext {
  const base = {
    key: cert.keyPem,
    cert: cert.chainPem,
    ...(legacy
      ? { minVersion: "TLSv1" as const, maxVersion: "TLSv1.1" as const }
      : { minVersion: "TLSv1.2" as const }),
  };
  // TLS 1.0/1.1 and deliberately weak keys are only possible at security level 0.
  if (legacy) return createSecureContext({ ...base, ciphers: "DEFAULT@SECLEVEL=0" });
  try {
    return createSecureContext(base);
  } catch (error) {
    if (!/key too small/i.test(String(error))) throw error;
    return createSecureContext({ ...base, ciphers: "DEFAULT@SECLEVEL=0" });
  }
}

/**
 * Reads the first TLS record (the ClientHello), finds the SNI host name, then
 * puts the bytes back so a TLSSocket can take the connection from the start.
 */
function readClientHello(socket: Socket, then: (sni: string | null) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < 5) return;
    const length = buffered.readUInt16BE(3);
    if (buffered[0] !== 0x16 || length > 18_432) {
      socket.destroy(); // not a TLS handshake
      return;
    }
    if (buffered.length < 5 + length) return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(buffered);
    then(serverName(buffered.subarray(5, 5 + length)));
  };
  socket.on("data", onData);
}

/** The host_name from the server_name extension of a ClientHello handshake message (RFC 6066 §3). */
export function serverName(hello: Uint8Array): string | null {
  const b = Buffer.from(hello.buffer, hello.byteOffset, hello.byteLength);
  try {
    if (b[0] !== 0x01) return null; // not a ClientHello
    let at = 4 + 2 + 32; // handshake header, client_version, random
    at += 1 + b.readUInt8(at); // session_id
    at += 2 + b.readUInt16BE(at); // cipher_suites
    at += 1 + b.readUInt8(at); // compression_methods
    const end = Math.min(b.length, at + 2 + b.readUInt16BE(at));
    at += 2;
    while (at + 4 <= end) {
      const type = b.readUInt16BE(at);
      const size = b.readUInt16BE(at + 2);
      at += 4;
      if (type === 0) {
        let p = at + 2; // server_name_list length
        while (p + 3 <= at + size) {
          const nameType = b.readUInt8(p);
          const nameLength = b.readUInt16BE(p + 1);
          if (nameType === 0) return b.toString("ascii", p + 3, p + 3 + nameLength).toLowerCase();
          p += 3 + nameLength;
        }
        return null;
      }
      at += size;
    }
  } catch {
    return null; // truncated: treat as no SNI
  }
  return null;
}
