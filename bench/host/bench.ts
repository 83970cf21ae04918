// `mtasts host` beside Debian's nginx (the anchor) serving the same policy
// file with the same certificate over TLS 1.2+1.3 on loopback, in one run,
// measured with wrk: keep-alive requests/s, and one new TLS connection per
// request (`Connection: close`, what real senders do). Rounds alternate
// between the two servers; medians are reported with ratios ours/nginx.
//
//   node bench/host/bench.ts
//
// Environment:
//   BENCH_QUICK=1          short runs (3 s, one round)
//   BENCH_SECONDS=10       seconds per wrk run
//   BENCH_ROUNDS=3         alternating rounds per case (medians reported)
//   BENCH_CONNECTIONS=50   wrk -c
//   BENCH_THREADS=2        wrk -t
//   BENCH_WORKERS=auto     our worker processes (nginx: worker_processes auto)
//
// Needs root (wrk runs in a private mount namespace, see wrk.ts), nginx and wrk.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTestCa } from "../../lab/ca.ts";
import { startNginx } from "./nginx.ts";
import { wrk } from "./wrk.ts";

const run = promisify(execFile);
const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 3 : 10));
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const THREADS = Number(env.BENCH_THREADS ?? 2);
const WORKERS = env.BENCH_WORKERS ?? "auto";
const NAME = "mta-sts.bench.test";
const OUR_PORT = 18443;
const NGINX_PORT = 18444;
const PROBE_PORT = 18445;
const OUR_FULL_PORT = 18446;
const NGINX_FULL_PORT = 18447;
const POLICY =
  "version: STSv1\nmode: enforce\nmx: mx1.bench.test\nmx: *.mx.bench.test\nmax_age: 1209600\n";

const dir = mkdtempSync("/tmp/mtasts-bench-host-");
const children: ChildProcess[] = [];

async function main(): Promise<void> {
  const ca = await createTestCa();
  const cert = await ca.issue({ names: [NAME] });
  const files = {
    cert: join(dir, "cert.pem"),
    key: join(dir, "key.pem"),
    ca: ca.writeCaFile(dir),
    policies: join(dir, "policies"),
    hosts: join(dir, "hosts"),
  };
  writeFileSync(files.cert, cert.chainPem);
  writeFileSync(files.key, cert.keyPem);
  (await import("node:fs")).mkdirSync(files.policies);
  const policyFile = join(files.policies, "bench.test.txt");
  writeFileSync(policyFile, POLICY);
  writeFileSync(files.hosts, `127.0.0.1 localhost ${NAME}\n`);
  const ourConfig = (port: number, resume: boolean) =>
    `listen: 127.0.0.1:${port}\npolicies: ${files.policies}\ncertificate: { cert: ${files.cert}, key: ${files.key} }\nworkers: ${WORKERS}\ntls: { session_resumption: ${resume} }\nid_check: { enabled: false }\nlog: { level: warn }\n`;
  const bin = new URL("../../bin/mtasts.js", import.meta.url).pathname;
  for (const [port, resume] of [
    [OUR_PORT, true],
    [OUR_FULL_PORT, false],
  ] as const) {
    const file = join(dir, `host-${port}.yml`);
    writeFileSync(file, ourConfig(port, resume));
    children.push(
      spawn(process.execPath, [bin, "host", "-c", file], {
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
  }
  children.push(
    startNginx({
      dir,
      port: NGINX_PORT,
      probePort: PROBE_PORT,
      fullPort: NGINX_FULL_PORT,
      serverName: NAME,
      cert: files.cert,
      key: files.key,
      policyFile,
    }),
  );
  const url = (port: number) => `https://${NAME}:${port}/.well-known/mta-sts.txt`;
  const curl = (port: number) =>
    run("curl", [
      "-s",
      "-i",
      "--resolve",
      `${NAME}:${port}:127.0.0.1`,
      "--cacert",
      files.ca,
      url(port),
    ]).then((r) => r.stdout);
  const ready = async (port: number) => {
    for (let i = 0; i < 100; i++) {
      const out = await curl(port).catch(() => "");
      if (out.startsWith("HTTP/1.1 200")) return out;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nothing answers on port ${port}`);
  };
  const [a, b] = [await ready(OUR_PORT), await ready(NGINX_PORT)];
  for (const [who, out] of [
    ["ours", a],
    ["nginx", b],
  ] as const) {
    if (!out.endsWith(POLICY) || !/content-type: text\/plain; charset=utf-8/i.test(out))
      throw new Error(`${who} does not serve the policy as expected:\n${out}`);
  }

  // Does wrk resume TLS sessions? nginx logs $ssl_session_reused on the probe port.
  await wrk({
    url: url(PROBE_PORT),
    hostsFile: files.hosts,
    threads: 1,
    connections: 2,
    seconds: 1,
    connectionClose: true,
  });
  const reuse = readFileSync(join(dir, "nginx-reuse.log"), "utf8").split("\n").filter(Boolean);
  const resumed = reuse.filter((l) => l === "r").length;

  // And do the servers resume? openssl s_client -reconnect: 1 new + 5 resumed at best.
  const reconnect = async (port: number) => {
    const r = await run(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", NAME, "-tls1_2", "-reconnect"],
      { timeout: 20_000 },
    ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }));
    return (r.stdout.match(/^Reused,/gm) ?? []).length;
  };
  const serverReuse = {
    ours: await reconnect(OUR_PORT),
    nginx: await reconnect(NGINX_PORT),
    oursFull: await reconnect(OUR_FULL_PORT),
    nginxFull: await reconnect(NGINX_FULL_PORT),
  };

  const cases = [
    { name: "keep-alive requests/s", close: false, target: 0.5, ports: [OUR_PORT, NGINX_PORT] },
    {
      name: "new TLS connection per request (sessions resumed, as wrk does), requests/s",
      close: true,
      target: 0.8,
      ports: [OUR_PORT, NGINX_PORT],
    },
    {
      name: "new TLS connection per request, full handshakes (resumption off on both), requests/s",
      close: true,
      target: 0.8,
      ports: [OUR_FULL_PORT, NGINX_FULL_PORT],
    },
  ];
  const rows: string[] = [];
  for (const c of cases) {
    const figures = { ours: [] as number[], nginx: [] as number[] };
    let errors = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? (["ours", "nginx"] as const) : (["nginx", "ours"] as const);
      for (const who of order) {
        const res = await wrk({
          url: url(who === "ours" ? (c.ports[0] as number) : (c.ports[1] as number)),
          hostsFile: files.hosts,
          threads: THREADS,
          connections: CONNECTIONS,
          seconds: SECONDS,
          connectionClose: c.close,
        });
        figures[who].push(res.requestsPerSecond);
        errors += res.errors;
        process.stderr.write(
          `${c.name} round ${r + 1} ${who}: ${Math.round(res.requestsPerSecond)} req/s, ${res.errors} errors\n`,
        );
      }
    }
    const o = median(figures.ours);
    const n = median(figures.nginx);
    const ratio = o / n;
    rows.push(
      `| ${c.name} | ${fmt(o)} | ${fmt(n)} | **${ratio.toFixed(2)}x** | ≥ ${c.target}x ${ratio >= c.target ? "met" : "not met"} | ${errors} |`,
    );
  }
  const cpu = cpus()[0]?.model ?? "?";
  process.stdout.write(`
Host bench: ${availableParallelism()} CPUs (${cpu}), Node ${process.version}, ${(await run("/usr/sbin/nginx", ["-v"])).stderr.trim()}
wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} alternating round(s), medians; ours: workers ${WORKERS}; nginx: worker_processes auto
TLS session resumption by wrk: ${resumed} of ${reuse.length} probe connections resumed (nginx $ssl_session_reused)
Servers resuming (openssl s_client -tls1_2 -reconnect, resumed of 5): ours ${serverReuse.ours}, nginx ${serverReuse.nginx}; resumption off: ours ${serverReuse.oursFull}, nginx ${serverReuse.nginxFull}

| case | mtasts host | nginx | ours/nginx | target | errors |
|---|---:|---:|---:|---|---:|
${rows.join("\n")}
`);
}

function median(xs: number[]): number {
  const s = xs.toSorted((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function cleanup(): void {
  for (const c of children) c.kill("SIGTERM");
}

try {
  await main();
} finally {
  cleanup();
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
