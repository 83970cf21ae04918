// The real daemon against the lab: config pointing DNS and trust at the lab,
// a free port, and the two clients tests use — our socketmap client and
// Postfix's own `postmap -q`.

import type { Lab } from "../../lab/index.ts";
import { createLogger } from "../../src/adapters/log.ts";
import { defaultResolverConfig } from "../../src/resolver/config.ts";
import {
  type ResolverDaemon,
  type ResolverOverrides,
  startResolver,
} from "../../src/resolver/daemon.ts";
import type { ResolverConfig } from "../../src/resolver/types.ts";
import { type PostmapResult, postmapQuery } from "./postmap.ts";
import { connectSocketmap } from "./socketmap-client.ts";

export interface LabResolver {
  daemon: ResolverDaemon;
  config: ResolverConfig;
  /** One request on a fresh connection. */
  ask(zone: string, key: string): Promise<string>;
  /** `postmap -q key socketmap:inet:…:zone`: stdout (data part) and exit code. */
  postmap(key: string, zone?: string): Promise<PostmapResult>;
  close(): Promise<void>;
}

export function labResolverConfig(lab: Lab, tweak?: (c: ResolverConfig) => void): ResolverConfig {
  const config = defaultResolverConfig();
  config.listen = { kind: "tcp", host: "127.0.0.1", port: 0, reusePort: false };
  config.dnsServers = [{ host: lab.dns.address, port: lab.dns.port }];
  config.caFile = lab.caFile;
  config.shutdownTimeoutMs = 2000;
  config.defaultZone.timeoutMs = 2000;
  config.log.level = "error";
  tweak?.(config);
  return config;
}

export async function startLabResolver(
  lab: Lab,
  tweak?: (c: ResolverConfig) => void,
  overrides: ResolverOverrides = {},
): Promise<LabResolver> {
  const config = labResolverConfig(lab, tweak);
  const daemon = await startResolver(config, {
    httpsPort: lab.httpsPort,
    // MTASTS_TEST_LOG=1 shows the daemon's own log while a test runs.
    log: createLogger({
      level: "debug",
      format: "text",
      write: (line) => {
        if (process.env.MTASTS_TEST_LOG) process.stderr.write(line);
      },
    }),
    ...overrides,
  });
  const address = daemon.address();
  return {
    daemon,
    config,
    async ask(zone, key) {
      const client = await connectSocketmap(address);
      try {
        return await client.request(zone, key);
      } finally {
        await client.close();
      }
    },
    async postmap(key, zone = "postfix") {
      const map =
        "path" in address
          ? `socketmap:unix:${address.path}:${zone}`
          : `socketmap:inet:${address.host}:${address.port}:${zone}`;
      return postmapQuery(key, map);
    },
    close: () => daemon.close(),
  };
}
