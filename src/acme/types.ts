// What the policy host needs from certificate automation, and nothing more:
// the host answers challenges and serves whatever certificate is current; the
// ACME side (src/acme/) decides when to order, renew and retry. Keeping the
// seam this narrow lets `host` run with certificates from files and no ACME.

/** PEM text of a certificate chain (leaf first) and its private key. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface ChallengeResponder {
  /** The key authorization to answer on port 80 for an HTTP-01 token, while that challenge is pending. */
  http01(token: string): string | undefined;
  /**
   * The self-signed acmeIdentifier certificate to present for TLS-ALPN-01
   * (RFC 8737) when a client offers ALPN `acme-tls/1` with this SNI name,
   * while that challenge is pending.
   */
  tlsAlpn01(servername: string): KeyPair | undefined;
}

export interface CertificateSource {
  /** The current certificate for a name (exact, or a wildcard covering it), or undefined before issuance. */
  get(name: string): (KeyPair & { notAfter: Date }) | undefined;
  /** Called after each issuance or renewal, so a server can rebuild its TLS context for `name`. */
  onChange(listener: (name: string) => void): void;
}

/** Certificate automation for a set of names: challenges answered through the host, results persisted. */
export interface AcmeManager extends ChallengeResponder, CertificateSource {
  /** Orders certificates for names that have none (or that are due), resolving when each attempt settled. */
  ensure(names: readonly string[]): Promise<void>;
  /** Stops renewal timers; pending orders are abandoned, nothing persisted is lost. */
  stop(): Promise<void>;
}
