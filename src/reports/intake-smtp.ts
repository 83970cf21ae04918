// Report mail delivered straight to mtasts by Postfix: LMTP (a
// `mailbox_transport` or `virtual_transport = lmtp:inet:…`) or SMTP (a
// transport map entry `smtp:[127.0.0.1]:…`). Each message is ingested,
// DKIM included, before the end-of-data reply, so a 250 means the report is
// kept (stored, a duplicate, or quarantined) and a 451 means nothing was kept
// and Postfix keeps the message queued and tries again.
//
// Replies: 250 for every accepted message, whatever ingest made of it (a
// malformed or unsigned report is quarantined or flagged, not bounced: a
// bounce would go back to the reporter's robot); 552 5.3.4 over the size
// limit (RPT-RCV-03; also announced in EHLO SIZE); 451 4.3.0 when the
// store fails; 421 while shutting down. In LMTP, one message gets one reply
// per accepted recipient, all the same, since it is ingested once.

import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import {
  attemptIngest,
  describe,
  emit,
  type IntakeEventSink,
  type IntakeStore,
  MAX_MAIL_BYTES,
} from "./intake-attempt.ts";
import type { DkimVerifier, IngestOptions } from "./types.ts";

export interface MailIntakeOptions {
  store: IntakeStore;
  listen: { host: string; port: number };
  /** LMTP (LHLO, a reply per recipient) instead of SMTP. */
  lmtp: boolean;
  ingest?: IngestOptions;
  /** Verifies each message's DKIM signature (RFC 8460 §3); overrides `ingest.dkim`. */
  dkim?: DkimVerifier;
  /** Largest message accepted; by default a 10 MiB report base64-encoded plus its wrapper. */
  maxMessageBytes?: number;
  /** The name in the greeting and LHLO/EHLO reply; default `mtasts`. */
  hostname?: string;
  /** Offers STARTTLS with this certificate (SMTP from the internet); off without it. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Idle connection timeout; default 5 minutes (RFC 5321 §4.5.3.2 server timeout). */
  socketTimeoutMs?: number;
  /** Milliseconds close() lets open sessions finish before answering 421; default 10 s. */
  closeGraceMs?: number;
  onEvent?: IntakeEventSink;
}

export interface MailIntake {
  address(): { host: string; port: number };
  /** Stops accepting, finishes the messages being ingested, then closes every session. */
  close(): Promise<void>;
}

type SmtpReplyError = Error & { responseCode: number };

function smtpError(code: number, text: string): SmtpReplyError {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startReportMailIntake(options: MailIntakeOptions): Promise<MailIntake> {
  const maxBytes = options.maxMessageBytes ?? MAX_MAIL_BYTES;
  const ingestOptions: IngestOptions = {
    ...options.ingest,
    ...(options.dkim ? { dkim: options.dkim } : {}),
  };
  const channel = "smtp" as const;
  const onEvent = options.onEvent;
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const onData = (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void => {
    const origin = originOf(session, options.lmtp);
    if (closing) {
      stream.resume();
      callback(smtpError(421, "4.3.2 Service shutting down, try again later"));
      return;
    }
    const work = (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      // Past the limit the bytes are read and dropped, and the message refused.
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size <= maxBytes) chunks.push(chunk);
      }
      if (stream.sizeExceeded || size > maxBytes) {
        emit(onEvent, {
          type: "refused",
          channel,
          origin,
          reason: "too-large",
          detail: `message over ${maxBytes} bytes`,
        });
        callback(smtpError(552, `5.3.4 Message too big for a report (limit ${maxBytes} bytes)`));
        return;
      }
      const attempt = await attemptIngest(
        options.store,
        { bytes: Buffer.concat(chunks, size), channel, origin },
        ingestOptions,
        onEvent,
      );
      if (!attempt.ok) {
        callback(smtpError(451, "4.3.0 The report could not be stored; try again later"));
        return;
      }
      const outcome = attempt.outcome;
      const text =
        outcome.status === "quarantined"
          ? `2.6.0 Report received and quarantined (${outcome.code}) as ${outcome.quarantineId}`
          : outcome.status === "duplicate"
            ? `2.6.0 Report already received as ${outcome.id}`
            : `2.6.0 Report stored as ${outcome.id}`;
      callback(null, text);
    })().catch((err: unknown) => {
      emit(onEvent, { type: "intake-error", channel, origin, error: describe(err) });
      callback(smtpError(451, "4.3.0 Local error while receiving the report; try again later"));
    });
    inFlight.add(work);
    work.finally(() => inFlight.delete(work));
  };

  const server = new SMTPServer({
    lmtp: options.lmtp,
    name: options.hostname ?? "mtasts",
    banner: "TLS-RPT report intake",
    size: maxBytes,
    authOptional: true,
    disabledCommands: options.tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disableReverseLookup: true,
    logger: false,
    socketTimeout: options.socketTimeoutMs ?? 300_000,
    // close() drains in-flight messages itself first; the server's own wait
    // then only covers idle sessions, which need none.
    closeTimeout: 1,
    onData,
  });
  server.on("error", (err: Error) => {
    emit(onEvent, { type: "intake-error", channel, origin: "listener", error: describe(err) });
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  const bound = server.server.address() as AddressInfo;
  let closed: Promise<void> | null = null;

  return {
    address: () => ({ host: bound.address, port: bound.port }),
    close() {
      closed ??= (async () => {
        closing = true;
        const grace = options.closeGraceMs ?? 10_000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, grace);
          }),
        ]);
        clearTimeout(timer);
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closed;
    },
  };
}

/** For the record: the client, the name it gave, and the envelope. */
function originOf(session: SMTPServerSession, lmtp: boolean): string {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
  const to = session.envelope.rcptTo.map((r) => r.address).join(",");
  const proto = lmtp ? "lmtp" : "smtp";
  return `${proto} ${session.remoteAddress} helo=${session.hostNameAppearsAs ?? ""} from=<${from}> to=<${to}>`;
}
