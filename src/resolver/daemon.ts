// `mtasts resolver`: the pieces wired together — cache, discovery, socketmap
// server, proactive refresher, metrics endpoint — from one ResolverConfig.
// Every I/O edge can be overridden so tests run the real daemon against the lab.

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createResolver, type Resolver, systemServers } from "../adapters/dns.ts";
import { createLogger, type Logger } from "../adapters/log.ts";
import { fetchPolicy as realFetchPolicy } from "../adapters/policy-fetch.ts";
import { openCache } from "./cache/index.ts";
import { createDiscovery, type Discovery } from "./discovery.ts";
import { createLookup } from "./lookup.ts";
import { createMetrics, memoryGauges, type ResolverMetrics } from "./metrics.ts";
import { type Refresher, startRefresher } from "./refresher.ts";
import { type SocketmapServer, startSocketmapServer } from "./socketmap-server.ts";
import type { PolicyCache, ResolverConfig, SocketmapLookup } from "./types.ts";

export interface ResolverOverrides {
  now?: () => number;
  random?: () => number;
  fetchPolicy?: typeof realFetchPolicy;
  /** Policy hosts' HTTPS port (443 unless a lab says otherwise). */
  httpsPort?: number;
  log?: Logger;
  /** An already open cache (tests share one between daemons). */
  cache?: PolicyCache;
}

export interface ResolverDaemon {
  address(): { host: string; port: number } | { path: string };
  metricsAddress(): { host: string; port: number } | null;
  lookup: SocketmapLookup;
  discovery: Discovery;
  metrics: ResolverMetrics;
  refresher: Refresher | null;
  cache: PolicyCache;
  /** Stops accepting, drains in-flight lookups (up to shutdown_timeout), closes the cache. */
  close(): Promise<void>;
}

export async function startResolver(
  config: ResolverConfig,
  overrides: ResolverOverrides = {},
): Promise<ResolverDaemon> {
  const log = overrides.log ?? createLogger(config.log);
  const now = overrides.now ?? Date.now;
  const metrics = createMetrics();
  const ca = config.caFile ? [readFileSync(config.caFile, "utf8")] : undefined;
  const servers = config.dnsServers ?? systemServers();
  if (servers.length === 0)
    throw new Error("no DNS servers: /etc/resolv.conf lists none; set dns.servers in the config");

  const resolvers = new Map<number, Resolver>();
  const dns = (timeoutMs: number): Resolver => {
    let r = resolvers.get(timeoutMs);
    if (!r) {
      // Two tries inside the zone's timeout: one lost UDP packet must not cost
      // the whole budget.
      r = createResolver({ servers, timeoutMs: Math.ceil(timeoutMs / 2), attempts: 2 });
      resolvers.set(timeoutMs, r);
    }
    return r;
  };

  const opened = overrides.cache ? null : await openCache(config.cache);
  const cache: PolicyCache = overrides.cache ?? (opened as PolicyCache);
  if (opened && opened.ignoredOptions.length > 0)
    log.warn("cache options not understood by this backend are ignored", {
      cache: config.cache.type,
      options: opened.ignoredOptions.join(","),
    });
  const discovery = createDiscovery(
    {
      dns,
      fetchPolicy: overrides.fetchPolicy ?? realFetchPolicy,
      cache,
      now,
      random: overrides.random ?? Math.random,
    },
    {
      cacheGraceMs: config.cacheGraceMs,
      negativeTtlMs: config.negativeTtlMs,
      fetchBackoffMs: config.fetchBackoffMs,
      fetchConcurrency: config.fetchConcurrency,
      dane: config.dane,
      hotSize: config.cache.type === "internal" ? config.cache.size : 100_000,
      fetch: {
        describeChain: false,
        ...(ca ? { ca } : {}),
        port: overrides.httpsPort ?? config.policyPort,
      },
      onEvent: (e) => {
        metrics.discovery(e);
        if (e.type === "fetch" && !e.ok)
          log.warn("policy fetch failed", {
            domain: e.domain,
            id: e.id,
            kind: e.kind,
            detail: e.detail,
          });
        else if (e.type === "fetch")
          log.info("policy fetched", { domain: e.domain, id: e.id, mode: e.mode, ms: e.ms });
        else if (e.type === "store-error")
          log.error("policy cache error", { domain: e.domain, detail: e.detail });
        else if (e.type === "dane")
          log.info("DANE applies", { domain: e.domain, verdict: e.verdict });
        else if (e.type === "txt" && e.outcome === "error" && log.enabled("debug"))
          log.debug("TXT lookup failed", { domain: e.domain, detail: e.detail });
      },
    },
  );
  const lookup = createLookup({
    discovery,
    defaultZone: config.defaultZone,
    zones: config.zones,
    observe: (kind, ms) => metrics.lookup(kind, ms),
  });

  let server: SocketmapServer;
  try {
    server = await startSocketmapServer({
      listen: config.listen,
      lookup,
      maxRequestBytes: config.limits.maxRequestBytes,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      maxConnections: config.limits.maxConnections,
      requestEvents: false,
      onEvent: (e) => {
        if (e.type === "connection-open") metrics.connection(1);
        else if (e.type === "connection-close") metrics.connection(-1);
        else if (e.type === "bad-request") {
          metrics.badRequest(e.reason);
          if (e.closed) log.warn("bad socketmap request; connection closed", { reason: e.reason });
          else log.debug("unusable socketmap request answered NOTFOUND", { reason: e.reason });
        } else if (e.type === "connection-refused") {
          metrics.badRequest(e.reason);
          log.warn("connection refused", { reason: e.reason });
        } else if (e.type === "lookup-error")
          log.error("lookup failed", { error: String(e.error) });
      },
    });
  } catch (err) {
    await cache.close().catch(() => {});
    throw err;
  }

  const refresher = config.proactive.enabled
    ? startRefresher({
        cache,
        discovery,
        intervalMs: config.proactive.intervalMs,
        concurrency: config.proactive.concurrency,
        graceRatio: config.proactive.graceRatio,
        timeoutMs: config.defaultZone.timeoutMs,
        now,
        log,
      })
    : null;

  let metricsServer: Server | null = null;
  if (config.metricsListen) {
    metricsServer = await serveMetrics(config.metricsListen, async () =>
      metrics.render({
        policies_in_memory: discovery.size().hot,
        negative_entries: discovery.size().negative,
        discoveries_in_flight: discovery.size().inflight,
        policies_stored: await cache.count().catch(() => -1),
        ...memoryGauges(),
      }),
    ).catch(async (err) => {
      await server.close(0);
      await cache.close().catch(() => {});
      throw err;
    });
  }

  const address = server.address();
  log.info("resolver listening", {
    ...("path" in address ? { path: address.path } : { host: address.host, port: address.port }),
    cache: config.cache.type,
    dane: config.dane,
  });

  return {
    address: () => address,
    metricsAddress: () => {
      const a = metricsServer?.address();
      return a && typeof a === "object" ? { host: a.address, port: a.port } : null;
    },
    lookup,
    discovery,
    metrics,
    refresher,
    cache,
    async close() {
      await refresher?.stop();
      await server.close(config.shutdownTimeoutMs);
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise<void>((r) => metricsServer?.close(() => r()));
      }
      if (!overrides.cache) await cache.close();
      log.info("resolver stopped");
    },
  };
}

async function serveMetrics(listen: string, render: () => Promise<string>): Promise<Server> {
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(at + 1));
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (req.url !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found; try /metrics\n");
      return;
    }
    render().then(
      (body) =>
        res
          .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
          .end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
