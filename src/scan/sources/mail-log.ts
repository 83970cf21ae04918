// Addresses in mail logs: the senders and recipients of delivered mail, the
// domains whose MTA-STS matters to this server. Every other line (and every
// odd one) yields nothing; a log line can never stop the read.
//
// Postfix: `postfix/qmgr[pid]: QUEUEID: from=<a@d>, …` (the sender, once per
//   message) and `postfix/smtp[pid]: QUEUEID: to=<a@d>, relay=…` (each
//   recipient handed to a remote SMTP server). Any syslog_name prefix
//   (`postfix-out/smtp`, `postfix/relay/smtp`), any timestamp format.
// Exim main log: `MSGID <= a@d …` (arrival) and `MSGID => a@d …` or
//   `MSGID -> a@d …` (delivery; `->` is another address of the same
//   delivery), in both message-id formats (4.97 changed it), with or without
//   `[pid]`, a time zone, or syslog in front.

const POSTFIX_FROM = /\/qmgr\[\d+\]: [0-9A-Za-z]+: from=<([^<>\s]*)>/;
const POSTFIX_TO = /\/(?:smtp|relay)\[\d+\]: [0-9A-Za-z]+: to=<([^<>\s]*)>/;
const EXIM =
  /(?:^|\s)[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} (?:<=|=>|->) (\S+)(?: <([^<>\s]*)>)?/;

/** The mail addresses a log line names (bounces' empty sender excluded). */
export function addressesInLogLine(line: string): string[] {
  const postfix = POSTFIX_FROM.exec(line) ?? POSTFIX_TO.exec(line);
  if (postfix) return postfix[1] ? [postfix[1]] : [];
  const exim = EXIM.exec(line);
  if (exim) {
    // `=> dave <dave@example.org>`: a local user, its address in brackets.
    const first = exim[1] ?? "";
    const address = first.includes("@") ? first : (exim[2] ?? "");
    return address.includes("@") ? [address] : [];
  }
  return [];
}
