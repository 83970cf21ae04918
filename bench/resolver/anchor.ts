// The anchor: postfix-mta-sts-resolver (PMSR, Python), never part of this
// repository. Its source is unpacked at run time into a temporary directory
// from PMSR_SRC, which may be a checkout (a directory holding the
// `postfix_mta_sts_resolver` package) or a git directory (its HEAD is
// archived). Without it the benchmark runs our daemon only and says how to get
// PMSR:
//   git clone https://github.com/Snawoot/postfix-mta-sts-resolver /tmp/pmsr-src
//   PMSR_SRC=/tmp/pmsr-src node bench/resolver/bench.ts
//
// PMSR has no DNS-server or CA setting: aiodns reads /etc/resolv.conf, the
// policy host is resolved by getaddrinfo, and policies are fetched from port
// 443 with Python's default trust store. So it runs in a private mount
// namespace (`unshare --mount`) where a resolv.conf naming the lab DNS is bind
// mounted over /etc/resolv.conf (the host's file is untouched, and the mount
// vanishes with the process), with SSL_CERT_FILE pointing at the lab root.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DaemonProcess, sharedConfig, startDaemonProcess } from "./daemon-process.ts";

export const PMSR_REPO = "https://github.com/Snawoot/postfix-mta-sts-resolver";
/** Where a clone of PMSR's repository is looked for when PMSR_SRC is unset. */
const DEFAULT_SRC = "/tmp/pmsr-src";
export const PYTHON = process.env.PMSR_PYTHON ?? "/usr/bin/python3";

export interface AnchorSource {
  /** The directory to put on PYTHONPATH. */
  path: string;
  version: string;
  python: string;
}

/** Finds and unpacks PMSR, or returns why not (with what to do about it). */
export function prepareAnchor(tmp: string): AnchorSource | { missing: string } {
  const src = process.env.PMSR_SRC ?? DEFAULT_SRC;
  const how = `get it with \`git clone ${PMSR_REPO} /tmp/pmsr-src\` and run with PMSR_SRC=/tmp/pmsr-src`;
  if (!existsSync(src)) return { missing: `postfix-mta-sts-resolver not found at ${src}; ${how}` };
  let path: string;
  if (existsSync(join(src, "postfix_mta_sts_resolver", "daemon.py"))) {
    path = src;
  } else {
    path = join(tmp, "pmsr");
    mkdirSync(path, { recursive: true });
    try {
      execFileSync("sh", ["-c", 'git -C "$1" archive HEAD | tar -x -C "$2"', "sh", src, path], {
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (err) {
      return { missing: `cannot unpack PMSR from ${src} (${String(err).trim()}); ${how}` };
    }
    if (!existsSync(join(path, "postfix_mta_sts_resolver", "daemon.py")))
      return { missing: `${src} holds no postfix_mta_sts_resolver package; ${how}` };
  }
  let version = "?";
  try {
    const setup = readFileSync(join(path, "setup.py"), "utf8");
    version = /version\s*=\s*['"]([^'"]+)/.exec(setup)?.[1] ?? "?";
  } catch {}
  let python: string;
  try {
    python = execFileSync(
      PYTHON,
      [
        "-c",
        "import sys, aiohttp, aiodns, yaml; print(sys.version.split()[0], 'aiohttp', aiohttp.__version__, 'aiodns', aiodns.__version__)",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    ).trim();
  } catch {
    return {
      missing: `${PYTHON} cannot import aiohttp, aiodns and yaml (Debian: apt-get install python3-aiohttp python3-aiodns python3-yaml; or set PMSR_PYTHON)`,
    };
  }
  return { path, version, python };
}

export async function startAnchor(o: {
  source: AnchorSource;
  dir: string;
  port: number;
  caFile: string;
  dnsAddress: string;
  cacheSize: number;
  cacheGrace: number;
  probe: { payload: string; ok: (reply: string) => boolean };
}): Promise<DaemonProcess> {
  const config = join(o.dir, "pmsr.yml");
  writeFileSync(config, sharedConfig(o));
  const resolvConf = join(o.dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${o.dnsAddress}\n`);
  const root = process.getuid?.() === 0;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PYTHONPATH: o.source.path,
    SSL_CERT_FILE: o.caFile,
  };
  return startDaemonProcess({
    name: "pmsr",
    command: "unshare",
    args: [
      ...(root ? [] : ["--user", "--map-root-user"]),
      "--mount",
      "sh",
      "-c",
      'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
      "sh",
      resolvConf,
      PYTHON,
      "-c",
      "from postfix_mta_sts_resolver.daemon import main; main()",
      "-c",
      config,
      "-v",
      "warn",
      "--disable-uvloop",
    ],
    env,
    dir: o.dir,
    host: "127.0.0.1",
    port: o.port,
    probe: o.probe,
  });
}
