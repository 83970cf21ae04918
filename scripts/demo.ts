// `npm start`: the offline demo. Starts the lab (a loopback mini-internet with
// its own DNS, CA, policy hosts and MX hosts), runs `mtasts check` on a handful
// of domains with typical faults, asks the Postfix policy daemon (`mtasts
// resolver`) about them, tours `mtasts validate` over examples/, and ends on
// the dashboard (`mtasts serve`) with a month of reports and the monitor's
// checks of the same domains. No network beyond 127.0.0.0/8.

import { scenario, startLab } from "../lab/index.ts";
import { createLogger } from "../src/adapters/log.ts";
import { run } from "../src/cli/main.ts";
import { defaultResolverConfig } from "../src/resolver/config.ts";
import { startResolver } from "../src/resolver/daemon.ts";
import { dashboardTour } from "./demo-dashboard.ts";

const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s);
const started = performance.now();

const domains: [domain: string, story: string][] = [
  ["healthy.test", "a healthy domain: enforce mode, two MX hosts, TLS-RPT"],
  ["testing.test", "a domain still in testing mode"],
  ["expired.test", "an MX whose certificate expired"],
  ["redirect.test", "a policy host that redirects (senders never follow redirects)"],
  ["nostarttls.test", "a backup MX without STARTTLS"],
  ["dane.test", "DANE and MTA-STS side by side (DNSSEC-signed zone with TLSA records)"],
];

process.stdout.write(`${bold("mtasts offline demo")}: starting the lab on 127.0.0.0/8 …\n`);
const lab = await startLab(
  scenario(
    { domain: "healthy.test", mx: ["mx1", "mx2"] },
    { domain: "testing.test", mx: ["mx1"], mode: "testing", maxAge: 86400 },
    { domain: "expired.test", mx: ["mx1", "mx2"], faults: ["mx2:cert-expired"] },
    { domain: "redirect.test", mx: ["mx1"], faults: ["policy:redirect"] },
    { domain: "nostarttls.test", mx: ["mx1", "backup"], faults: ["backup:no-starttls"] },
    { domain: "dane.test", mx: ["mx1", "mx2"], dane: true },
  ),
);
process.stdout.write(
  `lab DNS at ${lab.resolver}, policy hosts on :${lab.httpsPort}, MX hosts on :${lab.smtpPort}\n`,
);

let exitCode = 0;
try {
  for (const [domain, story] of domains) {
    const args = ["check", ...lab.checkArgs(), domain];
    process.stdout.write(`\n${bold(`# ${story}`)}\n$ mtasts check ${domain}\n`);
    const code = await run(args, io);
    process.stdout.write(`(exit ${code})\n`);
  }
  await resolverTour();
  await validateTour();
  process.stdout.write(
    `\n${bold("# The dashboard: mtasts serve, with TLS-RPT reports and the monitor's checks")}\n`,
  );
  exitCode = await dashboardTour(
    lab,
    domains.map(([d]) => d),
    process.stdout,
  );
} finally {
  await lab.close();
}
process.stdout.write(
  `\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s, offline. On a real domain: npx mtasts check example.com\n`,
);
process.exitCode = exitCode;

/** The sending side: what `mtasts resolver` tells Postfix about the same domains. */
async function resolverTour(): Promise<void> {
  const config = defaultResolverConfig();
  config.listen = { kind: "tcp", host: "127.0.0.1", port: 0, reusePort: false };
  config.dnsServers = [{ host: lab.dns.address, port: lab.dns.port }];
  config.caFile = lab.caFile;
  config.policyPort = lab.httpsPort;
  const daemon = await startResolver(config, {
    log: createLogger({ level: "error", format: "text" }),
  });
  const address = daemon.address();
  const where = "path" in address ? address.path : `${address.host}:${address.port}`;
  process.stdout.write(
    `\n${bold("# The sending side: mtasts resolver, Postfix's smtp_tls_policy_maps")}\n` +
      `socketmap:inet:${where}:postfix replies (postmap -q shows the part after "OK "):\n`,
  );
  try {
    for (const [domain] of domains) {
      const reply = await daemon.lookup("postfix", domain);
      process.stdout.write(`  ${domain.padEnd(18)} ${reply}\n`);
    }
  } finally {
    await daemon.close();
  }
}

/** `mtasts validate` over the files in examples/. */
async function validateTour(): Promise<void> {
  const tour: [title: string, args: string[]][] = [
    ["A record with a typo in the id", ["validate", "sts-record", "v=STSv1; id=2026-11-23"]],
    [
      "A policy with the mistakes people make",
      ["validate", "policy", "examples/mta-sts-mistakes.txt"],
    ],
    ["A TLS-RPT report as it arrives by mail", ["validate", "report", "examples/report.eml"]],
  ];
  for (const [title, args] of tour) {
    process.stdout.write(`\n${bold(`# ${title}`)}\n$ mtasts ${args.map(quote).join(" ")}\n`);
    const code = await run(args, io);
    process.stdout.write(`(exit ${code})\n`);
  }
}

function quote(a: string): string {
  return /^[\w./@:=-]+$/.test(a) ? a : `'${a}'`;
}
