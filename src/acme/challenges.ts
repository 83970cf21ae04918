// The challenges currently pending, as the host asks for them: HTTP-01 key
// authorizations by token, TLS-ALPN-01 certificates by SNI name. An entry
// exists only while its validation is in progress; the order removes it.

import type { ChallengeResponder, KeyPair } from "./types.ts";

export interface PendingChallenges extends ChallengeResponder {
  /** Answers `token` with `keyAuthorization` until the returned function is called. */
  addHttp01(token: string, keyAuthorization: string): () => void;
  /** Presents `pair` for ALPN acme-tls/1 with SNI `name` until the returned function is called. */
  addTlsAlpn01(name: string, pair: KeyPair): () => void;
}

export function createPendingChallenges(): PendingChallenges {
  const http = new Map<string, string>();
  const alpn = new Map<string, KeyPair>();
  const key = (name: string) => name.toLowerCase().replace(/\.$/, "");
  return {
    http01: (token) => http.get(token),
    tlsAlpn01: (servername) => alpn.get(key(servername)),
    addHttp01(token, keyAuthorization) {
      http.set(token, keyAuthorization);
      return () => {
        if (http.get(token) === keyAuthorization) http.delete(token);
      };
    },
    addTlsAlpn01(name, pair) {
      alpn.set(key(name), pair);
      return () => {
        if (alpn.get(key(name)) === pair) alpn.delete(key(name));
      };
    },
  };
}
