// wrk against a policy URL whose host name must resolve to loopback: wrk
// takes the TLS server name (SNI) from the URL, so it runs in a private mount
// namespace where a bind-mounted /etc/hosts maps the policy host to
// 127.0.0.1 (nothing on the machine's own /etc/hosts changes). Needs root.

import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** Connect/read/write/timeout socket errors plus non-2xx answers. */
  errors: number;
  raw: string;
}

export async function wrk(o: {
  url: string;
  hostsFile: string;
  threads: number;
  connections: number;
  seconds: number;
  connectionClose: boolean;
}): Promise<WrkResult> {
  const args = [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    "--timeout",
    "5s",
    ...(o.connectionClose ? ["-H", "Connection: close"] : []),
    o.url,
  ];
  const { stdout } = await run(
    "unshare",
    ["--mount", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec wrk "$@"', o.hostsFile, ...args],
    { timeout: (o.seconds + 30) * 1000 },
  );
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    stdout,
  );
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    requestsPerSecond: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    errors: socketErrors + num(/Non-2xx or 3xx responses: (\d+)/),
    raw: stdout,
  };
}
