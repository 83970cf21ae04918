// Alert mail: one plain-text message per alert event, through nodemailer to
// the configured SMTP server. The subject names the domain, the rule and the
// subject; the body says what happened and what to do about it.

import { createTransport, type Transporter } from "nodemailer";
import type { MailTarget } from "./config.ts";
import type { AlertEvent } from "./outbox-queries.ts";
import type { AlertRule } from "./types.ts";

export interface AlertMail {
  subject: string;
  text: string;
}

export function mailTransport(
  target: MailTarget,
  options: { timeoutMs: number; ca?: string[] },
): Transporter {
  const s = target.smtp;
  return createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    // starttls: refuse to send in the clear; otherwise never upgrade (a lab or
    // local relay without a trusted certificate would fail the upgrade).
    requireTLS: !s.secure && s.starttls,
    ignoreTLS: !s.secure && !s.starttls,
    ...(s.auth === null ? {} : { auth: { user: s.auth.user, pass: s.auth.pass } }),
    tls: {
      ...(options.ca ? { ca: options.ca } : {}),
      ...(s.servername === null ? {} : { servername: s.servername }),
    },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
}

const RULE_TITLE: Record<AlertRule, string> = {
  "failure-rate": "TLS failure rate above threshold",
  "new-result-type": "new TLS failure type in reports",
  "cert-expiry": "MX certificate expiring",
  "policy-host": "MTA-STS policy host down or policy invalid",
  "id-out-of-step": "policy changed without a new _mta-sts id",
};

const ADVICE: Record<AlertRule, string> = {
  "failure-rate":
    "Look at which MX hosts and result types the failures come from (mtasts reports summary --domain DOMAIN --by result-type, or the dashboard's domain page), then fix the MX host's TLS setup. In testing mode mail is still delivered; in enforce mode these messages were not.",
  "new-result-type":
    "A sender met a TLS problem it never reported before. Check the MX host named in the reports (mtasts reports list --domain DOMAIN) and run mtasts check DOMAIN.",
  "cert-expiry":
    "Renew the MX host's certificate and reload the mail server; make sure renewal is automated. Check with: mtasts check DOMAIN.",
  "policy-host":
    "Senders cannot refresh the policy: fix the HTTPS server for mta-sts.DOMAIN (certificate, status 200, text/plain, valid policy text). Senders with a cached policy keep it until max_age runs out. Check with: mtasts check DOMAIN.",
  "id-out-of-step":
    'Publish a new id in the _mta-sts TXT record (e.g. the current date and time, "v=STSv1; id=20260101T000000;") so senders fetch the changed policy.',
};

const oneLine = (s: string, max: number) => s.replace(/\p{Cc}+/gu, " ").slice(0, max);

export function alertMail(payload: {
  event: AlertEvent;
  repeat?: boolean;
  alert: Record<string, unknown>;
}): AlertMail {
  const a = payload.alert;
  const rule = String(a.rule) as AlertRule;
  const domain = String(a.domain);
  const subject = oneLine(String(a.subject), 120);
  const resolved = payload.event === "alert.resolved";
  const head = resolved ? "RESOLVED" : payload.repeat ? "STILL OPEN" : "ALERT";
  const lines = [
    resolved
      ? `This alert is resolved (${String(a.resolvedAt)}).`
      : `${RULE_TITLE[rule] ?? rule} for ${domain}.`,
    "",
    String(a.message),
    "",
    `Domain:     ${domain}`,
    `Rule:       ${rule}`,
    `Subject:    ${subject}`,
    `First seen: ${String(a.firstSeen)}`,
    `Last seen:  ${String(a.lastSeen)}`,
    `Alert id:   ${String(a.id)}`,
  ];
  if (!resolved) {
    lines.push("", "What to do:", (ADVICE[rule] ?? "").replaceAll("DOMAIN", domain));
    lines.push(
      "",
      "This alert is sent once. Snooze or resolve it in the dashboard; it resolves by itself when the condition clears.",
    );
  }
  return {
    subject: oneLine(`[mtasts] ${head}: ${domain}: ${rule}: ${subject}`, 200),
    text: `${lines.join("\n")}\n`,
  };
}
