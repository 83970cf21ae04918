// `mtasts reports listen`: run the report intakes an admin picks (HTTPS,
// LMTP/SMTP, IMAP polling, a Maildir watch) over one store until SIGTERM or
// SIGINT, then stop gracefully: no new reports, the ones in flight finish,
// the store closes. Each intake is a capability in src/reports; this file
// only maps flags to their options and events to log lines.

import type { IntakeEvent } from "../reports/intake-attempt.ts";
import { DEFAULT_DB, EXIT, type ReportsIo } from "./reports.ts";
import { type HostPort, parseListenArgs, resolveConfig } from "./reports-listen-config.ts";
import { stopSignal } from "./signals.ts";

export const LISTEN_HELP = `Usage:
  mtasts reports listen [--db D] [intakes…] [options]

Receives TLS-RPT reports (RFC 8460) until SIGTERM or SIGINT; see docs/reports-intake.md.

Intakes (at least one):
  --http HOST:PORT          plain HTTP POST receiver (behind a TLS-terminating proxy)
  --https HOST:PORT         HTTPS POST receiver; needs --cert and --key
  --lmtp HOST:PORT          LMTP listener (Postfix: mailbox_transport = lmtp:inet:HOST:PORT)
  --smtp HOST:PORT          SMTP listener (Postfix transport map: smtp:[HOST]:PORT)
  --imap URL                poll a mailbox: imap://USER@HOST[:PORT][/MAILBOX] or imaps://…
  --maildir DIR             watch a Maildir's new/ folder

Options:
  --db D                    SQLite file or postgres:// URL (default ${DEFAULT_DB})
  --path PATH               HTTP(S) path (default /tlsrpt)
  --cert FILE, --key FILE   PEM certificate chain and key for --https (and STARTTLS on --smtp)
  --rate-limit N            reports per minute per client over HTTP(S), burst N (default 300; 0: off)
  --trust-proxy             take the HTTP client address from X-Forwarded-For (behind a proxy)
  --imap-mailbox NAME       mailbox to poll (default: the URL's path, else INBOX)
  --imap-move FOLDER        move ingested messages there (created if missing)
  --imap-keep-unseen        do not mark ingested messages \\Seen (needs --imap-move)
  --imap-interval SECONDS   time between polls (default 60)
  --imap-password-file F    password (else the URL's, else $MTASTS_IMAP_PASSWORD)
  --imap-ca FILE            trust this CA for imaps/STARTTLS
  --maildir-move FOLDER     move ingested files to this Maildir++ folder (e.g. .Processed)
                            instead of cur/
  --unsigned keep|quarantine  mail reports without a passing DKIM signature by the
                            submitter's domain: keep (default: stored and flagged) or quarantine
  --managed-domain D        quarantine reports for other policy domains (repeatable)
  --no-dkim                 do not verify DKIM on mailed reports (recorded as unchecked)
  --resolver HOST[:PORT]    DNS server for DKIM keys (repeatable; default /etc/resolv.conf)
  --log-format text|json    (default text)
  -v, --verbosity LEVEL     debug, info, warn, error (default info)

Exit status: 0 after a clean stop, 1 when an intake cannot start (an address in use, a
missing Maildir), 2 usage error, 3 the store cannot be opened.
`;

interface Stoppable {
  name: string;
  close(): Promise<void>;
}

export async function runReportsListen(args: readonly string[], io: ReportsIo): Promise<number> {
  let parsed: ReturnType<typeof parseListenArgs>;
  try {
    parsed = parseListenArgs(args);
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(LISTEN_HELP);
    return 0;
  }
  if (positionals.length > 0)
    return usage(io, `unexpected argument ${JSON.stringify(positionals[0])}`);
  const config = resolveConfig(values, io.env);
  if ("error" in config) return usage(io, config.error);

  // --unsigned, --managed-domain and --no-dkim mean what they mean for `reports ingest`.
  const { ingestOptions } = await import("./reports-ingest-options.ts");
  const ingest = await ingestOptions(values, io);
  if ("error" in ingest) return usage(io, ingest.error);
  if (ingest.dkim && config.resolvers.length > 0) {
    const { createDkimVerifier, dkimTxtResolver } = await import("../reports/dkim.ts");
    const { createResolver } = await import("../adapters/dns.ts");
    ingest.dkim = createDkimVerifier({
      resolver: dkimTxtResolver(createResolver({ servers: config.resolvers })),
    });
  }

  const { createLogger } = await import("../adapters/log.ts");
  const log = createLogger({
    level: config.level,
    format: config.logFormat,
    write: (line) => io.stderr.write(line),
  });
  const { openReportStore } = await import("../reports/store.ts");
  let store: Awaited<ReturnType<typeof openReportStore>>;
  try {
    store = await openReportStore(config.db);
  } catch (err) {
    io.stderr.write(`mtasts: cannot open the report store: ${(err as Error).message}\n`);
    return EXIT.store;
  }
  const onEvent = (e: IntakeEvent) => logEvent(log, e);

  const running: Stoppable[] = [];
  try {
    if (config.http || config.https) {
      const { startReportHttpIntake } = await import("../reports/intake-http.ts");
      const rateLimit =
        config.ratePerMinute === 0
          ? (false as const)
          : { burst: config.ratePerMinute, perSecond: config.ratePerMinute / 60 };
      for (const [name, listen, tls] of [
        ["http", config.http, undefined],
        ["https", config.https, config.tls],
      ] as const) {
        if (!listen) continue;
        const intake = await startReportHttpIntake({
          store,
          listen,
          ...(tls ? { tls } : {}),
          path: config.path,
          rateLimit,
          trustProxy: config.trustProxy,
          ingest,
          onEvent,
        });
        running.push({ name, close: () => intake.close() });
        log.info("listening", { intake: name, address: show(intake.address()), path: config.path });
      }
    }
    for (const [name, listen] of [
      ["lmtp", config.lmtp],
      ["smtp", config.smtp],
    ] as const) {
      if (!listen) continue;
      const { startReportMailIntake } = await import("../reports/intake-smtp.ts");
      const intake = await startReportMailIntake({
        store,
        listen,
        lmtp: name === "lmtp",
        ingest,
        ...(name === "smtp" && config.tls ? { tls: config.tls } : {}),
        onEvent,
      });
      running.push({ name, close: () => intake.close() });
      log.info("listening", { intake: name, address: show(intake.address()) });
    }
    if (config.imap) {
      const { startImapPoller } = await import("../reports/intake-imap.ts");
      const poller = startImapPoller({
        store,
        imap: config.imap.connection,
        mailbox: config.imap.mailbox,
        markSeen: config.imap.markSeen,
        ...(config.imap.moveTo ? { moveTo: config.imap.moveTo } : {}),
        intervalMs: config.imap.intervalMs,
        ingest,
        onEvent,
      });
      running.push({ name: "imap", close: () => poller.close() });
      const c = config.imap.connection;
      log.info("polling", {
        intake: "imap",
        server: `${c.secure ? "imaps" : "imap"}://${c.user}@${c.host}:${c.port}`,
        mailbox: config.imap.mailbox,
      });
    }
    if (config.maildir) {
      const { startMaildirWatch } = await import("../reports/intake-maildir.ts");
      const watch = await startMaildirWatch({
        store,
        dir: config.maildir.dir,
        ...(config.maildir.moveTo ? { moveTo: config.maildir.moveTo } : {}),
        ingest,
        onEvent,
      });
      running.push({ name: "maildir", close: () => watch.close() });
      log.info("watching", { intake: "maildir", dir: config.maildir.dir });
    }
  } catch (err) {
    io.stderr.write(`mtasts: cannot start the intakes: ${(err as Error).message}\n`);
    await Promise.allSettled(running.map((r) => r.close()));
    await store.close().catch(() => {});
    return 1;
  }

  const signal = await stopSignal((second) =>
    log.warn("second signal: exiting now", { signal: second }),
  );
  log.info("stopping", { signal });
  const results = await Promise.allSettled(running.map((r) => r.close()));
  results.forEach((r, i) => {
    if (r.status === "rejected") {
      log.error("error while stopping", { intake: running[i]?.name, error: String(r.reason) });
    }
  });
  await store.close().catch((err: unknown) => {
    log.error("error while closing the store", { error: String(err) });
  });
  log.info("stopped");
  return 0;
}

type Logger = Awaited<ReturnType<typeof import("../adapters/log.ts")["createLogger"]>>;

function logEvent(log: Logger, e: IntakeEvent): void {
  switch (e.type) {
    case "report": {
      const o = e.outcome;
      if (o.status === "quarantined") {
        log.warn("report quarantined", {
          channel: e.channel,
          origin: e.origin,
          id: o.quarantineId,
          code: o.code,
          reason: o.reason,
        });
      } else {
        log.info(o.status === "stored" ? "report stored" : "duplicate report", {
          channel: e.channel,
          origin: e.origin,
          id: o.id,
          reportId: o.reportId,
          organization: o.organization,
          bytes: e.bytes,
        });
      }
      return;
    }
    case "refused":
      log.info("report refused", {
        channel: e.channel,
        origin: e.origin,
        reason: e.reason,
        detail: e.detail,
      });
      return;
    case "store-error":
      log.error("store failed; the sender will retry", {
        channel: e.channel,
        origin: e.origin,
        error: e.error,
      });
      return;
    case "intake-error":
      log.warn("intake error", { channel: e.channel, origin: e.origin, error: e.error });
      return;
  }
}

function show(a: HostPort): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function usage(io: ReportsIo, message: string): number {
  io.stderr.write(`mtasts reports listen: ${message}\n\n${LISTEN_HELP}`);
  return EXIT.usage;
}
