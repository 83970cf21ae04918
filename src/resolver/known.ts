// What the resolver holds in memory for a domain with a policy in force: the
// cached entry plus what the lookup path derives from it. Shared by discovery
// and the in-process cache, which stores these records directly.

import type { Verdict } from "./answer.ts";
import type { PolicyEntry } from "./types.ts";

/**
 * A policy in force for a domain, as the lookup path reads it. The entry's
 * fields are held in the record itself rather than as a second object: with
 * 100,000 policies that object's header and the pointer to it were ~3 MB.
 */
export interface Known extends PolicyEntry {
  /** When DNS last confirmed (or could not contradict) the cached id. */
  checkedAt: number;
  /** DANE takes precedence when set (SM-WEAK-01); null: MTA-STS applies. */
  dane: Extract<Verdict, { kind: "dane" | "dane-only" | "temp" }> | null;
  /**
   * The reply for one zone slot, computed once (the policy text never changes
   * under a Known). Almost every site uses one zone, so one slot is inline and
   * a Map exists only for the others: with 100,000 policies a Map each is ~15 MB.
   */
  reply: string | undefined;
  replyZone: string;
  otherReplies: Map<string, string> | undefined;
  /** The neighbours in a HotSet's recency list (hot-set.ts); null when not in one. */
  newer: Known | null;
  older: Known | null;
}

/** A record for an entry nobody has confirmed or answered from yet. */
export function fresh(entry: PolicyEntry, checkedAt: number): Known {
  return {
    domain: entry.domain,
    id: entry.id,
    text: entry.text,
    mode: entry.mode,
    fetchedAt: entry.fetchedAt,
    expiresAt: entry.expiresAt,
    checkedAt,
    dane: null,
    reply: undefined,
    replyZone: "",
    otherReplies: undefined,
    newer: null,
    older: null,
  };
}

/** The cached entry alone, as a PolicyCache hands it out. */
export function entryOf(known: Known): PolicyEntry {
  const { domain, id, text, mode, fetchedAt, expiresAt } = known;
  return Object.freeze({ domain, id, text, mode, fetchedAt, expiresAt });
}
