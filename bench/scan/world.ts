// The benchmark's lab, in its own process so that serving DNS and HTTPS does
// not share an event loop (or a CPU's worth of time slices) with the scan
// being measured. Builds a survey world (lab/survey.ts), writes the list to
// scan and each domain's expected verdict, prints one line `ready <json>`,
// and exits when stdin closes.
//   node bench/scan/world.ts '{"size":1000,"dir":"/tmp/x"}'

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scenario, startLab } from "../../lab/index.ts";
import { type SurveyOptions, surveyWorld } from "../../lab/survey.ts";

export interface WorldSpec extends SurveyOptions {
  dir: string;
}

export interface WorldReady {
  args: string[];
  dnsPort: number;
  httpsPort: number;
  caFile: string;
  list: string;
  expected: string;
  domains: number;
  buildMs: number;
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as WorldSpec;
  const started = performance.now();
  const world = surveyWorld(spec);
  const lab = await startLab(scenario(...world.map((w) => w.spec)));
  const list = join(spec.dir, "domains.txt");
  const expected = join(spec.dir, "expected.ndjson");
  writeFileSync(list, `${world.map((w) => w.input).join("\n")}\n`);
  writeFileSync(
    expected,
    world.map((w) => `${JSON.stringify({ domain: w.spec.domain, ...w.expect })}\n`).join(""),
  );
  // Every query and request is logged for tests; over 100,000 domains that is memory nobody reads.
  const trim = setInterval(() => {
    lab.dns.log.length = 0;
    lab.policyHost.requests.length = 0;
    lab.policyHost.handshakes.length = 0;
  }, 1000);
  const ready: WorldReady = {
    args: lab.checkArgs(),
    dnsPort: lab.dns.port,
    httpsPort: lab.httpsPort,
    caFile: lab.caFile,
    list,
    expected,
    domains: world.length,
    buildMs: Math.round(performance.now() - started),
  };
  process.stdout.write(`ready ${JSON.stringify(ready)}\n`);
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    clearInterval(trim);
    lab.close().finally(() => process.exit(0));
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
