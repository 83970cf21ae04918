// The flags that point a check at the world (--resolver, --timeout,
// --https-port, --smtp-port, --ca-file), read the same way by every command
// that runs one (check, rollout).

import { readFileSync } from "node:fs";
import { type DnsServerAddress, parseServerAddress } from "../adapters/dns.ts";
import type { CheckOptions } from "../check/types.ts";

export interface CheckFlagValues {
  resolver?: string[] | undefined;
  timeout?: string | undefined;
  "https-port"?: string | undefined;
  "smtp-port"?: string | undefined;
  "ca-file"?: string | undefined;
}

export type CheckFlags =
  | {
      ok: true;
      servers: DnsServerAddress[];
      options: CheckOptions;
      /** Two DNS tries must fit the check's budget with room for the steps after them. */
      dnsTimeoutMs: number;
    }
  /** `input`: the flag was well formed but its file was not (no usage text needed). */
  | { ok: false; message: string; input?: true };

export function checkFlags(values: CheckFlagValues): CheckFlags {
  const fail = (message: string, input?: true): CheckFlags =>
    input ? { ok: false, message, input } : { ok: false, message };
  const servers: DnsServerAddress[] = [];
  for (const r of values.resolver ?? []) {
    const s = parseServerAddress(r);
    if (s === null)
      return fail(
        `--resolver ${JSON.stringify(r)} is not HOST:PORT (e.g. 127.0.0.1:53 or [::1]:53)`,
      );
    servers.push(s);
  }
  const options: CheckOptions = {};
  if (values.timeout !== undefined) {
    const t = Number(values.timeout);
    if (!Number.isFinite(t) || t <= 0 || t > 3600)
      return fail(
        `--timeout ${JSON.stringify(values.timeout)} must be a number of seconds between 0 and 3600`,
      );
    options.timeoutMs = Math.round(t * 1000);
  }
  for (const key of ["https-port", "smtp-port"] as const) {
    const v = values[key];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      return fail(`--${key} ${JSON.stringify(v)} must be a port number 1-65535`);
    if (key === "https-port") options.httpsPort = n;
    else options.smtpPort = n;
  }
  const caFile = values["ca-file"];
  if (caFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(caFile, "utf8");
    } catch (err) {
      return fail(`cannot read --ca-file ${caFile}: ${(err as Error).message}`, true);
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----"))
      return fail(
        `--ca-file ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        true,
      );
    options.ca = [pem];
  }
  const dnsTimeoutMs = Math.min(5000, Math.floor((options.timeoutMs ?? 30_000) / 4));
  return { ok: true, servers, options, dnsTimeoutMs };
}
