// Our stub resolver: one question at a time over UDP, TCP when the answer is
// truncated, against servers the caller names (the lab's, or resolv.conf's).
// It reports what DNS said, keeping NXDOMAIN, NODATA, SERVFAIL, REFUSED and
// silence apart (STS-REC-12), follows CNAME chains (STS-REC-02) and carries
// the AD bit through so DANE can tell validated data (STS-DANE-01/02).
// Never throws: every failure is a value, and every call ends within
// attempts × timeoutMs.

import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { type Answer, decode, encode } from "dns-packet";
import { ipFamily } from "./ip.ts";

export interface DnsServerAddress {
  host: string;
  port: number;
}

export type DnsAnswer<T> =
  | {
      kind: "answer";
      records: T[];
      /** The AD bit was set on every response along the chain. */
      authenticated: boolean;
      /** The CNAME targets followed, in order (empty when the name was no alias). */
      cnames: string[];
      /** The smallest TTL of the records and the CNAMEs that led to them. */
      ttl: number;
    }
  | { kind: "nxdomain"; authenticated: boolean; cnames: string[] }
  | { kind: "nodata"; authenticated: boolean; cnames: string[] }
  | { kind: "servfail" }
  | { kind: "refused" }
  | { kind: "timeout" }
  | { kind: "error"; message: string };

export interface MxRecord {
  preference: number;
  /** Lowercase, no trailing dot; a null MX (RFC 7505) is ".". */
  exchange: string;
}

export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Uint8Array;
}

export interface Resolver {
  /** Each RR's character-strings joined with no separator (STS-REC-03). */
  txt(name: string): Promise<DnsAnswer<string>>;
  mx(name: string): Promise<DnsAnswer<MxRecord>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  tlsa(name: string): Promise<DnsAnswer<TlsaRecord>>;
}

export interface ResolverOptions {
  /** Tried in order; resolv.conf's nameservers by default. */
  servers?: DnsServerAddress[];
  /** Per try, 5000 by default. */
  timeoutMs?: number;
  /** Rounds over the server list, 2 by default. */
  attempts?: number;
}

/** STS-REC-02: a chain of more than 8 CNAMEs is a DNS error. */
export const MAX_CNAME_HOPS = 8;
const EDNS_UDP_SIZE = 1232;
const FLAG_RD = 1 << 8;
const FLAG_AD = 1 << 5;
const FLAG_TC = 1 << 9;
const DNSSEC_OK = 1 << 15;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

type Failure = Extract<DnsAnswer<never>, { kind: "servfail" | "refused" | "timeout" | "error" }>;
interface Reply {
  kind: "reply";
  rcode: number;
  ad: boolean;
  answers: Answer[];
}
type RecordPicker<T> = (rr: Answer) => T | null;

export function createResolver(options: ResolverOptions = {}): Resolver {
  const ctx: Context = {
    servers: options.servers ?? systemServers(),
    timeoutMs: Math.max(1, options.timeoutMs ?? 5000),
    attempts: Math.max(1, Math.floor(options.attempts ?? 2)),
  };
  return {
    txt: (name) => resolve(ctx, name, "TXT", (rr) => (rr.type === "TXT" ? joinTxt(rr.data) : null)),
    mx: (name) =>
      resolve(ctx, name, "MX", (rr) =>
        rr.type === "MX"
          ? { preference: rr.data.preference ?? 0, exchange: normalizeName(rr.data.exchange) }
          : null,
      ),
    a: (name) => resolve(ctx, name, "A", (rr) => (rr.type === "A" ? rr.data : null)),
    aaaa: (name) => resolve(ctx, name, "AAAA", (rr) => (rr.type === "AAAA" ? rr.data : null)),
    tlsa: (name) =>
      resolve(ctx, name, "TLSA", (rr) =>
        rr.type === "TLSA"
          ? {
              usage: rr.data.usage,
              selector: rr.data.selector,
              matchingType: rr.data.matchingType,
              data: new Uint8Array(rr.data.certificate),
            }
          : null,
      ),
  };
}

interface Context {
  servers: DnsServerAddress[];
  timeoutMs: number;
  attempts: number;
}

/** STS-REC-02: follow the CNAMEs in each answer; re-query where a chain ends without data. */
async function resolve<T>(
  ctx: Context,
  qname: string,
  type: string,
  pick: RecordPicker<T>,
): Promise<DnsAnswer<T>> {
  const deadline = performance.now() + ctx.attempts * ctx.timeoutMs;
  let name = normalizeName(qname);
  if (!validName(name)) return { kind: "error", message: `Not a valid DNS name: "${qname}"` };
  const cnames: string[] = [];
  let authenticated = true;
  let ttl = Number.POSITIVE_INFINITY;
  for (;;) {
    const reply = await exchange(ctx, name, type, deadline);
    if (reply.kind !== "reply") return reply;
    authenticated &&= reply.ad;
    let current = name;
    for (;;) {
      const alias = reply.answers.find((rr) => rr.type === "CNAME" && sameName(rr.name, current));
      if (alias?.type !== "CNAME") break;
      const target = normalizeName(alias.data);
      const chain = [normalizeName(qname), ...cnames, target];
      if (target === normalizeName(qname) || cnames.includes(target)) {
        return { kind: "error", message: `CNAME loop: ${chain.join(" → ")}` };
      }
      if (cnames.length >= MAX_CNAME_HOPS) {
        return {
          kind: "error",
          message: `CNAME chain longer than ${MAX_CNAME_HOPS} hops: ${chain.join(" → ")}`,
        };
      }
      cnames.push(target);
      ttl = Math.min(ttl, alias.ttl ?? 0);
      current = target;
    }
    const records: T[] = [];
    for (const rr of reply.answers) {
      if (rr.type !== type || !sameName(rr.name, current)) continue;
      const value = pick(rr);
      if (value === null) continue;
      records.push(value);
      ttl = Math.min(ttl, "ttl" in rr ? (rr.ttl ?? 0) : 0);
    }
    if (records.length > 0) return { kind: "answer", records, authenticated, cnames, ttl };
    // RFC 6604: with a chain in the answer, the rcode speaks for its last name.
    if (reply.rcode === 3) return { kind: "nxdomain", authenticated, cnames };
    if (current === name) return { kind: "nodata", authenticated, cnames };
    name = current; // the server stopped before the chain's end: ask about the target
  }
}

/** Tries the servers in order, for `attempts` rounds, within the call's deadline. */
async function exchange(
  ctx: Context,
  name: string,
  type: string,
  deadline: number,
): Promise<Reply | Failure> {
  if (ctx.servers.length === 0) return { kind: "error", message: "No DNS servers configured" };
  let failure: Failure | null = null;
  for (let round = 0; round < ctx.attempts; round++) {
    for (const server of ctx.servers) {
      const left = deadline - performance.now();
      if (left <= 0) return failure ?? { kind: "timeout" };
      const outcome = await ask(server, name, type, Math.min(ctx.timeoutMs, left));
      if (outcome.kind === "reply") {
        if (outcome.rcode === 0 || outcome.rcode === 3) return outcome;
        failure =
          outcome.rcode === 2
            ? { kind: "servfail" }
            : outcome.rcode === 5
              ? { kind: "refused" }
              : {
                  kind: "error",
                  message: `${where(server)} answered ${RCODE_NAMES[outcome.rcode] ?? `rcode ${outcome.rcode}`}`,
                };
      } else if (outcome.kind === "error" || failure === null) {
        // What a server said outranks silence: a timeout never hides an earlier failure.
        failure = outcome;
      }
    }
  }
  return failure ?? { kind: "timeout" };
}

/** One try against one server: UDP, then TCP if the UDP answer came back truncated. */
async function ask(
  server: DnsServerAddress,
  name: string,
  type: string,
  budgetMs: number,
): Promise<Reply | Failure> {
  const started = performance.now();
  const udp = await transact(server, "udp", name, type, budgetMs);
  if (udp.kind !== "truncated") return udp;
  const left = budgetMs - (performance.now() - started);
  if (left <= 0) return { kind: "timeout" };
  const tcp = await transact(server, "tcp", name, type, left);
  return tcp.kind === "truncated"
    ? { kind: "error", message: `${where(server)} sent a truncated answer over TCP` }
    : tcp;
}

type Heard = Reply | { kind: "truncated" } | { kind: "malformed" } | { kind: "foreign" };

/**
 * Sends one query and waits for its answer. Packets that are not the answer to
 * this query (wrong id, wrong question) are ignored, as RFC 5452 asks.
 */
function transact(
  server: DnsServerAddress,
  transport: "udp" | "tcp",
  name: string,
  type: string,
  timeoutMs: number,
): Promise<Reply | Failure | { kind: "truncated" }> {
  const id = randomInt(0x10000);
  const query = encode({
    type: "query",
    id,
    // RFC 6840 §5.7: AD in a query asks the server to say whether the data validated.
    flags: FLAG_RD | FLAG_AD,
    questions: [{ type: type as "TXT", name, class: "IN" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: EDNS_UDP_SIZE,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
  return new Promise((settle) => {
    let malformed = 0;
    let done = false;
    let close = () => {};
    const finish = (outcome: Reply | Failure | { kind: "truncated" }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      settle(outcome);
    };
    const silence = (): Failure =>
      malformed > 0
        ? { kind: "error", message: `${where(server)} sent ${malformed} malformed response(s)` }
        : { kind: "timeout" };
    const timer = setTimeout(() => finish(silence()), timeoutMs);
    const fail = (e: Error) => finish({ kind: "error", message: `${where(server)}: ${e.message}` });
    const onPacket = (bytes: Buffer) => {
      const heard = interpret(bytes, id, name, type);
      if (heard.kind === "malformed") malformed++;
      else if (heard.kind !== "foreign") finish(heard);
    };
    // An IP literal only: a host name here would mean a lookup outside this resolver.
    if (!ipFamily(server.host)) return fail(new Error("not an IP address"));
    try {
      close =
        transport === "udp"
          ? sendUdp(server, query, onPacket, fail)
          : sendTcp(server, query, onPacket, fail, () =>
              finish(malformed > 0 ? silence() : closedEarly(server)),
            );
    } catch (e) {
      fail(e as Error); // e.g. a port out of range
    }
  });
}

/** Returns the function that closes the socket. */
function sendUdp(
  server: DnsServerAddress,
  query: Buffer,
  onPacket: (bytes: Buffer) => void,
  fail: (e: Error) => void,
): () => void {
  const socket = createSocket(ipFamily(server.host) === 6 ? "udp6" : "udp4");
  socket.on("error", fail);
  socket.on("message", onPacket);
  // Connected: the kernel drops datagrams from any other address or port.
  socket.connect(server.port, server.host, () => {
    socket.send(query, (e) => e && fail(e));
  });
  return () => {
    try {
      socket.close();
    } catch {}
  };
}

/** RFC 7766 framing: a 2-byte length before each message. Returns the closer. */
function sendTcp(
  server: DnsServerAddress,
  query: Buffer,
  onPacket: (bytes: Buffer) => void,
  fail: (e: Error) => void,
  onClose: () => void,
): () => void {
  const socket = connect({ host: server.host, port: server.port });
  const frame = Buffer.alloc(2 + query.length);
  frame.writeUInt16BE(query.length, 0);
  query.copy(frame, 2);
  let pending = Buffer.alloc(0);
  socket.on("connect", () => socket.write(frame));
  socket.on("error", fail);
  socket.on("close", onClose);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const length = pending.readUInt16BE(0);
      const message = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      onPacket(message);
      if (socket.destroyed) return;
    }
  });
  return () => socket.destroy();
}

function closedEarly(server: DnsServerAddress): Failure {
  return { kind: "error", message: `${where(server)} closed the TCP connection without answering` };
}

function interpret(bytes: Buffer, id: number, name: string, type: string): Heard {
  if (bytes.length < 12) return { kind: "malformed" };
  const flags = bytes.readUInt16BE(2);
  const ours = bytes.readUInt16BE(0) === id && (flags & 0x8000) !== 0;
  let packet: ReturnType<typeof decode>;
  try {
    packet = decode(bytes);
  } catch {
    // A truncated answer may be cut anywhere; TCP will tell the whole story.
    return ours && flags & FLAG_TC ? { kind: "truncated" } : { kind: "malformed" };
  }
  if (!ours) return { kind: "foreign" };
  const rcode = flags & 0xf;
  const questions = packet.questions ?? [];
  const question = questions[0];
  const matches =
    questions.length === 1 &&
    question !== undefined &&
    sameName(question.name, name) &&
    question.type === type;
  // Some servers drop the question from an error response; that much we accept.
  if (!matches && !(questions.length === 0 && rcode !== 0 && rcode !== 3)) {
    return { kind: "foreign" };
  }
  if (flags & FLAG_TC) return { kind: "truncated" };
  return { kind: "reply", rcode, ad: (flags & FLAG_AD) !== 0, answers: packet.answers ?? [] };
}

/** STS-REC-03: one RR's character-strings are one value, joined with no separator. */
function joinTxt(data: string | Buffer | (string | Buffer)[]): string {
  const parts = Array.isArray(data) ? data : [data];
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p))).toString(
    "utf8",
  );
}

function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.length > 1 && n.endsWith(".") ? n.slice(0, -1) : n;
}

const sameName = (a: string, b: string) => normalizeName(a) === normalizeName(b);

function validName(name: string): boolean {
  if (name.length === 0 || name === "." || Buffer.byteLength(name) > 253) return false;
  return name.split(".").every((l) => l.length > 0 && Buffer.byteLength(l) <= 63);
}

const where = (s: DnsServerAddress) =>
  ipFamily(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;

/**
 * A host's IPv4 then IPv6 addresses from `resolver`: the `lookup` a policy
 * fetch uses, so the DNS servers that gave the TXT record also locate the host.
 */
export async function addressesOf(resolver: Resolver, host: string): Promise<string[]> {
  const [a, aaaa] = await Promise.all([resolver.a(host), resolver.aaaa(host)]);
  return [
    ...(a.kind === "answer" ? a.records : []),
    ...(aaaa.kind === "answer" ? aaaa.records : []),
  ];
}

/** "HOST:PORT", "[V6]:PORT", or a bare address (port 53). Hosts are IP literals only. */
export function parseServerAddress(s: string): DnsServerAddress | null {
  const text = s.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1] as string;
    return ipFamily(host) === 6 ? withPort(host, bracketed[2]) : null;
  }
  // IPv4:PORT before the bare-address test, so the common case never pays
  // for the IPv6 pattern (see ip.ts).
  const hostPort = /^([^:]+):(\d{1,5})$/.exec(text);
  if (hostPort) {
    return ipFamily(hostPort[1] as string) === 4
      ? withPort(hostPort[1] as string, hostPort[2])
      : null;
  }
  return ipFamily(text) ? { host: text, port: 53 } : null;
}

function withPort(host: string, port: string | undefined): DnsServerAddress | null {
  const n = port === undefined ? 53 : Number(port);
  return n >= 1 && n <= 65535 ? { host, port: n } : null;
}

/**
 * The nameservers in /etc/resolv.conf (or in `resolvConf`, its text), in order;
 * 127.0.0.1:53 when there are none.
 */
export function systemServers(resolvConf?: string): DnsServerAddress[] {
  let text = resolvConf;
  if (text === undefined) {
    try {
      text = readFileSync("/etc/resolv.conf", "utf8");
    } catch {
      text = "";
    }
  }
  const servers: DnsServerAddress[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1];
    if (host && ipFamily(host.split("%")[0] as string)) servers.push({ host, port: 53 });
  }
  return servers.length > 0 ? servers : [{ host: "127.0.0.1", port: 53 }];
}
