// Reports from a mailbox the MTA already delivers to (a `tlsrpt@` account at
// a provider, or the local dovecot): poll it over IMAP, ingest every unseen
// message, then mark it \Seen and/or move it to a processed folder. A message
// is only marked or moved after ingest kept it; when the store fails the
// message stays unseen where it was and the next poll tries again. Downloads
// use BODY.PEEK, so reading a message never marks it seen by itself.

import { ImapFlow, type ImapFlowOptions } from "imapflow";
import {
  attemptIngest,
  describe,
  emit,
  type IntakeEventSink,
  type IntakeStore,
  MAX_MAIL_BYTES,
} from "./intake-attempt.ts";
import type { DkimVerifier, IngestOptions } from "./types.ts";

export interface ImapConnection {
  host: string;
  port: number;
  /** Implicit TLS (imaps, port 993); otherwise STARTTLS is used when offered. */
  secure?: boolean;
  user: string;
  pass: string;
  /** Node TLS options, e.g. a private CA or `rejectUnauthorized: false` for a lab. */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** Connect and greeting deadline; default 30 s. */
  timeoutMs?: number;
}

export interface ImapIntakeOptions {
  store: IntakeStore;
  imap: ImapConnection;
  /** Default INBOX. */
  mailbox?: string;
  /** Mark ingested messages \Seen (default true). */
  markSeen?: boolean;
  /** Move ingested messages to this folder (created when missing). */
  moveTo?: string;
  /** Messages ingested per poll, oldest first; default 50. The rest wait for the next poll. */
  maxMessages?: number;
  /** Larger messages are ingested truncated to this, which quarantines them as too large. */
  maxMessageBytes?: number;
  ingest?: IngestOptions;
  /** Overrides `ingest.dkim`. */
  dkim?: DkimVerifier;
  onEvent?: IntakeEventSink;
}

export interface ImapPollResult {
  mailbox: string;
  /** Unseen messages found. */
  unseen: number;
  stored: number;
  duplicate: number;
  quarantined: number;
  /** Unseen messages left for a later poll (over `maxMessages`, or after a store failure). */
  left: number;
  /** The store failed: the message being ingested and those after it were left unseen. */
  storeError: string | null;
  /** The server could not be reached or a command failed; nothing after it was done. */
  error: string | null;
}

export interface ImapPollerOptions extends ImapIntakeOptions {
  /** Between polls; default 60 s. New mail seen while idle starts a poll sooner. */
  intervalMs?: number;
  /** Reconnect delay after a failure: doubles from `minMs` up to `maxMs` (default 5 s … 10 min). */
  backoff?: { minMs: number; maxMs: number };
}

export interface ImapPoller {
  /** Polls now (after any poll in progress) and resolves with its result. */
  pollNow(): Promise<ImapPollResult>;
  /** Finishes the poll in progress, logs out and stops. */
  close(): Promise<void>;
}

export function connectImap(c: ImapConnection): ImapFlow {
  const options: ImapFlowOptions = {
    host: c.host,
    port: c.port,
    secure: c.secure ?? false,
    auth: { user: c.user, pass: c.pass },
    logger: false,
    connectionTimeout: c.timeoutMs ?? 30_000,
    greetingTimeout: c.timeoutMs ?? 30_000,
    // Between polls the connection IDLEs on the mailbox, so new mail (an
    // EXISTS) starts a poll at once; the default waits 15 s before idling.
    autoIdleDelay: 2_000,
    ...(c.tls ? { tls: c.tls } : {}),
  };
  return new ImapFlow(options);
}

/**
 * One poll. With `client` (connected), the caller keeps the connection;
 * without, one is opened and closed for this poll. Never rejects: failures
 * are in `error` / `storeError`.
 */
export async function pollImapOnce(
  options: ImapIntakeOptions,
  client?: ImapFlow,
): Promise<ImapPollResult> {
  const mailbox = options.mailbox ?? "INBOX";
  const result = emptyPoll(mailbox, null);
  const own = client === undefined;
  const imap = client ?? connectImap(options.imap);
  if (own) imap.on("error", () => {}); // surfaced through the failing command instead
  try {
    if (own) await imap.connect();
    await pollMailbox(imap, options, mailbox, result);
  } catch (err) {
    result.error = describe(err);
    emit(options.onEvent, {
      type: "intake-error",
      channel: "imap",
      origin: `imap://${options.imap.host}:${options.imap.port}/${mailbox}`,
      error: result.error,
    });
  } finally {
    if (own) await imap.logout().catch(() => imap.close());
  }
  return result;
}

/** Folders already made sure of, per connection: one CREATE per connection, not per poll. */
const created = new WeakMap<ImapFlow, Set<string>>();

async function pollMailbox(
  imap: ImapFlow,
  options: ImapIntakeOptions,
  mailbox: string,
  result: ImapPollResult,
): Promise<void> {
  const markSeen = options.markSeen ?? true;
  const moveTo = options.moveTo;
  if (!markSeen && !moveTo) {
    // Each poll would ingest the same messages again (as duplicates) forever.
    throw new Error("IMAP intake needs markSeen, moveTo or both");
  }
  const max = Math.max(1, options.maxMessages ?? 50);
  const maxBytes = options.maxMessageBytes ?? MAX_MAIL_BYTES;
  const ingestOptions: IngestOptions = {
    ...options.ingest,
    ...(options.dkim ? { dkim: options.dkim } : {}),
  };
  if (moveTo && !created.get(imap)?.has(moveTo)) {
    await imap.mailboxCreate(moveTo); // an existing folder is fine (ALREADYEXISTS)
    created.set(imap, (created.get(imap) ?? new Set()).add(moveTo));
  }
  const lock = await imap.getMailboxLock(mailbox);
  try {
    const found = await imap.search({ seen: false, deleted: false }, { uid: true });
    const uids = (found || []).sort((a, b) => a - b);
    result.unseen = uids.length;
    const batch = uids.slice(0, max);
    result.left = uids.length - batch.length;
    const box = imap.mailbox;
    const validity = box ? String(box.uidValidity) : "";
    for (let i = 0; i < batch.length; i++) {
      const uid = batch[i] as number;
      const origin = `imap://${options.imap.user}@${options.imap.host}:${options.imap.port}/${mailbox};UIDVALIDITY=${validity}/;UID=${uid}`;
      const head = await imap.fetchOne(
        String(uid),
        { uid: true, size: true, internalDate: true },
        { uid: true },
      );
      if (!head) continue; // expunged by someone else meanwhile
      const size = head.size ?? 0;
      // Over the limit only the first bytes are read: ingest quarantines them
      // as too large, and the whole message stays on the server.
      const source = size > maxBytes ? { start: 0, maxLength: maxBytes + 1 } : true;
      const message = await imap.fetchOne(String(uid), { uid: true, source }, { uid: true });
      const bytes = message === false ? undefined : message.source;
      if (!bytes) continue; // expunged meanwhile
      const attempt = await attemptIngest(
        options.store,
        {
          bytes,
          channel: "imap",
          origin,
          // When the server got it, not when we polled (RFC 3501 INTERNALDATE).
          ...(head.internalDate instanceof Date ? { receivedAt: head.internalDate } : {}),
        },
        ingestOptions,
        options.onEvent,
      );
      if (!attempt.ok) {
        result.storeError = attempt.error;
        result.left += batch.length - i;
        return;
      }
      result[attempt.outcome.status]++;
      if (markSeen) await imap.messageFlagsAdd(String(uid), ["\\Seen"], { uid: true });
      if (moveTo) await imap.messageMove(String(uid), moveTo, { uid: true });
    }
  } finally {
    lock.release();
  }
}

/**
 * Polls on a timer over one kept connection, reconnecting with exponential
 * backoff when it breaks; a poll that left messages for later is followed
 * at once by the next.
 */
export function startImapPoller(options: ImapPollerOptions): ImapPoller {
  const interval = options.intervalMs ?? 60_000;
  const minBackoff = options.backoff?.minMs ?? 5_000;
  const maxBackoff = Math.max(minBackoff, options.backoff?.maxMs ?? 600_000);
  let client: ImapFlow | null = null;
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const drop = (c: ImapFlow | null): void => {
    if (c && client === c) client = null;
    c?.close();
  };

  const connect = async (): Promise<ImapFlow> => {
    if (client?.usable) return client;
    drop(client);
    const c = connectImap(options.imap);
    c.on("error", (err: unknown) => {
      emit(options.onEvent, {
        type: "intake-error",
        channel: "imap",
        origin: `imap://${options.imap.host}:${options.imap.port}`,
        error: describe(err),
      });
    });
    c.on("close", () => {
      if (client === c) client = null;
    });
    // New mail announced while idling: poll soon rather than at the next tick.
    c.on("exists", () => schedule(0));
    await c.connect();
    client = c;
    return c;
  };

  const pollOnce = async (): Promise<ImapPollResult> => {
    let c: ImapFlow;
    try {
      c = await connect();
    } catch (err) {
      const error = describe(err);
      emit(options.onEvent, {
        type: "intake-error",
        channel: "imap",
        origin: `imap://${options.imap.host}:${options.imap.port}`,
        error,
      });
      return emptyPoll(options.mailbox ?? "INBOX", error);
    }
    const result = await pollImapOnce(options, c);
    if (result.error) drop(c);
    return result;
  };

  const run = (): Promise<ImapPollResult> => {
    const next = chain.then(pollOnce, pollOnce);
    chain = next.catch(() => {});
    return next;
  };

  const schedule = (delay: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  };

  const tick = (): void => {
    run().then((result) => {
      if (result.error || result.storeError) {
        failures++;
        schedule(Math.min(maxBackoff, minBackoff * 2 ** Math.min(failures - 1, 30)));
        return;
      }
      failures = 0;
      schedule(result.left > 0 ? 0 : interval);
    });
  };

  schedule(0);
  return {
    pollNow: run,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await chain;
      const c = client;
      client = null;
      if (c) await c.logout().catch(() => c.close());
    },
  };
}

/** A poll that has handled nothing (yet, or because it could not run: `error`). */
function emptyPoll(mailbox: string, error: string | null): ImapPollResult {
  return {
    mailbox,
    unseen: 0,
    stored: 0,
    duplicate: 0,
    quarantined: 0,
    left: 0,
    storeError: null,
    error,
  };
}
