// The demo's last step: the dashboard (`mtasts serve`) on lab data. A month of
// TLS-RPT reports for the lab's domains goes through the real ingest path into
// a fresh SQLite store, the monitor checks the lab's domains, and the server
// prints a login. On a terminal it stays up until Ctrl-C; otherwise (CI, a
// pipe) it proves the overview answers and stops, so `npm start` always ends.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lab } from "../lab/index.ts";
import { runServe } from "../src/cli/serve.ts";
import { monitorHook } from "../src/cli/serve-monitor.ts";
import { hashPassword } from "../src/dashboard/password.ts";
import { ingestReport } from "../src/reports/ingest.ts";
import { openReportStore } from "../src/reports/store.ts";

const DAY = 86_400_000;

/** Failures a sender would report for each lab domain's story, by result type and MX. */
const FAILURES: Record<string, [resultType: string, mx: string, perDay: number][]> = {
  "expired.test": [["certificate-expired", "mx2.expired.test", 40]],
  "redirect.test": [["sts-policy-fetch-error", "mx1.redirect.test", 25]],
  "nostarttls.test": [["starttls-not-supported", "backup.nostarttls.test", 12]],
  "testing.test": [["validation-failure", "mx1.testing.test", 3]],
};
const REPORTERS = ["mail.example-sender.net", "mx.big-provider.example", "smtp.small-isp.example"];

export async function dashboardTour(
  lab: Lab,
  domains: readonly string[],
  out: { write(s: string): unknown; isTTY?: boolean },
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "mtasts-demo-"));
  try {
    const db = join(dir, "reports.db");
    const stored = await seedReports(db, domains);
    const password = Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString("base64url");
    const config = join(dir, "serve.yml");
    writeFileSync(config, serveConfig(lab, domains, await hashPassword(password)));
    out.write(
      `${stored} TLS-RPT reports (30 days, ${REPORTERS.length} reporters) ingested into ${db}\n`,
    );
    let url = "";
    let answered = false;
    const io = {
      stdout: {
        write: (s: string) => {
          const m = /listening on (http:\/\/\S+)/.exec(s);
          if (m) url = m[1] as string;
          return out.write(s);
        },
      },
      stderr: process.stderr,
      env: process.env,
    };
    const stopSignal = async (): Promise<string> => {
      out.write(`\nOpen ${url}/ and log in as demo / ${password}\n`);
      if (out.isTTY) {
        out.write("(the lab and the dashboard run until you press Ctrl-C)\n");
        return new Promise((resolve) => process.once("SIGINT", () => resolve("SIGINT")));
      }
      answered = await overviewAnswers(url, password);
      out.write(
        `not a terminal: the overview answered ${answered ? "200" : "wrongly"}; stopping\n`,
      );
      return "demo-done";
    };
    const code = await runServe(["-c", config, "--db", db, "--listen", "127.0.0.1:0"], io, {
      monitor: monitorHook,
      stopSignal,
    });
    return code !== 0 ? code : out.isTTY || answered ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function seedReports(db: string, domains: readonly string[]): Promise<number> {
  const store = await openReportStore(db);
  const today = Math.floor(Date.now() / DAY) * DAY;
  let stored = 0;
  try {
    for (let day = 30; day >= 1; day--) {
      const start = today - day * DAY;
      for (const [r, reporter] of REPORTERS.entries()) {
        const report = {
          "organization-name": reporter,
          "date-range": {
            "start-datetime": new Date(start).toISOString(),
            "end-datetime": new Date(start + DAY - 1000).toISOString(),
          },
          "contact-info": `tlsrpt@${reporter}`,
          "report-id": `${new Date(start).toISOString().slice(0, 10)}-${reporter}`,
          policies: domains.map((domain, d) => {
            const failures = (FAILURES[domain] ?? []).map(([type, mx, perDay]) => ({
              "result-type": type,
              "sending-mta-ip": `192.0.2.${10 + r}`,
              "receiving-mx-hostname": mx,
              "failed-session-count": Math.round(perDay * (0.5 + ((day * 7 + r) % 10) / 10)),
            }));
            return {
              policy: {
                "policy-type": "sts",
                "policy-domain": domain,
                "mx-host": [`mx1.${domain}`],
              },
              summary: {
                "total-successful-session-count": 200 + ((day * 13 + d * 31 + r * 17) % 150),
                "total-failure-session-count": failures.reduce(
                  (n, f) => n + f["failed-session-count"],
                  0,
                ),
              },
              ...(failures.length > 0 ? { "failure-details": failures } : {}),
            };
          }),
        };
        const bytes = new TextEncoder().encode(JSON.stringify(report));
        const outcome = await ingestReport(store, { bytes, channel: "file", origin: "demo" });
        if (outcome.status === "stored") stored++;
      }
    }
  } finally {
    await store.close();
  }
  return stored;
}

function serveConfig(lab: Lab, domains: readonly string[], passwordHash: string): string {
  return [
    "users:",
    `  - { name: demo, role: admin, password_hash: "${passwordHash}" }`,
    "monitor:",
    `  domains: [${domains.join(", ")}]`,
    "  check:",
    `    resolvers: ["${lab.resolver}"]`,
    `    ca_file: ${JSON.stringify(lab.caFile)}`,
    `    https_port: ${lab.httpsPort}`,
    `    smtp_port: ${lab.smtpPort}`,
    "",
  ].join("\n");
}

/** Logs in as a browser would and asks the overview API once. */
async function overviewAnswers(url: string, password: string): Promise<boolean> {
  const form = await fetch(`${url}/login`);
  const cookies = (form.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
  const login = await fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies },
    body: new URLSearchParams({ user: "demo", password, csrf }).toString(),
  });
  const session = (login.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  const api = await fetch(`${url}/api/domains`, { headers: { cookie: `${cookies}; ${session}` } });
  return api.status === 200;
}
