// createHost(config, deps): the policy store, the certificate store, the
// HTTPS listeners, the optional port-80 challenge listeners and the id watch,
// wired together; `close()` drains in-flight requests and resolves when every
// socket is gone.

import { readFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { createResolver, systemServers } from "../adapters/dns.ts";
import { createLogger } from "../adapters/log.ts";
import { fetchPolicy } from "../adapters/policy-fetch.ts";
import { withAlpnChallenges } from "./alpn-challenge.ts";
import { createCertificateStore } from "./certificates.ts";
import { createChallengeServer } from "./challenge-server.ts";
import { createHttpsServer } from "./https-server.ts";
import { createIdWatch, type IdWatch } from "./id-watch.ts";
import { createMetricsServer, emptyMetrics, type HostSample } from "./metrics.ts";
import { createMirror, type Mirror } from "./mirror.ts";
import { createPolicyStore, type LoadProblem, type PolicyStore } from "./policies.ts";
import type { HostConfig, HostDeps, HostMetrics, ListenAddress } from "./types.ts";
import { watchDirs } from "./watch-dirs.ts";

export interface PolicyHost {
  /** Binds every listener; rejects when one cannot be bound. */
  listen(): Promise<void>;
  /** Bound addresses (port 0 in the config becomes the real port). */
  addresses(): { https: ListenAddress[]; http: ListenAddress[]; metrics: ListenAddress | null };
  /** Counters and gauges now (what /metrics shows). */
  sample(): HostSample;
  /** Re-reads policies and certificates, and fetches mirrored policies, now (SIGHUP). */
  reload(): Promise<{ policies: LoadProblem[]; certificates: string[] }>;
  /** Problems of the first load (invalid policies are not fatal). */
  readonly problems: LoadProblem[];
  readonly policies: PolicyStore;
  readonly idWatch: IdWatch | null;
  /** Mirror mode's fetcher (null without mirrored domains). */
  readonly mirror: Mirror | null;
  readonly metrics: HostMetrics;
  close(): Promise<void>;
}

/** Thrown when the host cannot start: a certificate that does not load. */
export class HostStartError extends Error {
  override name = "HostStartError";
}

export async function createHost(config: HostConfig, deps: HostDeps = {}): Promise<PolicyHost> {
  const log = deps.log ?? createLogger(config.log);
  const now = deps.now ?? Date.now;
  const metrics: HostMetrics = emptyMetrics();
  const files = new Map<string, string>();
  const perName = new Map<string, { cert: string; key: string }>();
  const mirrored = new Map<string, string>();
  for (const [domain, d] of config.domains) {
    if (d.mirror) mirrored.set(domain, d.mirror);
    else if (d.policy) files.set(domain, d.policy);
    else if (config.policies === null)
      throw new HostStartError(
        `domains.${domain} has no policy file and there is no policies directory`,
      );
    if (d.certificate) perName.set(`mta-sts.${domain}`, d.certificate);
  }
  const policies = createPolicyStore(
    { dir: config.policies, files, cacheMaxAge: config.cacheMaxAge },
    log,
  );
  const certificates = createCertificateStore({
    defaultPair: config.certificate,
    perName,
    source: deps.certificates,
    log,
  });
  const certProblems = await certificates.reload();
  if (certProblems.length > 0) throw new HostStartError(certProblems.join("\n"));
  if (!config.certificate && perName.size === 0 && !deps.certificates)
    throw new HostStartError(
      "no certificate: give a default certificate, per-domain ones, or a certificate source",
    );

  let idWatch: IdWatch | null = null;
  if (config.idCheck.enabled) {
    const resolver =
      deps.resolver ??
      createResolver({
        servers: config.dnsServers ?? systemServers(),
        timeoutMs: 3000,
        attempts: 2,
      });
    idWatch = createIdWatch({
      resolver,
      log,
      now,
      delayMs: config.idCheck.delayMs,
      intervalMs: config.idCheck.intervalMs,
    });
    const watch = idWatch;
    policies.onChange((c) => watch.changed(c));
  }
  const problems = await policies.reload();
  let mirror: Mirror | null = null;
  if (mirrored.size > 0) {
    const ca = config.mirror.caFile ? [readFileSync(config.mirror.caFile, "utf8")] : undefined;
    mirror = createMirror({
      sources: mirrored,
      refreshMs: config.mirror.refreshMs,
      fetch:
        deps.mirrorFetch ??
        ((source) =>
          fetchPolicy(source, { timeoutMs: config.mirror.timeoutMs, ...(ca ? { ca } : {}) })),
      store: policies,
      log,
    });
    await mirror.refreshNow();
  }
  if (policies.domains().length === 0)
    log.warn("no valid policy loaded: every request will get 404", {
      dir: config.policies ?? undefined,
    });

  let closing = false;
  let certWatch: { close(): void } | undefined;
  const https = config.listen.map(() =>
    createHttpsServer({
      limits: config.limits,
      sessionResumption: config.tls.sessionResumption,
      ticketKeys: deps.ticketKeys,
      certificates,
      table: () => policies.table,
      metrics,
      log,
      access: config.log.access,
      closing: () => closing,
    }),
  );
  const responder = deps.challenges;
  const fronts = responder
    ? https.map((s) => withAlpnChallenges(s, responder, config.limits, log))
    : https;
  const http: HttpServer[] = config.httpListen.map(() =>
    createChallengeServer({ responder: deps.challenges, limits: config.limits, metrics, log }),
  );
  const sample = (): HostSample => ({
    metrics: { ...metrics },
    domains: policies.domains().length,
    invalid: policies.invalidCount(),
  });
  const metricsServer =
    config.metricsListen && !deps.worker ? createMetricsServer(async () => sample()) : null;
  const bound = {
    https: [] as ListenAddress[],
    http: [] as ListenAddress[],
    metrics: null as ListenAddress | null,
  };

  const listenOne = (server: HttpServer | import("node:net").Server, at: ListenAddress) =>
    new Promise<ListenAddress>((resolve, reject) => {
      server.once("error", reject);
      const shared = deps.reusePort ? { reusePort: true, exclusive: true } : {};
      server.listen({ host: at.host, port: at.port, ...shared }, () => {
        server.off("error", reject);
        const a = server.address() as AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });

  async function reload() {
    metrics.reloads++;
    const [p, c] = await Promise.all([
      policies.reload(),
      certificates.reload(),
      mirror?.refreshNow(),
    ]);
    return { policies: p, certificates: c };
  }

  return {
    problems,
    policies,
    idWatch,
    mirror,
    metrics,
    async listen() {
      for (const [i, s] of fronts.entries())
        bound.https.push(await listenOne(s, config.listen[i] as ListenAddress));
      for (const [i, s] of http.entries())
        bound.http.push(await listenOne(s, config.httpListen[i] as ListenAddress));
      if (metricsServer && config.metricsListen)
        bound.metrics = await listenOne(metricsServer, config.metricsListen);
      policies.watch(config.reload);
      mirror?.start();
      // Certificates are replaced by renewals (certbot, acme.sh) in place or
      // through symlinks: watch their directories as the policies are watched.
      const certDirs = new Set<string>();
      for (const pair of [config.certificate, ...perName.values()])
        if (pair) for (const f of [pair.cert, pair.key]) certDirs.add(dirname(f));
      certWatch = watchDirs([...certDirs], () => void certificates.reload(), config.reload, log);
      log.info("policy host listening", {
        https: bound.https.map(show).join(","),
        http: bound.http.map(show).join(",") || undefined,
        domains: policies.domains().length,
      });
    },
    addresses: () => bound,
    sample,
    reload,
    async close() {
      closing = true;
      policies.close();
      mirror?.close();
      idWatch?.close();
      certWatch?.close();
      // The listening sockets stop accepting; each close callback fires once
      // the connections it accepted are gone.
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      const done = Promise.all(
        [...fronts, ...http].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      for (const s of [...https, ...http]) s.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          for (const s of [...https, ...http]) s.closeAllConnections();
          resolve();
        }, config.limits.shutdownTimeoutMs);
      });
      await Promise.race([done, late]);
      clearTimeout(timer);
      certificates.close();
    },
  };
}

function show(a: ListenAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
