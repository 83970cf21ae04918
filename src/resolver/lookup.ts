// The socketmap lookup: request key → Postfix reply. The hot path (a domain
// we know, within cache_grace) answers synchronously from memory.

import { parsePolicy } from "../core/policy.ts";
import { enforced, NOTFOUND, replyFor, stsReply } from "./answer.ts";
import type { Discovery, Knowledge } from "./discovery.ts";
import { normalizeKey } from "./key.ts";
import type { SocketmapLookup, ZoneConfig } from "./types.ts";

export type ReplyKind = "secure" | "dane" | "dane-only" | "notfound" | "temp" | "skip";

/** One finished lookup: the kind of reply and how long it took (ms). */
export type LookupObserver = (kind: ReplyKind, ms: number) => void;

export function createLookup(options: {
  discovery: Discovery;
  defaultZone: ZoneConfig;
  zones: ReadonlyMap<string, ZoneConfig>;
  observe?: LookupObserver;
}): SocketmapLookup {
  const { discovery, defaultZone, zones } = options;
  const observe = options.observe;

  const answer = (domain: string, zoneName: string, zone: ZoneConfig, k: Knowledge): string => {
    if (k === "none") return NOTFOUND;
    // Zones that share settings share a reply; unknown names use default_zone (SM-PMSR-03).
    const slot = zones.has(zoneName) ? zoneName : "";
    let reply = k.replyZone === slot ? k.reply : k.otherReplies?.get(slot);
    if (reply === undefined) {
      const parsed = parsePolicy(k.entry.text);
      if (!parsed.ok)
        reply = NOTFOUND; // stored text is validated before caching; defensive
      else if (k.dane && enforced(parsed.value, zone)) reply = replyFor(k.dane, domain, zone);
      else reply = stsReply(parsed.value, domain, zone);
      if (k.reply === undefined) {
        k.reply = reply;
        k.replyZone = slot;
      } else {
        k.otherReplies ??= new Map();
        k.otherReplies.set(slot, reply);
      }
    }
    return reply;
  };

  return (zoneName, key) => {
    const started = observe ? performance.now() : 0;
    const normal = normalizeKey(key);
    if (normal.kind !== "domain") {
      observe?.("skip", 0);
      return NOTFOUND;
    }
    const domain = normal.domain;
    const zone = zones.get(zoneName) ?? defaultZone;
    const known = discovery.peek(domain, zone.timeoutMs);
    if (known !== undefined) {
      const reply = answer(domain, zoneName, zone, known);
      observe?.(kindOf(reply), performance.now() - started);
      return reply;
    }
    return discovery.resolve(domain, zone.timeoutMs).then((k) => {
      const reply = answer(domain, zoneName, zone, k);
      observe?.(kindOf(reply), performance.now() - started);
      return reply;
    });
  };
}

export function kindOf(reply: string): ReplyKind {
  if (reply.startsWith("OK secure")) return "secure";
  if (reply === "OK dane-only") return "dane-only";
  if (reply === "OK dane") return "dane";
  if (reply.startsWith("TEMP")) return "temp";
  return "notfound";
}
