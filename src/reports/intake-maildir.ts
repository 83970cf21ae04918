// Reports from a Maildir the MTA delivers to (Postfix `home_mailbox =
// Maildir/`, dovecot-lda, procmail…). Writers build each message in tmp/ and
// rename it into new/ when complete, so only new/ is read and a file there is
// always whole. After ingest the file moves to cur/ with the Seen flag
// (`:2,S`), or into a Maildir++ folder such as `.Processed`; when the store
// fails it stays in new/ for the next scan. fs.watch wakes a scan at once, a
// periodic rescan catches what the watch missed (its events can be dropped
// or coalesced, and some file systems send none).

import { type FSWatcher, watch } from "node:fs";
import { mkdir, open, readdir, rename, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  attemptIngest,
  describe,
  emit,
  type IntakeEventSink,
  type IntakeStore,
  MAX_MAIL_BYTES,
} from "./intake-attempt.ts";
import type { DkimVerifier, IngestOptions } from "./types.ts";

export interface MaildirIntakeOptions {
  store: IntakeStore;
  /** The Maildir: the folder holding cur/, new/ and tmp/. */
  dir: string;
  /** A Maildir++ folder (e.g. `.Processed`) to move ingested files into; default: this Maildir's cur/. */
  moveTo?: string;
  /** Larger files are ingested truncated to this, which quarantines them as too large. */
  maxMessageBytes?: number;
  ingest?: IngestOptions;
  /** Overrides `ingest.dkim`. */
  dkim?: DkimVerifier;
  onEvent?: IntakeEventSink;
}

export interface MaildirWatchOptions extends MaildirIntakeOptions {
  /** Full rescan period; default 30 s. */
  rescanMs?: number;
}

export interface MaildirScanResult {
  stored: number;
  duplicate: number;
  quarantined: number;
  /** Files left in new/ because the store failed. */
  left: number;
  storeError: string | null;
}

export interface MaildirWatch {
  /** Scans now (after any scan in progress) and resolves with its result. */
  scanNow(): Promise<MaildirScanResult>;
  /** Stops watching once the file being ingested is done. */
  close(): Promise<void>;
}

/** Ingests every file in new/, oldest name first, and files each one away. */
export async function scanMaildirOnce(options: MaildirIntakeOptions): Promise<MaildirScanResult> {
  const result: MaildirScanResult = {
    stored: 0,
    duplicate: 0,
    quarantined: 0,
    left: 0,
    storeError: null,
  };
  const newDir = join(options.dir, "new");
  const target = options.moveTo ? join(options.dir, options.moveTo) : options.dir;
  if (options.moveTo) await ensureMaildir(target, true);
  const maxBytes = options.maxMessageBytes ?? MAX_MAIL_BYTES;
  const ingestOptions: IngestOptions = {
    ...options.ingest,
    ...(options.dkim ? { dkim: options.dkim } : {}),
  };
  // Maildir names start with the delivery time, so name order is about arrival order.
  const names = (await readdir(newDir)).filter((n) => !n.startsWith(".")).sort();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const path = join(newDir, name);
    const file = await readCapped(path, maxBytes);
    if (file === null) continue; // taken by another reader meanwhile, or not a file
    const attempt = await attemptIngest(
      options.store,
      // Received when the MTA delivered it, not when we scanned.
      {
        bytes: file.bytes,
        channel: "maildir",
        origin: `maildir ${path}`,
        receivedAt: file.delivered,
      },
      ingestOptions,
      options.onEvent,
    );
    if (!attempt.ok) {
      result.storeError = attempt.error;
      result.left = names.length - i;
      return result;
    }
    result[attempt.outcome.status]++;
    try {
      await rename(path, join(target, "cur", `${baseName(name)}:2,S`));
    } catch (err) {
      // Ingest is idempotent: if the file is still there next time it counts as a duplicate.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        emit(options.onEvent, {
          type: "intake-error",
          channel: "maildir",
          origin: `maildir ${path}`,
          error: describe(err),
        });
      }
    }
  }
  return result;
}

/** Watches new/ and rescans periodically; files already there are taken at start. */
export async function startMaildirWatch(options: MaildirWatchOptions): Promise<MaildirWatch> {
  await ensureMaildir(options.dir, false);
  const rescanMs = options.rescanMs ?? 30_000;
  let stopped = false;
  let chain: Promise<unknown> = Promise.resolve();
  let queued: Promise<MaildirScanResult> | null = null;

  const scan = async (): Promise<MaildirScanResult> => {
    try {
      return await scanMaildirOnce(options);
    } catch (err) {
      emit(options.onEvent, {
        type: "intake-error",
        channel: "maildir",
        origin: `maildir ${options.dir}`,
        error: describe(err),
      });
      return { stored: 0, duplicate: 0, quarantined: 0, left: 0, storeError: null };
    }
  };

  // Events that arrive during a scan share one follow-up scan, not one each.
  const scanNow = (): Promise<MaildirScanResult> => {
    if (queued) return queued;
    const next = chain.then(() => {
      queued = null;
      return scan();
    });
    queued = next;
    chain = next;
    return next;
  };

  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(join(options.dir, "new"), () => {
      if (!stopped) void scanNow();
    });
    watcher.on("error", (err) => {
      emit(options.onEvent, {
        type: "intake-error",
        channel: "maildir",
        origin: `maildir ${options.dir}`,
        error: `watch stopped (${describe(err)}); rescans continue`,
      });
      watcher?.close();
      watcher = null;
    });
  } catch (err) {
    // Some file systems (NFS, some FUSE mounts) cannot be watched: rescans still work.
    emit(options.onEvent, {
      type: "intake-error",
      channel: "maildir",
      origin: `maildir ${options.dir}`,
      error: `cannot watch (${describe(err)}); rescanning every ${rescanMs} ms`,
    });
  }
  const timer = setInterval(() => {
    if (!stopped) void scanNow();
  }, rescanMs);
  void scanNow();

  return {
    scanNow,
    async close() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      await chain;
    },
  };
}

/** The unique part of a Maildir name, without any `:2,FLAGS` info a writer left on it. */
function baseName(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(0, colon);
}

/** At most `cap + 1` bytes (one more says "too large" to ingest); null when not a readable file. */
async function readCapped(
  path: string,
  cap: number,
): Promise<{ bytes: Uint8Array; delivered: Date } | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    const length = Math.min(info.size, cap + 1);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    // Written just before its rename into new/ (or kept from the original
    // by a tool that imports old mail): the delivery time, not our scan's.
    return { bytes: buffer.subarray(0, read), delivered: info.mtime };
  } finally {
    await handle.close();
  }
}

/** Checks (or, for a Maildir++ folder, creates) cur/, new/ and tmp/. */
async function ensureMaildir(dir: string, create: boolean): Promise<void> {
  for (const sub of ["cur", "new", "tmp"]) {
    const path = join(dir, sub);
    if (create) {
      await mkdir(path, { recursive: true });
      continue;
    }
    const info = await stat(path).catch(() => null);
    if (!info?.isDirectory()) {
      throw new Error(`${dir} is not a Maildir: ${basename(path)}/ is missing`);
    }
  }
  // Maildir++ readers (dovecot, Courier) recognise a folder by this marker.
  if (create) await writeFile(join(dir, "maildirfolder"), "", { flag: "a" });
}
