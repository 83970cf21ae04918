// startAcme(): the certificates of a set of names kept issued and renewed.
// Each name has its own certificate and its own schedule, so one domain's
// broken DNS never holds up another's renewal. A name is ordered when it has
// no certificate or its renewal time (renewFraction of the lifetime, less
// jitter) has come; a failure is logged with the CA's words and retried
// with backoff; nothing here throws out of a timer.

import type { Client } from "acme-client";
import { openAccount } from "./account.ts";
import { describe, type HeldCertificate, loadIndex, save, toKeyPair } from "./certificates.ts";
import { createPendingChallenges } from "./challenges.ts";
import { AcmeError, attemptError } from "./errors.ts";
import { checkNames, normalName } from "./names.ts";
import { type AcmeOptions, resolveAcmeOptions } from "./options.ts";
import { orderCertificate } from "./order.ts";
import { createGate, MAX_TIMER_MS, renewalTime, retryDelay } from "./schedule.ts";
import { openStateDir } from "./state-dir.ts";
import { probeCa, routeToCa } from "./transport.ts";
import type { AcmeManager } from "./types.ts";

/** How long stop() waits for orders under way to notice it. */
const STOP_WAIT_MS = 5000;

export interface NameStatus {
  name: string;
  /** `valid`: a certificate is held (see notAfter); `ordering`: an attempt is under way. */
  state: "valid" | "ordering" | "failed" | "missing";
  notAfter?: Date;
  renewAt?: Date;
  /** Failed attempts since the last success. */
  failures: number;
  lastError?: AcmeError;
  nextAttemptAt?: Date;
}

/** The automation, with a per-name status for health pages and tests. */
export interface AcmeAutomation extends AcmeManager {
  status(name: string): NameStatus | undefined;
}

interface Managed {
  timer: NodeJS.Timeout | undefined;
  inflight: Promise<void> | undefined;
  failures: number;
  lastError: AcmeError | undefined;
  nextAttemptAt: number | undefined;
  renewAt: number | undefined;
}

export async function startAcme(input: AcmeOptions): Promise<AcmeAutomation> {
  const options = resolveAcmeOptions(input);
  const { log, now } = options;
  const state = await openStateDir(options.stateDir);
  const index = await loadIndex(state, options);
  const release = routeToCa(options.directoryUrl, options.ca, options.requestTimeoutMs);
  const pending = createPendingChallenges();
  const listeners = new Set<(name: string) => void>();
  const managed = new Map<string, Managed>();
  let client: Promise<Client> | undefined;
  let stopped = false;
  const orderSlot = createGate(options.maxConcurrentOrders);

  const account = () => {
    client ??= openAccount(options, state).catch((error) => {
      client = undefined;
      throw error;
    });
    return client;
  };

  const arm = (name: string, m: Managed, at: number) => {
    if (m.timer !== undefined) clearTimeout(m.timer);
    m.timer = undefined;
    if (stopped) return;
    const delay = Math.min(Math.max(at - now(), 0), MAX_TIMER_MS);
    m.timer = setTimeout(() => {
      m.timer = undefined;
      if (now() < at) arm(name, m, at);
      else void attempt(name, m);
    }, delay);
    m.timer.unref();
  };

  const planRenewal = (name: string, m: Managed, held: HeldCertificate) => {
    m.renewAt = renewalTime(
      held.notBefore.getTime(),
      held.notAfter.getTime(),
      options.renewFraction,
      options.random(),
    );
    arm(name, m, m.renewAt);
  };

  const attempt = (name: string, m: Managed): Promise<void> => {
    if (stopped) return Promise.resolve();
    m.inflight ??= (async () => {
      const renewing = index.stored(name) !== undefined;
      log.info(renewing ? "acme.renew.start" : "acme.order.start", { name });
      try {
        const leave = await orderSlot();
        let issued: Awaited<ReturnType<typeof orderCertificate>>;
        try {
          const client = await account();
          issued = await orderCertificate(name, {
            client,
            options,
            pending,
            stopped: () => stopped,
          });
        } finally {
          leave();
        }
        const held = describe(name, { leaf: issued.cert, chain: issued.chain, key: issued.key });
        index.put(held);
        await save(state, held, log);
        m.failures = 0;
        m.lastError = undefined;
        m.nextAttemptAt = undefined;
        planRenewal(name, m, held);
        log.info(renewing ? "acme.renewed" : "acme.issued", {
          name,
          notAfter: held.notAfter.toISOString(),
          renewAt: new Date(m.renewAt ?? 0).toISOString(),
        });
        for (const listener of listeners) {
          try {
            listener(name);
          } catch (error) {
            log.error("acme.listener.failed", { name, error: (error as Error).message });
          }
        }
      } catch (error) {
        if (stopped) return;
        const unreachable =
          error instanceof AcmeError
            ? undefined
            : await probeCa(options.directoryUrl, options.requestTimeoutMs);
        const failure = attemptError(unreachable ?? error, name, options.directoryUrl);
        // A CA that forgot our account (or a network failure mid-registration): register again next time.
        if (failure.problemType === undefined) client = undefined;
        m.failures += 1;
        m.lastError = failure;
        const delay =
          failure.kind === "permanent"
            ? options.retryMaxMs
            : retryDelay(m.failures, options.retryBaseMs, options.retryMaxMs, options.random());
        m.nextAttemptAt = now() + delay;
        log.error("acme.order.failed", {
          name,
          error: failure.message,
          problemType: failure.problemType,
          failures: m.failures,
          retryInMs: delay,
        });
        arm(name, m, m.nextAttemptAt);
      } finally {
        m.inflight = undefined;
      }
    })();
    return m.inflight;
  };

  const entry = (name: string): Managed => {
    let m = managed.get(name);
    if (m === undefined) {
      m = {
        timer: undefined,
        inflight: undefined,
        failures: 0,
        lastError: undefined,
        nextAttemptAt: undefined,
        renewAt: undefined,
      };
      managed.set(name, m);
    }
    return m;
  };

  return {
    http01: (token) => pending.http01(token),
    tlsAlpn01: (servername) => pending.tlsAlpn01(servername),
    get(name) {
      const held = index.covering(name);
      return held === undefined ? undefined : toKeyPair(held);
    },
    onChange(listener) {
      listeners.add(listener);
    },
    async ensure(names) {
      if (stopped) throw new Error("ACME automation was stopped; start a new one");
      const wanted = checkNames(names);
      const attempts: Promise<void>[] = [];
      for (const name of wanted) {
        const m = entry(name);
        if (m.inflight !== undefined) {
          attempts.push(m.inflight);
          continue;
        }
        // A name in backoff waits for its retry: calling ensure again must not hammer the CA.
        if (m.nextAttemptAt !== undefined && m.nextAttemptAt > now()) continue;
        const held = index.stored(name);
        if (held !== undefined && m.renewAt === undefined) planRenewal(name, m, held);
        if (held === undefined || (m.renewAt !== undefined && now() >= m.renewAt))
          attempts.push(attempt(name, m));
      }
      await Promise.all(attempts);
    },
    status(name) {
      const key = normalName(name);
      const m = managed.get(key);
      if (m === undefined) return undefined;
      const held = index.stored(key);
      const state: NameStatus["state"] =
        m.inflight !== undefined
          ? "ordering"
          : m.lastError !== undefined
            ? "failed"
            : held !== undefined
              ? "valid"
              : "missing";
      return {
        name: key,
        state,
        failures: m.failures,
        ...(held === undefined ? {} : { notAfter: held.notAfter }),
        ...(m.renewAt === undefined ? {} : { renewAt: new Date(m.renewAt) }),
        ...(m.lastError === undefined ? {} : { lastError: m.lastError }),
        ...(m.nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(m.nextAttemptAt) }),
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const inflight: Promise<void>[] = [];
      for (const m of managed.values()) {
        if (m.timer !== undefined) clearTimeout(m.timer);
        m.timer = undefined;
        if (m.inflight !== undefined) inflight.push(m.inflight);
      }
      // Orders notice `stopped` at their next step; wait for that, but not for a CA that hangs.
      let cap: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(inflight),
        new Promise((resolve) => {
          cap = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(cap);
      release();
    },
  };
}
