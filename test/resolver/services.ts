// The real Redis and PostgreSQL the resolver tests talk to, and whether they
// answer. Off CI an absent service skips its tests with a hint for starting
// it; on CI (CI set) it is a failure, since a missing service there would
// otherwise pass as a green run that tested nothing.

import { Redis } from "ioredis";
import { Client } from "pg";

export type ServiceKind = "redis" | "postgres";

export const redisUrl = (): string => process.env.MTASTS_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export const pgUrl = (): string =>
  process.env.MTASTS_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const START: Record<ServiceKind, string> = {
  redis: `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`,
  postgres: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
};
const PROBE_TIMEOUT_MS = 2000;
const probes = new Map<ServiceKind, Promise<string | undefined>>();

/**
 * The `skip` value for node:test: false when the service answers, else why
 * not and how to start it. With CI set, throws instead of skipping.
 */
export async function serviceSkip(kind: ServiceKind): Promise<string | false> {
  let probe = probes.get(kind);
  if (probe === undefined) {
    probe = kind === "redis" ? probeRedis(redisUrl()) : probePostgres(pgUrl());
    probes.set(kind, probe);
  }
  const problem = await probe;
  if (problem === undefined) return false;
  const url = kind === "redis" ? redisUrl() : pgUrl();
  const message = `${kind} at ${hidePassword(url)} did not answer (${problem}); start it with: ${START[kind]}`;
  if (process.env.CI) throw new Error(`${message} [CI is set, so a missing service fails]`);
  return message;
}

export async function serviceAvailable(kind: ServiceKind): Promise<boolean> {
  return (await serviceSkip(kind)) === false;
}

async function probeRedis(url: string): Promise<string | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    commandTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() rejects with a bare "Connection is closed."; the event has the cause.
  let cause: Error | undefined;
  redis.on("error", (error: Error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    const reason = cause ?? error;
    return reason instanceof Error ? reason.message : String(reason);
  } finally {
    // Past "end" there is nothing to close, and ioredis would arm a 2 s
    // destroy timer on the dead socket that holds the process open.
    if (redis.status !== "end") redis.disconnect();
  }
}

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

function hidePassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}
