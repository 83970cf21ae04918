// RFC 2136 dynamic update, signed with TSIG (RFC 8945): how `rollout`
// publishes and removes records on an authoritative server such as BIND.
// One UPDATE message per call, so its changes apply all together or not at
// all (RFC 2136 §3.7). Never throws: every failure is a result whose message
// says what went wrong and what to look at.

import { randomInt } from "node:crypto";
import { exchange } from "./dns-exchange.ts";
import { encodeUpdate, readReply } from "./dns-update-wire.ts";
import { signMessage, type TsigKey, verifyReply } from "./tsig.ts";

export type { TsigKey } from "./tsig.ts";
export { parseTsigKey } from "./tsig-key.ts";

export interface RecordChange {
  name: string;
  type: "TXT" | "CNAME" | "A" | "AAAA";
  /** Seconds; 300 by default. */
  ttl?: number;
  /** TXT: the whole text (split into ≤255-byte strings here); CNAME: the target; A/AAAA: the address. */
  value: string;
}

export interface DnsUpdate {
  zone: string;
  /** Delete every record of this name and type before adding (replace semantics). */
  replace?: { name: string; type: RecordChange["type"] }[];
  add?: RecordChange[];
  /** Delete exactly these RRsets (name + type). */
  delete?: { name: string; type: RecordChange["type"] }[];
}

export interface UpdateOptions {
  server: { host: string; port: number };
  key?: TsigKey;
  /** For the whole call, UDP and any TCP retry together; 5000 by default. */
  timeoutMs?: number;
  now?: () => Date;
  /** Use TCP from the start (UDP is tried first otherwise, and TCP when the reply is truncated). */
  tcp?: boolean;
}

/**
 * `rcode` is the DNS rcode name (REFUSED, NOTAUTH, NOTZONE, ...), the TSIG
 * error (BADSIG, BADKEY, BADTIME), or one of our own: INVALID (the update
 * itself is wrong), TIMEOUT, CONNREFUSED, NETWORK, BADREPLY (unreadable or
 * unsigned reply). `temporary` says whether trying again later can help.
 */
export type UpdateResult =
  | { ok: true }
  | { ok: false; rcode: string; message: string; temporary?: boolean };

export const DEFAULT_TTL = 300;
const DEFAULT_TIMEOUT_MS = 5000;
/** RFC 1035 §4.2.1: larger messages go over TCP (RFC 2136 §2.1 allows either). */
const UDP_LIMIT = 512;
const OPCODE_UPDATE = 5;

export async function sendUpdate(update: DnsUpdate, options: UpdateOptions): Promise<UpdateResult> {
  const id = randomInt(0, 65_536);
  const encoded = encodeUpdate(
    {
      zone: update.zone,
      deletes: [...(update.replace ?? []), ...(update.delete ?? [])],
      adds: (update.add ?? []).map((change) => ({ ...change, ttl: change.ttl ?? DEFAULT_TTL })),
    },
    id,
  );
  if (!encoded.ok)
    return {
      ok: false,
      rcode: "INVALID",
      message: `the update for zone ${update.zone} is not valid: ${encoded.message}`,
      temporary: false,
    };
  const now = options.now ?? (() => new Date());
  const signed = options.key
    ? signMessage(encoded.bytes, options.key, now())
    : { bytes: encoded.bytes, mac: undefined };
  const where = `${options.server.host} port ${options.server.port}`;
  const deadline = performance.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  let transport: "udp" | "tcp" = options.tcp || signed.bytes.length > UDP_LIMIT ? "tcp" : "udp";
  for (;;) {
    const left = Math.max(1, Math.round(deadline - performance.now()));
    const sent = await exchange(signed.bytes, options.server, transport, left);
    if (!sent.ok) {
      const rcode = { timeout: "TIMEOUT", refused: "CONNREFUSED", network: "NETWORK" }[sent.kind];
      const hint =
        sent.kind === "network"
          ? ""
          : ": is named running and listening there? (listen-on, port, firewall)";
      return {
        ok: false,
        rcode,
        message: `the DNS server at ${where} did not answer the update: ${sent.message}${hint}`,
        temporary: true,
      };
    }
    const reply = readReply(sent.bytes);
    if ("error" in reply) return badReply(where, reply.error);
    if (reply.id !== id || !reply.isResponse)
      return badReply(where, "its ID or QR bit does not match our update");
    if (reply.opcode !== OPCODE_UPDATE)
      return badReply(where, `it has opcode ${reply.opcode}, not UPDATE (5)`);
    if (reply.truncated && transport === "udp") {
      transport = "tcp"; // the same signed bytes; they are within the fudge still
      continue;
    }
    return judge(update.zone, where, options, reply, sent.bytes, signed.mac, now());
  }
}

function judge(
  zone: string,
  where: string,
  options: UpdateOptions,
  reply: Exclude<ReturnType<typeof readReply>, { error: string }>,
  bytes: Buffer,
  requestMac: Buffer | undefined,
  now: Date,
): UpdateResult {
  const key = options.key;
  if (key && requestMac) {
    // A TSIG error in the reply (RFC 8945 §5.3.2) comes unsigned for BADSIG and BADKEY.
    const tsigError = reply.tsig?.error ?? 0;
    if (tsigError !== 0) return tsigFailure(tsigError, key, where, reply.tsig?.otherData);
    if (reply.tsig === undefined) {
      if (reply.rcode !== 0) return rcodeFailure(reply.rcode, zone, where, options);
      return badReply(
        where,
        "it says the update succeeded but is not signed, so it cannot be trusted; check the zone's records by hand",
      );
    }
    const verdict = verifyReply(bytes, reply.tsig, key, requestMac, now);
    if (!verdict.ok)
      return {
        ok: false,
        rcode: verdict.code,
        message: `${where}: ${verdict.message}`,
        temporary: false,
      };
  }
  return reply.rcode === 0 ? { ok: true } : rcodeFailure(reply.rcode, zone, where, options);
}

const RCODES = [
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
];

function rcodeFailure(
  rcode: number,
  zone: string,
  where: string,
  options: UpdateOptions,
): UpdateResult {
  const name = RCODES[rcode] ?? `RCODE${rcode}`;
  const keyText = options.key ? `key "${options.key.name}"` : "no key";
  const why: Record<string, string> = {
    REFUSED: options.key
      ? `the server refused the update: is the key "${options.key.name}" allowed to update zone ${zone} (update-policy / allow-update), and the names in it?`
      : `the server refused the update: is the key allowed to update zone ${zone} (update-policy)? No TSIG key was given; the zone most likely requires one (--tsig-key)`,
    NOTAUTH: `the server is not authoritative for zone ${zone}, or did not accept ${keyText}: point the update at the zone's primary server`,
    NOTZONE: `a name in the update is not inside zone ${zone}: every name must end in ${zone.replace(/\.$/, "")}`,
    FORMERR:
      "the server could not parse the update (FORMERR); this is a bug in mtasts or a server that does not speak RFC 2136",
    NOTIMP: "the server does not support dynamic updates (NOTIMP)",
    SERVFAIL: `the server failed while applying the update (SERVFAIL): see its log (journal file writable? zone ${zone} loaded?)`,
    NXDOMAIN: "a prerequisite failed: a name that must exist does not (NXDOMAIN)",
    YXDOMAIN: "a prerequisite failed: a name that must not exist does (YXDOMAIN)",
    YXRRSET: "a prerequisite failed: a record set that must not exist does (YXRRSET)",
    NXRRSET: "a prerequisite failed: a record set that must exist does not (NXRRSET)",
  };
  return {
    ok: false,
    rcode: name,
    message: `${where}: ${why[name] ?? `the server answered rcode ${name}`}`,
    temporary: name === "SERVFAIL",
  };
}

function tsigFailure(
  error: number,
  key: TsigKey,
  where: string,
  other: Buffer | undefined,
): UpdateResult {
  const serverTime =
    other && other.length === 6 ? new Date(other.readUIntBE(0, 6) * 1000).toISOString() : undefined;
  const table: Record<number, [string, string]> = {
    16: [
      "BADSIG",
      `the TSIG secret does not match the server's (the server rejected the signature of key "${key.name}"): copy the secret from the server's key statement again`,
    ],
    17: [
      "BADKEY",
      `the server does not know the TSIG key "${key.name}" with algorithm ${key.algorithm}: check the key's name and algorithm against the server's \`key\` statement`,
    ],
    18: [
      "BADTIME",
      `the server rejected the signature's time: this machine's clock and the server's differ by more than the fudge${serverTime ? ` (server time ${serverTime})` : ""}; sync both with NTP`,
    ],
    21: ["BADALG", `the server does not support ${key.algorithm}`],
    22: ["BADTRUNC", "the server rejected a truncated MAC"],
  };
  const [rcode, message] = table[error] ?? [
    `TSIG${error}`,
    `the server rejected the TSIG signature (error ${error})`,
  ];
  return { ok: false, rcode, message: `${where}: ${message}`, temporary: false };
}

function badReply(where: string, why: string): UpdateResult {
  return {
    ok: false,
    rcode: "BADREPLY",
    message: `the reply from ${where} cannot be used: ${why}`,
    temporary: true,
  };
}
