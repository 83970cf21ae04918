// Records as text a person or a tool publishes: zone-file lines and an
// nsupdate script. TXT data is split into character-strings of at most 255
// bytes (RFC 1035 §3.3.14); readers join them back (STS-REC-03, RPT-REC-02).

import type { DnsRecord } from "./types.ts";

const MAX_STRING = 255;

/** `"…" "…"`: the value quoted, split into ≤255-byte strings, `"` and `\` escaped. */
export function txtStrings(value: string): string {
  const bytes = new TextEncoder().encode(value);
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += MAX_STRING) {
    const chunk = new TextDecoder().decode(bytes.subarray(i, i + MAX_STRING));
    parts.push(`"${chunk.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  }
  return parts.length === 0 ? '""' : parts.join(" ");
}

function rdata(r: DnsRecord): string {
  if (r.type === "TXT") return txtStrings(r.value);
  if (r.type === "CNAME") return `${r.value}.`;
  return r.value;
}

/** One zone-file line: absolute name, TTL, class, type, data. */
export function zoneLine(r: DnsRecord): string {
  return `${r.name}.\t${r.ttl}\tIN\t${r.type}\t${rdata(r)}`;
}

export function zoneText(records: readonly DnsRecord[]): string {
  return records.map((r) => `${zoneLine(r)}\n`).join("");
}

/**
 * An nsupdate script replacing each record's RRset: a CNAME cannot sit beside
 * other data at its name, so its name is cleared first; other types replace
 * only their own type (another TXT at `_mta-sts` would be dropped with it:
 * RFC 8461 allows only the one record there).
 */
export function nsupdateScript(records: readonly DnsRecord[], comment?: string): string {
  const lines: string[] = [];
  if (comment !== undefined) for (const c of comment.split("\n")) lines.push(`; ${c}`);
  const cleared = new Set<string>();
  for (const r of records) {
    const key = r.type === "CNAME" ? `${r.name} *` : `${r.name} ${r.type}`;
    if (!cleared.has(key)) {
      lines.push(
        r.type === "CNAME" ? `update delete ${r.name}.` : `update delete ${r.name}. ${r.type}`,
      );
      cleared.add(key);
    }
    lines.push(`update add ${r.name}. ${r.ttl} ${r.type} ${rdata(r)}`);
  }
  lines.push("send");
  return `${lines.join("\n")}\n`;
}
