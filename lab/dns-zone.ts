// The lookup half of the lab DNS server: zones declared as data (records and
// named faults), compiled once into an index, and the answer an authoritative
// server would give for one question. No sockets here; dns-server.ts does I/O.

import { isIPv4, isIPv6 } from "node:net";
import { type Answer, encode } from "dns-packet";

export type RecordData =
  | { type: "A" | "AAAA"; name: string; address: string; ttl?: number }
  | { type: "MX"; name: string; preference: number; exchange: string; ttl?: number }
  /** One RR with several character-strings (each at most 255 bytes). */
  | { type: "TXT"; name: string; strings: string[]; ttl?: number }
  | { type: "CNAME"; name: string; target: string; ttl?: number }
  | {
      type: "TLSA";
      name: string;
      usage: number;
      selector: number;
      matchingType: number;
      /** The association data, as bytes or hex. */
      data: Uint8Array | string;
      ttl?: number;
    };

/**
 * How a name misbehaves: an rcode, silence (`timeout`), random bytes
 * (`garbage`), the TC bit over UDP with the real answer over TCP
 * (`truncated`), or NXDOMAIN although records exist.
 */
export type NameFault = "servfail" | "refused" | "timeout" | "garbage" | "truncated" | "nxdomain";

export interface ZoneData {
  apex: string;
  /** DNSSEC-validated: set the AD bit on answers (when the query has AD or DO). */
  authenticated?: boolean;
  records: RecordData[];
  /** Faults by owner name; with `type`, only queries of that type are affected. */
  faults?: Record<string, NameFault | { type?: string; fault: NameFault }>;
}

export type Lookup =
  | { kind: "refused" }
  /** `soa` is the zone's, for the `nxdomain` fault's authority section. */
  | { kind: "fault"; fault: NameFault; soa: Answer }
  | {
      kind: "answer";
      rcode: "NOERROR" | "NXDOMAIN";
      answers: Answer[];
      authorities: Answer[];
      /** Every zone the answer came from is `authenticated`. */
      authenticated: boolean;
    };

interface Zone {
  apex: string;
  authenticated: boolean;
  byName: Map<string, RecordData[]>;
  /** Every name that exists: owners, their ancestors up to the apex (empty non-terminals). */
  names: Set<string>;
  faults: Map<string, { type?: string; fault: NameFault }>;
  soa: Answer;
}

export interface ZoneIndex {
  zones: Zone[];
  /** By apex, so finding a name's zone costs one lookup per label, not one per zone. */
  byApex: Map<string, Zone>;
}

/** RFC 1034 §3.6.2: chains are followed, but not forever. */
export const MAX_CNAME_CHAIN = 8;
const DEFAULT_TTL = 300;
const NEGATIVE_TTL = 60;

export function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith(".") && n.length > 1 ? n.slice(0, -1) : n;
}

const inside = (name: string, apex: string) =>
  apex === "." || name === apex || name.endsWith(`.${apex}`);

/** Checks and indexes the zones; throws on a zone that is a bug in the test declaring it. */
export function compileZones(data: ZoneData[]): ZoneIndex {
  const zones = data.map(compileZone);
  // Longest apex first, so a child zone on the same server wins over its parent.
  zones.sort((x, y) => y.apex.length - x.apex.length);
  const byApex = new Map<string, Zone>();
  for (const z of zones) if (!byApex.has(z.apex)) byApex.set(z.apex, z);
  return { zones, byApex };
}

function compileZone(data: ZoneData): Zone {
  const apex = normalizeName(data.apex);
  const zone: Zone = {
    apex,
    authenticated: data.authenticated === true,
    byName: new Map(),
    names: new Set([apex]),
    faults: new Map(),
    soa: {
      type: "SOA",
      name: apex,
      ttl: NEGATIVE_TTL,
      class: "IN",
      data: {
        mname: `ns.${apex}`,
        rname: `hostmaster.${apex}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: NEGATIVE_TTL,
      },
    },
  };
  for (const record of data.records) {
    const owner = normalizeName(record.name);
    if (!inside(owner, apex)) throw new Error(`lab DNS: ${record.name} is outside zone ${apex}`);
    checkEncodable(record);
    const list = zone.byName.get(owner) ?? [];
    list.push(record);
    zone.byName.set(owner, list);
    for (let n = owner; n !== apex && n.includes("."); n = n.slice(n.indexOf(".") + 1)) {
      zone.names.add(n);
    }
  }
  for (const [name, spec] of Object.entries(data.faults ?? {})) {
    const owner = normalizeName(name);
    if (!inside(owner, apex)) throw new Error(`lab DNS: fault on ${name} is outside zone ${apex}`);
    zone.faults.set(owner, typeof spec === "string" ? { fault: spec } : spec);
  }
  return zone;
}

function checkEncodable(record: RecordData): void {
  const bad = (why: string) =>
    new Error(`lab DNS: cannot encode ${record.type} ${record.name}: ${why}`);
  if (record.type === "TXT") {
    for (const s of record.strings) {
      if (Buffer.byteLength(s) > 255) {
        throw new Error(`lab DNS: a TXT string at ${record.name} is over 255 bytes; split it`);
      }
    }
  }
  if (record.type === "A" && !isIPv4(record.address)) throw bad(`${record.address} is not IPv4`);
  if (record.type === "AAAA" && !isIPv6(record.address)) throw bad(`${record.address} is not IPv6`);
  if (record.type === "MX" && !isUint(record.preference, 0xffff)) throw bad("preference");
  if (
    record.type === "TLSA" &&
    ![record.usage, record.selector, record.matchingType].every((n) => isUint(n, 0xff))
  ) {
    throw bad("usage, selector and matching type are 0-255");
  }
  try {
    encode({ type: "response", answers: [toAnswer(record)] });
  } catch (e) {
    throw new Error(
      `lab DNS: cannot encode ${record.type} ${record.name}: ${(e as Error).message}`,
    );
  }
}

export function toAnswer(record: RecordData): Answer {
  const base = { name: normalizeName(record.name), ttl: record.ttl ?? DEFAULT_TTL, class: "IN" };
  switch (record.type) {
    case "A":
    case "AAAA":
      return { ...base, type: record.type, data: record.address } as Answer;
    case "MX":
      return {
        ...base,
        type: "MX",
        data: { preference: record.preference, exchange: record.exchange },
      } as Answer;
    case "TXT":
      return { ...base, type: "TXT", data: [...record.strings] } as Answer;
    case "CNAME":
      return { ...base, type: "CNAME", data: record.target } as Answer;
    case "TLSA":
      return {
        ...base,
        type: "TLSA",
        data: {
          usage: record.usage,
          selector: record.selector,
          matchingType: record.matchingType,
          certificate:
            typeof record.data === "string"
              ? Buffer.from(record.data.replace(/\s+/g, ""), "hex")
              : Buffer.from(record.data),
        },
      } as Answer;
  }
}

const isUint = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;

/** The zone with the longest apex the name is inside of. */
function findZone(index: ZoneIndex, name: string): Zone | undefined {
  for (let n = name; ; ) {
    const zone = index.byApex.get(n);
    if (zone) return zone;
    const dot = n.indexOf(".");
    if (dot < 0) break;
    n = n.slice(dot + 1);
  }
  return index.byApex.get(".");
}

function faultFor(zone: Zone, name: string, qtype: string): NameFault | undefined {
  const f = zone.faults.get(name);
  if (!f) return undefined;
  return f.type === undefined || f.type.toUpperCase() === qtype ? f.fault : undefined;
}

/**
 * The authoritative answer for (qname, qtype). CNAMEs are followed inside the
 * answer while the target is in one of our zones and carries no fault; a loop
 * or a chain of MAX_CNAME_CHAIN stops there (the client sees an unfinished chain).
 * `ignoreFault` answers as if qname had no fault (a `truncated` name over TCP).
 */
export function lookup(
  index: ZoneIndex,
  qname: string,
  qtype: string,
  options: { ignoreFault?: boolean } = {},
): Lookup {
  let name = normalizeName(qname);
  const type = qtype.toUpperCase();
  let zone = findZone(index, name);
  if (!zone) return { kind: "refused" };
  const fault = options.ignoreFault ? undefined : faultFor(zone, name, type);
  if (fault) return { kind: "fault", fault, soa: zone.soa };

  const answers: Answer[] = [];
  const visited = new Set([name]);
  let authenticated = zone.authenticated;
  const done = (rcode: "NOERROR" | "NXDOMAIN", authorities: Answer[] = []): Lookup => ({
    kind: "answer",
    rcode,
    answers,
    authorities,
    authenticated,
  });

  for (;;) {
    const records = zone.byName.get(name) ?? [];
    const cname = type === "CNAME" || type === "ANY" ? undefined : records.find(isCname);
    if (cname) {
      answers.push(toAnswer(cname));
      const target = normalizeName(cname.target);
      const next = findZone(index, target);
      if (
        answers.length >= MAX_CNAME_CHAIN ||
        visited.has(target) ||
        !next ||
        faultFor(next, target, type)
      ) {
        return done("NOERROR");
      }
      visited.add(target);
      name = target;
      zone = next;
      authenticated &&= zone.authenticated;
      continue;
    }
    const matching = records.filter((r) => type === "ANY" || r.type === type).map(toAnswer);
    if (name === zone.apex && (type === "SOA" || type === "ANY")) matching.push(zone.soa);
    if (matching.length > 0) {
      answers.push(...matching);
      return done("NOERROR");
    }
    // RFC 2308: NODATA and NXDOMAIN both carry the zone's SOA in the authority section.
    return done(zone.names.has(name) ? "NOERROR" : "NXDOMAIN", [zone.soa]);
  }
}

function isCname(r: RecordData): r is Extract<RecordData, { type: "CNAME" }> {
  return r.type === "CNAME";
}
