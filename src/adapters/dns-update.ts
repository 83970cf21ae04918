// RFC 2136 dynamic update, signed with TSIG (RFC 8945): how `rollout`
// publishes and removes records on an authoritative server such as BIND.
// One UPDATE message per call, so its changes apply all together or not at
// all (RFC 2136 §3.7). Never throws: every failure is a result whose message
// says what went wrong and what to look at.

import { randomInt } from "node:crypto";
import { exchange } from "./dns-exchange.ts";
import {
  badReply,
  type FailureContext,
  failure,
  rcodeFailure,
  transportFailure,
  tsigFailure,
} from "./dns-update-failures.ts";
import { readReply, type WireReply } from "./dns-update-reply.ts";
import { encodeUpdate } from "./dns-update-wire.ts";
import { ipFamily } from "./ip.ts";
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
  const context: FailureContext = {
    zone: update.zone,
    where: `${options.server.host} port ${options.server.port}`,
    key: options.key,
  };
  const { host, port } = options.server;
  if (ipFamily(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    const why = `the update server must be an IP address and a port from 1 to 65535, not ${JSON.stringify(host)} port ${port}`;
    return failure(context, "INVALID", why, false);
  }
  const id = randomInt(0, 65_536);
  const encoded = encodeUpdate(
    {
      zone: update.zone,
      // Deletes first: RFC 2136 §3.4.2 applies the records in order, so a
      // replaced RRset is emptied before its new records arrive.
      deletes: [...(update.replace ?? []), ...(update.delete ?? [])],
      adds: (update.add ?? []).map((change) => ({ ...change, ttl: change.ttl ?? DEFAULT_TTL })),
    },
    id,
  );
  if (!encoded.ok)
    return failure(context, "INVALID", `the update is not valid: ${encoded.message}`, false);
  const now = options.now ?? (() => new Date());
  const signed = options.key
    ? signMessage(encoded.bytes, options.key, now())
    : { bytes: encoded.bytes, mac: undefined };
  const deadline = performance.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  let transport: "udp" | "tcp" = options.tcp || signed.bytes.length > UDP_LIMIT ? "tcp" : "udp";
  for (;;) {
    const left = Math.max(1, Math.round(deadline - performance.now()));
    const sent = await exchange(signed.bytes, options.server, transport, left);
    if (!sent.ok) return transportFailure(sent.kind, sent.message, context);
    const reply = readReply(sent.bytes);
    if ("error" in reply) return badReply(context, reply.error);
    if (reply.id !== id || !reply.isResponse) {
      return badReply(context, "its ID or QR bit does not match our update");
    }
    if (reply.opcode !== OPCODE_UPDATE) {
      return badReply(context, `it has opcode ${reply.opcode}, not UPDATE (5)`);
    }
    if (reply.truncated && transport === "udp") {
      transport = "tcp"; // the same signed bytes: still well within the fudge
      continue;
    }
    return judge(reply, sent.bytes, signed.mac, now(), context);
  }
}

/** RFC 8945 §5.3: a signed request wants a signed reply that covers our MAC. */
function judge(
  reply: WireReply,
  bytes: Buffer,
  requestMac: Buffer | undefined,
  now: Date,
  context: FailureContext,
): UpdateResult {
  const key = context.key;
  if (key && requestMac) {
    // BADSIG and BADKEY come back unsigned (§5.3.2), so read the error first.
    const tsigError = reply.tsig?.error ?? 0;
    if (tsigError !== 0) return tsigFailure(tsigError, context, reply.tsig?.otherData);
    if (reply.tsig === undefined) {
      // An unsigned failure is still a failure; an unsigned success proves nothing.
      if (reply.rcode !== 0) return rcodeFailure(reply.rcode, context);
      return badReply(
        context,
        "it says the update succeeded but is not signed, so it cannot be trusted",
      );
    }
    const verdict = verifyReply(bytes, reply.tsig, key, requestMac, now);
    if (!verdict.ok) return failure(context, verdict.code, verdict.message, false);
  }
  return reply.rcode === 0 ? { ok: true } : rcodeFailure(reply.rcode, context);
}
