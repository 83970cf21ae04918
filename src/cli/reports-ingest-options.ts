// Options shared by `reports ingest` and `reports quarantine reingest`: DKIM,
// the policy for unsigned mail, managed domains. The DKIM verifier is the
// intakes' src/reports/dkim.ts, loaded only if it is there: until it exists,
// mailed reports are recorded as unchecked and we say so once.

import { existsSync } from "node:fs";
import { policyDomain } from "../core/names.ts";
import type { DkimVerifier, IngestOptions } from "../reports/types.ts";
import type { ReportsIo } from "./reports.ts";

export const INGEST_OPTIONS = {
  "no-dkim": { type: "boolean", default: false },
  unsigned: { type: "string" },
  "managed-domain": { type: "string", multiple: true },
} as const;

interface Values {
  "no-dkim"?: boolean;
  unsigned?: string;
  "managed-domain"?: string[];
}

/** IngestOptions from the flags, or a usage message. */
export async function ingestOptions(
  values: Values,
  io: ReportsIo,
): Promise<IngestOptions | { error: string }> {
  const options: IngestOptions = {};
  if (values.unsigned !== undefined) {
    if (values.unsigned !== "keep" && values.unsigned !== "quarantine") {
      return { error: `--unsigned ${JSON.stringify(values.unsigned)} must be keep or quarantine` };
    }
    options.unsigned = values.unsigned;
  }
  if (values["managed-domain"] !== undefined) {
    const domains = new Set<string>();
    for (const d of values["managed-domain"]) {
      const name = policyDomain(d);
      if (name === null) {
        return {
          error: `--managed-domain ${JSON.stringify(d)} is not a domain name (e.g. example.com)`,
        };
      }
      domains.add(name);
    }
    options.domains = domains;
  }
  if (!values["no-dkim"]) {
    const loaded = await loadDkimVerifier();
    if (loaded.verifier !== undefined) options.dkim = loaded.verifier;
    else io.stderr.write(`mtasts: note: ${loaded.note}\n`);
  }
  return options;
}

interface DkimModule {
  createDkimVerifier?: (options?: {
    resolver?: (name: string, type: string) => Promise<unknown>;
  }) => DkimVerifier;
}

/** Found by the file's presence, so this works before and after the verifier lands. */
async function loadDkimVerifier(): Promise<{ verifier?: DkimVerifier; note: string }> {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "../reports/dkim.ts" : "../reports/dkim.js", import.meta.url);
  const missing =
    "mailed reports are recorded with DKIM unchecked: this mtasts has no DKIM verifier yet (use --no-dkim to silence this)";
  if (!existsSync(url)) return { note: missing };
  const mod = (await import(url.href)) as DkimModule;
  if (typeof mod.createDkimVerifier !== "function") return { note: missing };
  return { verifier: mod.createDkimVerifier(), note: "" };
}
