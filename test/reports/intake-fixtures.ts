// What the intake tests share: the sample reports and their expected totals,
// a fresh SQLite store per test, RFC 8460 §5.3 report e-mails built around a
// report (optionally DKIM-signed with a key the test made), and the real
// clients that send them (curl, swaks).

import { execFile } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import type { ZoneData } from "../../lab/dns-server.ts";
import { extractReport } from "../../src/adapters/report-source.ts";
import { openReportStore, type ReportStore } from "../../src/reports/store.ts";

/** The shared sample folder next to the repo, or the copy in the repo when run elsewhere. */
export function samplesDir(): string {
  const shared = new URL("../../../shared/samples/tlsrpt/", import.meta.url).pathname;
  return existsSync(shared)
    ? shared
    : new URL("../fixtures/samples/tlsrpt/", import.meta.url).pathname;
}

export interface Sample {
  file: string;
  kind: "json" | "gz" | "eml";
  bytes: Buffer;
  organization: string;
  reportId: string;
  successful: number;
  failed: number;
}

interface ExpectedEntry {
  file: string;
  "organization-name": string;
  "report-id": string;
  "total-successful-session-count": number;
  "total-failure-session-count": number;
}

export function samples(): Sample[] {
  const dir = samplesDir();
  const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as ExpectedEntry[];
  return expected.map((e) => ({
    file: e.file,
    kind: e.file.endsWith(".eml") ? "eml" : e.file.endsWith(".gz") ? "gz" : "json",
    bytes: readFileSync(join(dir, e.file)),
    organization: e["organization-name"],
    reportId: e["report-id"],
    successful: e["total-successful-session-count"],
    failed: e["total-failure-session-count"],
  }));
}

/** The report JSON a sample carries, exactly as its sender wrote it. */
export async function reportJson(sample: Sample): Promise<Buffer> {
  if (sample.kind === "json") return sample.bytes;
  if (sample.kind === "gz") return gunzipSync(sample.bytes);
  const extracted = await extractReport(sample.bytes);
  if (!extracted.ok) throw new Error(`${sample.file}: no report in the e-mail`);
  return Buffer.from(extracted.json, "utf8");
}

/** (reporter, report-id) pairs: what a store that deduplicates keeps. */
export function distinctReports(list: Sample[]): number {
  return new Set(list.map((s) => `${s.organization.trim().toLowerCase()}\n${s.reportId}`)).size;
}

export interface TempStore {
  store: ReportStore;
  path: string;
  dir: string;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-intake-"));
  const path = join(dir, "reports.db");
  const store = await openReportStore(path);
  let closed = false;
  return {
    store,
    path,
    dir,
    async cleanup() {
      if (!closed) await store.close().catch(() => {});
      closed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function totals(store: ReportStore): Promise<{ successful: number; failed: number }> {
  return (await store.summary({}, "reporter")).total;
}

// --- report e-mail -----------------------------------------------------------

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: KeyObject;
  algorithm: "rsa-sha256" | "ed25519-sha256";
  /** The TXT record text to publish at `<selector>._domainkey.<domain>`. */
  record: string;
}

export function makeDkimKey(domain: string, selector: string, type: "rsa" | "ed25519"): DkimKey {
  if (type === "rsa") {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const p = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    return {
      domain,
      selector,
      privateKey,
      algorithm: "rsa-sha256",
      record: `v=DKIM1; k=rsa; s=tlsrpt; p=${p}`,
    };
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  // RFC 8463 §4.2: the bare 32-byte public key, not the SPKI wrapping.
  const raw = publicKey.export({ type: "spki", format: "der" }).subarray(-32).toString("base64");
  return {
    domain,
    selector,
    privateKey,
    algorithm: "ed25519-sha256",
    record: `v=DKIM1; k=ed25519; s=tlsrpt; p=${raw}`,
  };
}

/** A zone publishing the keys (TXT strings split at 255 bytes, RFC 7208 §3.3 style). */
export function keyZone(apex: string, keys: DkimKey[]): ZoneData {
  return {
    apex,
    records: keys.map((k) => ({
      type: "TXT" as const,
      name: `${k.selector}._domainkey.${k.domain}`,
      strings: k.record.match(/.{1,255}/g) ?? [],
    })),
  };
}

export interface MailOptions {
  /** TLS-Report-Submitter and the From domain. */
  submitter: string;
  /** TLS-Report-Domain. */
  policyDomain: string;
  reportId: string;
  /** Gzip the report part (the common case) or send it as +json. */
  gzip?: boolean;
}

/** An RFC 8460 §5.3 report e-mail (RPT-DLV-03/04/05), CRLF line ends. */
export function reportMail(json: Uint8Array, o: MailOptions): Buffer {
  const boundary = "----=_mtasts_test_boundary";
  const gzip = o.gzip ?? true;
  const payload = gzip ? gzipSync(json) : Buffer.from(json);
  const b64 = payload.toString("base64").replace(/.{76}/g, "$&\r\n");
  const name = `${o.submitter}!${o.policyDomain}!1700000000!1700086399.json${gzip ? ".gz" : ""}`;
  const lines = [
    `From: TLS Reports <noreply-tlsrpt@${o.submitter}>`,
    `To: tlsrpt@${o.policyDomain}`,
    `Subject: Report Domain: ${o.policyDomain} Submitter: ${o.submitter} Report-ID: <${o.reportId}@${o.submitter}>`,
    "Date: Tue, 21 Nov 2023 04:00:00 +0000",
    `Message-ID: <${o.reportId.replace(/[^A-Za-z0-9.-]/g, "_")}@${o.submitter}>`,
    `TLS-Report-Domain: ${o.policyDomain}`,
    `TLS-Report-Submitter: ${o.submitter}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    'Content-Type: text/plain; charset="us-ascii"',
    "Content-Transfer-Encoding: 7bit",
    "",
    `This is an aggregate TLS report from ${o.submitter}`,
    "",
    `--${boundary}`,
    `Content-Type: application/tlsrpt+${gzip ? "gzip" : "json"}`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: attachment; filename="${name}"`,
    "",
    b64,
    "",
    `--${boundary}--`,
    "",
  ];
  return Buffer.from(lines.join("\r\n"), "utf8");
}

/** The message with a DKIM-Signature by `key` prepended (headers RFC 8460 §5.3 asks to cover). */
export async function signMail(message: Buffer, key: DkimKey): Promise<Buffer> {
  const data = {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    algorithm: key.algorithm,
  };
  // mailauth reads headerList as one colon-separated string, whatever its types say.
  const headerList = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "tls-report-domain",
    "tls-report-submitter",
    "mime-version",
    "content-type",
  ].join(":") as unknown as string[];
  // signTime fixes t= once: without it mailauth stamps the clock twice, once for
  // the signed copy and once for the header it returns, and a second boundary
  // between the two breaks the signature (about 1 in 500 signings).
  const signed = await dkimSign(message, {
    ...data,
    headerList,
    signatureData: [data],
    signTime: new Date(),
  });
  if (signed.errors.length > 0) throw signed.errors[0];
  return Buffer.concat([Buffer.from(signed.signatures), message]);
}

// --- real clients -------------------------------------------------------------

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export interface CurlResult {
  status: number;
  body: string;
  /** Response headers, lowercase names. */
  headers: Record<string, string>;
  exit: number;
}

/** POSTs a file with curl; `-w` gives the status, `-D` the headers. */
export async function curlPost(
  url: string,
  file: string,
  contentType: string | null,
  extra: string[] = [],
): Promise<CurlResult> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-curl-"));
  try {
    const headersFile = join(dir, "headers");
    const bodyFile = join(dir, "body");
    const args = [
      "-sS",
      "-o",
      bodyFile,
      "-D",
      headersFile,
      "-w",
      "%{http_code}",
      "--data-binary",
      `@${file}`,
      ...(contentType === null ? ["-H", "Content-Type:"] : ["-H", `Content-Type: ${contentType}`]),
      ...extra,
      url,
    ];
    const r = await run("curl", args);
    const headers: Record<string, string> = {};
    const rawHeaders = existsSync(headersFile) ? readFileSync(headersFile, "latin1") : "";
    for (const line of rawHeaders.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return {
      status: Number(r.stdout.trim()) || 0,
      body: existsSync(bodyFile) ? readFileSync(bodyFile, "utf8") : "",
      headers,
      exit: r.code,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The replies swaks saw after the end of DATA (one per recipient in LMTP). */
export function dataReplies(swaksOutput: string): string[] {
  const lines = swaksOutput.split(/\r?\n/);
  // "->" in clear text, "~>" over TLS.
  const end = lines.findIndex((l) => /^ [-~]> \.$/.test(l));
  if (end < 0) return [];
  const replies: string[] = [];
  for (const line of lines.slice(end + 1)) {
    const m = /^<[-~*]{1,2} +(\d{3}.*)$/.exec(line);
    if (m) replies.push(m[1] as string);
    if (/^ [-~]> QUIT/.test(line)) break;
  }
  return replies;
}

export async function swaks(
  port: number,
  file: string,
  options: { lmtp: boolean; to?: string[] },
): Promise<{ replies: string[]; output: string; code: number }> {
  const to = options.to ?? ["tlsrpt@reports.test"];
  const r = await run("swaks", [
    "--server",
    "127.0.0.1",
    "--port",
    String(port),
    "--protocol",
    options.lmtp ? "LMTP" : "ESMTP",
    "--helo",
    "mta.sender.test",
    "--from",
    "noreply@sender.test",
    "--to",
    to.join(","),
    "--data",
    `@${file}`,
  ]);
  const output = r.stdout + r.stderr;
  return { replies: dataReplies(output), output, code: r.code };
}
