// The DER shapes a CSR and an RFC 8737 validation certificate need: core's
// writer (src/core/der.ts, shared with the lab CA) and PEM wrapping.

import { boolean, type Der, tlv } from "../core/der.ts";

export * from "../core/der.ts";

export const booleanTrue = (): Der => boolean(true);
/** `[n] IMPLICIT` of a constructed value, e.g. a CSR's attribute SET. */
export const implicitConstructed = (n: number, ...items: Der[]): Der => tlv(0xa0 | n, ...items);

export function toPem(label: string, der: Der): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}
