// `npm start`: a short offline tour of `mtasts validate` over examples/.
// (When the lab lands, this becomes the full offline demo against it.)

import { run } from "../src/cli/main.ts";

const steps: [title: string, args: string[]][] = [
  ["A correct _mta-sts TXT record", ["validate", "sts-record", "v=STSv1; id=20261123T090000;"]],
  [
    "A record with a typo in the id (hyphens are not allowed)",
    ["validate", "sts-record", "v=STSv1; id=2026-11-23"],
  ],
  [
    "A TLS-RPT record with two destinations",
    [
      "validate",
      "tlsrpt-record",
      "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.com/v1/tlsrpt",
    ],
  ],
  [
    "A good policy file, and is our backup MX covered?",
    ["validate", "policy", "--mx", "backup.mail.example.net", "examples/mta-sts.txt"],
  ],
  [
    "A policy with the mistakes people make",
    ["validate", "policy", "examples/mta-sts-mistakes.txt"],
  ],
  [
    "A TLS-RPT report as it arrives by mail (gzip attachment)",
    ["validate", "report", "examples/report.eml"],
  ],
  [
    "The same policy as JSON, for scripts",
    ["validate", "policy", "--json", "examples/mta-sts.txt"],
  ],
];

const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
const bold = (s: string) =>
  process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[22m` : s;
for (const [title, args] of steps) {
  process.stdout.write(`\n${bold(`# ${title}`)}\n$ mtasts ${args.map(quote).join(" ")}\n`);
  const code = await run(args, io);
  process.stdout.write(`(exit ${code})\n`);
}
process.stdout.write("\nTry it on your own domain's files: npx mtasts validate --help\n");

function quote(a: string): string {
  return /^[\w./@:=-]+$/.test(a) ? a : `'${a}'`;
}
