// Just enough DER (X.690) to write X.509 certificates and CSRs: the lab CA's
// certificates (every fault a few bytes we control) and ACME's CSR and RFC 8737
// validation certificate. Written here rather than taken from an ASN.1 library:
// acme-client's breaks when two copies of its schema package are installed side
// by side (as mailauth's dependencies make it), and @peculiar/x509 with it.

export type Der = Uint8Array;

export function tlv(tag: number, ...contents: Der[]): Der {
  const length = contents.reduce((n, c) => n + c.length, 0);
  const head =
    length < 0x80
      ? [length]
      : (() => {
          const bytes: number[] = [];
          for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
          return [0x80 | bytes.length, ...bytes];
        })();
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
/** `[n] EXPLICIT` (constructed, context-specific). */
export const explicit = (n: number, ...items: Der[]): Der => tlv(0xa0 | n, ...items);
/** `[n] IMPLICIT` of a primitive value (context-specific). */
export const implicit = (n: number, bytes: Der): Der => tlv(0x80 | n, bytes);
export const octetString = (bytes: Der): Der => tlv(0x04, bytes);
export const nullValue = (): Der => tlv(0x05);
export const boolean = (value: boolean): Der => tlv(0x01, Uint8Array.of(value ? 0xff : 0));
export const utf8String = (text: string): Der => tlv(0x0c, new TextEncoder().encode(text));
export const ascii = (text: string): Der => new TextEncoder().encode(text);

/** A non-negative INTEGER from big-endian bytes (a leading 0 is added when the top bit is set). */
export function integer(value: number | Der): Der {
  let bytes: number[];
  if (typeof value === "number") {
    bytes = [];
    for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    if (bytes.length === 0) bytes = [0];
  } else {
    bytes = [...value];
    while (bytes.length > 1 && bytes[0] === 0 && ((bytes[1] ?? 0) & 0x80) === 0) bytes.shift();
  }
  if (((bytes[0] ?? 0) & 0x80) !== 0) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

/** BIT STRING with `unused` padding bits in the last byte. */
export const bitString = (bytes: Der, unused = 0): Der => tlv(0x03, Uint8Array.of(unused), bytes);

export function oid(dotted: string): Der {
  const parts = dotted.split(".").map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out = [40 * a + b];
  for (const part of rest) {
    const groups: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) {
      groups.unshift(0x80 | (n & 0x7f));
    }
    out.push(...groups);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function time(date: Date): Der {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, ascii(digits.slice(2))) : tlv(0x18, ascii(digits));
}
