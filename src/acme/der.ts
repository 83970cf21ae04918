// The few DER (X.690) shapes a CSR and an RFC 8737 validation certificate
// need. Written here rather than taken from acme-client's crypto, whose
// ASN.1 library breaks when two copies of its schema package are installed
// side by side (as the lockfile has them: "Cannot get schema for ...").

export type Der = Uint8Array;

export function tlv(tag: number, ...contents: Der[]): Der {
  const length = contents.reduce((n, c) => n + c.length, 0);
  const head: number[] = [];
  if (length < 0x80) head.push(length);
  else {
    for (let n = length; n > 0; n = Math.floor(n / 256)) head.unshift(n % 256);
    head.unshift(0x80 | head.length);
  }
  const out = new Uint8Array(1 + head.length + length);
  out[0] = tag;
  out.set(head, 1);
  let at = 1 + head.length;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const sequence = (...items: Der[]): Der => tlv(0x30, ...items);
export const set = (...items: Der[]): Der => tlv(0x31, ...items);
export const octetString = (bytes: Der): Der => tlv(0x04, bytes);
export const utf8String = (text: string): Der => tlv(0x0c, new TextEncoder().encode(text));
export const booleanTrue = (): Der => tlv(0x01, Uint8Array.of(0xff));
/** `[n] EXPLICIT` (constructed, context-specific). */
export const explicit = (n: number, ...items: Der[]): Der => tlv(0xa0 | n, ...items);
/** `[n] IMPLICIT` of a constructed value, e.g. a CSR's attribute SET. */
export const implicitConstructed = (n: number, ...items: Der[]): Der => tlv(0xa0 | n, ...items);
/** BIT STRING with no unused bits. */
export const bitString = (bytes: Der): Der => tlv(0x03, Uint8Array.of(0), bytes);

/** A non-negative INTEGER from big-endian bytes or a small number. */
export function integer(value: number | Der): Der {
  const bytes: number[] = [];
  if (typeof value === "number") {
    for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    if (bytes.length === 0) bytes.push(0);
  } else {
    bytes.push(...value);
    while (bytes.length > 1 && bytes[0] === 0 && ((bytes[1] ?? 0) & 0x80) === 0) bytes.shift();
  }
  if (((bytes[0] ?? 0) & 0x80) !== 0) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

export function oid(dotted: string): Der {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let n = arc; ; n = Math.floor(n / 128)) {
      groups.unshift(n % 128);
      if (n < 128) break;
    }
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** UTCTime (years 1950–2049, RFC 5280 §4.1.2.5.1), whole seconds. */
export function utcTime(date: Date): Der {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, new TextEncoder().encode(text));
}

export function toPem(label: string, der: Der): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}
