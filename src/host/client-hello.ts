// Just enough of a TLS ClientHello (RFC 8446 §4.1.2) to read the server name
// (RFC 6066 §3) and the offered ALPN protocols (RFC 7301) before the TLS
// stack sees the bytes: a TLS-ALPN-01 challenge (RFC 8737) must be answered
// with a different certificate, chosen by ALPN, which SNICallback cannot see.

export type ClientHelloPeek =
  | { kind: "need-more" }
  | { kind: "not-tls" }
  | { kind: "hello"; servername: string | null; alpn: string[] };

/** Reads the first record; a ClientHello spread over several records is taken as offering no ALPN. */
export function peekClientHello(buf: Uint8Array): ClientHelloPeek {
  if (buf.length < 5) return { kind: "need-more" };
  if (buf[0] !== 0x16) return { kind: "not-tls" };
  const recordEnd = 5 + u16(buf, 3);
  if (buf.length < recordEnd) return { kind: "need-more" };
  const end = Math.min(recordEnd, 9 + u24(buf, 6));
  if (buf[5] !== 0x01) return { kind: "not-tls" };
  let p = 9 + 2 + 32; // version, random
  p += 1 + (buf[p] ?? 0); // session id
  p += 2 + u16(buf, p); // cipher suites
  p += 1 + (buf[p] ?? 0); // compression methods
  const extEnd = Math.min(end, p + 2 + u16(buf, p));
  p += 2;
  let servername: string | null = null;
  const alpn: string[] = [];
  while (p + 4 <= extEnd) {
    const type = u16(buf, p);
    const len = u16(buf, p + 2);
    const body = p + 4;
    p = body + len;
    if (p > extEnd) break;
    if (type === 0 && len >= 5 && buf[body + 2] === 0) {
      const n = u16(buf, body + 3);
      servername = ascii(buf, body + 5, Math.min(body + 5 + n, p));
    } else if (type === 16 && len >= 2) {
      let q = body + 2;
      while (q < p) {
        const n = buf[q] ?? 0;
        alpn.push(ascii(buf, q + 1, Math.min(q + 1 + n, p)));
        q += 1 + n;
      }
    }
  }
  return { kind: "hello", servername, alpn };
}

function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function u24(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 16) | ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0);
}

function ascii(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i] ?? 0);
  return s;
}
