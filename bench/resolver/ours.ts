// Our daemon as its own process, through the CLI a Postfix host would run:
// `mtasts resolver -c FILE`. Extra Node flags (e.g. `--cpu-prof
// --cpu-prof-dir=/tmp/prof`) come from BENCH_OURS_NODE_ARGS.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DaemonProcess, sharedConfig, startDaemonProcess } from "./daemon-process.ts";

const BIN = new URL("../../bin/mtasts.js", import.meta.url).pathname;

// Our daemon runs as the shipped systemd unit (docs/mtasts-resolver.service)
// runs it: V8's young generation capped (without it RSS grows by ~100 MB per
// 10,000 fetches) and two malloc arenas. BENCH_OURS_NODE_ARGS and
// BENCH_OURS_ARENAS override them (an empty BENCH_OURS_ARENAS leaves glibc's default).
export const OURS_NODE_ARGS = process.env.BENCH_OURS_NODE_ARGS ?? "--max-semi-space-size=2";
export const OURS_ARENAS = process.env.BENCH_OURS_ARENAS ?? "2";

export async function startOurs(o: {
  dir: string;
  port: number;
  caFile: string;
  dns: string;
  httpsPort: number;
  cacheSize: number;
  cacheGrace: number;
  probe: { payload: string; ok: (reply: string) => boolean };
}): Promise<DaemonProcess> {
  const config = join(o.dir, "mtasts.yml");
  writeFileSync(
    config,
    sharedConfig(o, [
      "dns:",
      `  servers: ["${o.dns}"]`,
      "tls:",
      `  ca_file: ${o.caFile}`,
      `  policy_port: ${o.httpsPort}`,
    ]),
  );
  const env = { ...process.env };
  if (OURS_ARENAS === "") delete env.MALLOC_ARENA_MAX;
  else env.MALLOC_ARENA_MAX = OURS_ARENAS;
  return startDaemonProcess({
    name: "mtasts",
    command: process.execPath,
    args: [
      ...OURS_NODE_ARGS.split(/\s+/).filter(Boolean),
      BIN,
      "resolver",
      "-c",
      config,
      "-v",
      "warn",
    ],
    dir: o.dir,
    host: "127.0.0.1",
    port: o.port,
    probe: o.probe,
    env,
  });
}
