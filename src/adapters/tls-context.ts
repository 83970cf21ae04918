// TLS client contexts shared by every adapter that dials out (policy fetch,
// SMTP probe, resolver). Building one is the dominant CPU cost of a short
// check when done naively, so contexts are cached per option set.

import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";

export interface TrustOptions {
  /** Extra trusted roots (PEM), added to Node's bundled web PKI roots. */
  ca?: readonly string[] | undefined;
  minVersion: "TLSv1" | "TLSv1.2";
  ciphers?: string | undefined;
}

interface NativeContext {
  addCACert?: (pem: string) => void;
}

const MAX_CONTEXTS = 16;
const contexts = new Map<string, SecureContext>();

export function trustContext(options: TrustOptions): SecureContext {
  const { ca, minVersion, ciphers } = options;
  const key = `${minVersion}\0${ciphers ?? ""}\0${ca?.join("\n") ?? ""}`;
  let ctx = contexts.get(key);
  if (ctx) return ctx;
  ctx = createSecureContext({ minVersion, ...(ciphers ? { ciphers } : {}) });
  if (ca && ca.length > 0) {
    // Adding to the already-loaded root store costs ~1 ms; passing
    // `ca: [...rootCertificates, ...ca]` re-parses ~150 PEM roots (~8 ms)
    // per context. Fall back to that if the native method ever goes away.
    const native = (ctx as unknown as { context?: NativeContext }).context;
    if (typeof native?.addCACert === "function") {
      for (const pem of ca) native.addCACert(pem);
    } else {
      ctx = createSecureContext({
        minVersion,
        ...(ciphers ? { ciphers } : {}),
        ca: [...rootCertificates, ...ca],
      });
    }
  }
  if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value ?? "");
  contexts.set(key, ctx);
  return ctx;
}
