// The commonest rollout mistake: the policy file changed but the `_mta-sts`
// TXT id did not, so senders holding the old policy never fetch the new one
// until it expires (RFC 8461 §3.1, §8.1; STS-OPS-01). After a served policy
// changes, wait a little, look the id up, and warn while it is still the id
// that was published before the change.

import type { Resolver } from "../adapters/dns.ts";
import type { Logger } from "../adapters/log.ts";
import { stsRecordName } from "../core/names.ts";
import { selectStsRecord } from "../core/sts-record.ts";
import type { PolicyChange } from "./policies.ts";

const LOOKUP_CONCURRENCY = 8;

export interface IdWatchOptions {
  resolver: Resolver;
  log: Logger;
  now: () => number;
  delayMs: number;
  intervalMs: number;
  /** Timers, injectable so tests drive time. */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

export interface IdWatch {
  /** Call for every change of a served policy. */
  changed(change: PolicyChange): void;
  /** Looks every domain with a pending change up now (tests, and the periodic sweep). */
  checkNow(): Promise<void>;
  /** The id last seen per domain (null: lookup failed or no record). */
  ids(): ReadonlyMap<string, string | null>;
  close(): void;
}

interface Pending {
  /** The id published when the change happened (null until known). */
  before: string | null;
  since: number;
  warned: number;
}

export function createIdWatch(o: IdWatchOptions): IdWatch {
  const seen = new Map<string, string | null>();
  const pending = new Map<string, Pending>();
  const timers = new Set<{ cancel(): void }>();
  const setTimer =
    o.setTimer ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      t.unref();
      return { cancel: () => clearTimeout(t) };
    });
  let closed = false;

  const schedule = (ms: number, fn: () => Promise<void>) => {
    if (closed) return;
    const t = setTimer(() => {
      timers.delete(t);
      void fn();
    }, ms);
    timers.add(t);
  };

  // A host starting with thousands of domains learns their ids a few at a
  // time, not in one burst at its resolver.
  let active = 0;
  const waiting: (() => void)[] = [];
  async function limited<T>(job: () => Promise<T>): Promise<T> {
    if (active >= LOOKUP_CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  }

  async function lookup(domain: string): Promise<string | null | undefined> {
    const name = stsRecordName(domain);
    if (name === null) return null;
    const answer = await o.resolver.txt(name);
    if (answer.kind === "nxdomain" || answer.kind === "nodata") return null;
    if (answer.kind !== "answer") return undefined; // SERVFAIL, timeout: no opinion
    const parsed = selectStsRecord(answer.records);
    return parsed.ok ? parsed.value.id : null;
  }

  async function check(domain: string): Promise<void> {
    const id = await limited(() => lookup(domain));
    if (id === undefined) {
      o.log.debug("id check: DNS gave no answer; trying later", { domain });
      return;
    }
    seen.set(domain, id);
    const p = pending.get(domain);
    if (!p) return;
    if (p.before === null) {
      // The id before the change was never learnt: nothing to compare with.
      pending.delete(domain);
      return;
    }
    if (id !== p.before) {
      o.log.info("policy change published: the _mta-sts id changed", {
        domain,
        oldId: p.before,
        newId: id,
      });
      pending.delete(domain);
      return;
    }
    p.warned++;
    o.log.warn(
      `the policy of ${domain} changed but _mta-sts.${domain} still publishes id=${id}: senders that cached the old policy will not fetch the new one until it expires. Publish a new id (run \`mtasts rollout ${domain}\`, or set id= to a new value such as the current UTC time) in the _mta-sts TXT record`,
      { domain, oldId: p.before, newId: id, changedAt: new Date(p.since).toISOString() },
    );
  }

  async function sweep(): Promise<void> {
    await Promise.all([...pending.keys()].map(check));
    if (pending.size > 0) schedule(o.intervalMs, sweep);
    else sweeping = false;
  }
  let sweeping = false;

  return {
    changed({ domain, previous, next }) {
      if (previous === null) {
        // First load: learn the id now so a later change has something to compare with.
        if (!seen.has(domain))
          void limited(() => lookup(domain)).then((id) => id !== undefined && seen.set(domain, id));
        return;
      }
      if (next === null) {
        pending.delete(domain);
        return;
      }
      if (!pending.has(domain))
        pending.set(domain, { before: seen.get(domain) ?? null, since: o.now(), warned: 0 });
      schedule(o.delayMs, () => check(domain));
      if (!sweeping) {
        sweeping = true;
        schedule(o.delayMs + o.intervalMs, sweep);
      }
    },
    checkNow: () => Promise.all([...pending.keys()].map(check)).then(() => undefined),
    ids: () => seen,
    close() {
      closed = true;
      for (const t of timers) t.cancel();
      timers.clear();
    },
  };
}
