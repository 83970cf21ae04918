// The policy host's configuration and the edges it can be handed (clock,
// DNS, certificate automation, logger), as createHost takes them.

import type { CertificateSource, ChallengeResponder } from "../acme/types.ts";
import type { DnsServerAddress, Resolver } from "../adapters/dns.ts";
import type { Logger } from "../adapters/log.ts";
import type { PolicyFetchResult } from "../adapters/policy-fetch.ts";

export interface ListenAddress {
  host: string;
  port: number;
}

export interface CertFiles {
  cert: string;
  key: string;
}

export interface DomainConfig {
  /** The policy file; default `<policies>/<domain>.txt`. */
  policy?: string;
  /** This domain's own certificate for `mta-sts.<domain>`. */
  certificate?: CertFiles;
  /** Mirror mode: serve a copy of this other domain's policy, fetched from mta-sts.<mirror>. */
  mirror?: string;
}

export interface AcmeSettings {
  /** Account key and certificates (created 0700). */
  stateDir: string;
  directoryUrl: string;
  email: string | null;
  challengeTypes: ("http-01" | "tls-alpn-01")[];
  /** Extra trusted roots (a PEM file) for the ACME server's own HTTPS (a private CA). */
  caFile: string | null;
}

export interface HostLimits {
  /** Largest request head (request line + headers) in bytes; larger gets 431. */
  maxHeaderBytes: number;
  /** From connection or previous request to the end of the request head (slowloris). */
  headersTimeoutMs: number;
  /** Whole request, head and (absent) body. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** TLS handshake must finish within this. */
  handshakeTimeoutMs: number;
  /** Concurrent connections per process; more are refused at accept. */
  maxConnections: number;
  /** On SIGTERM/close(): how long in-flight requests may finish before sockets are cut. */
  shutdownTimeoutMs: number;
}

export interface HostConfig {
  /** HTTPS listeners (port 443 in production). */
  listen: ListenAddress[];
  /** Port-80 listeners answering only ACME HTTP-01 challenges; empty for none. */
  httpListen: ListenAddress[];
  /** Plain-HTTP /metrics (Prometheus) and /healthz; null for none. */
  metricsListen: ListenAddress | null;
  /** Directory of `<domain>.txt` policy files; null when every domain is listed. */
  policies: string | null;
  /** Domains listed in the config (policy file and certificate per domain). */
  domains: Map<string, DomainConfig>;
  /** The certificate used for any policy host name it covers and no domain overrides. */
  certificate: CertFiles | null;
  tls: {
    /**
     * Let clients resume TLS sessions (tickets; keys shared by all workers).
     * Senders fetch a policy rarely and resume little, so this mostly helps
     * monitors and proxies; off makes every connection a full handshake.
     */
    sessionResumption: boolean;
  };
  /** `Cache-Control: max-age` on policy replies, seconds (STS-FETCH-05: senders ignore it). */
  cacheMaxAge: number;
  reload: {
    /** Quiet time after a file-system event before reloading. */
    debounceMs: number;
    /** Safety-net rescan of policy and certificate files (fs.watch misses events on some file systems). */
    rescanMs: number;
  };
  idCheck: {
    enabled: boolean;
    /** After a policy change, wait this long before looking at `_mta-sts` (DNS takes a while). */
    delayMs: number;
    /** While a change is not matched by a new id, look (and warn) again this often. */
    intervalMs: number;
  };
  mirror: {
    /** How often mirrored policies are fetched again. */
    refreshMs: number;
    /** The whole fetch (STS-FETCH-08). */
    timeoutMs: number;
    /** Extra trusted roots (PEM file) for the mirrored policy hosts. */
    caFile: string | null;
  };
  /** Certificates by ACME for every served domain without a certificate file of its own; null: off. */
  acme: AcmeSettings | null;
  /** DNS servers for the id check; null: /etc/resolv.conf. */
  dnsServers: DnsServerAddress[] | null;
  limits: HostLimits;
  /** Worker processes (node:cluster); 1 runs in-process. */
  workers: number;
  log: { level: "debug" | "info" | "warn" | "error"; format: "text" | "json"; access: boolean };
}

export interface HostDeps {
  log?: Logger;
  /** Milliseconds since the epoch (the id check's timers and log times). */
  now?: () => number;
  /** DNS for the `_mta-sts` id check; default a stub resolver on `dnsServers`. */
  resolver?: Resolver;
  /** ACME HTTP-01 and TLS-ALPN-01 answers (src/acme plugs in here). */
  challenges?: ChallengeResponder;
  /** Certificates issued by ACME, used for names no certificate file covers. */
  certificates?: CertificateSource;
  /** Bind with SO_REUSEPORT, each process its own socket (cluster workers). */
  reusePort?: boolean;
  /** A cluster worker: the primary serves metrics_listen, summing every worker's counters. */
  worker?: boolean;
  /** Fetches a mirrored domain's source policy; default fetchPolicy with `mirror` settings. */
  mirrorFetch?: (source: string) => Promise<PolicyFetchResult>;
  /** 48 bytes of TLS session ticket keys, the same in every worker so any worker can resume a session. */
  ticketKeys?: Buffer;
}

export interface HostMetrics {
  requests: number;
  policyReplies: number;
  notFound: number;
  misdirected: number;
  rejected: number;
  tlsErrors: number;
  reloads: number;
  challenges: number;
}
