// `mtasts reports show <id>`: one stored report, normalised (text or --json),
// or with --raw the bytes exactly as they were received.

import { parseArgs } from "node:util";
import type { StoredReport } from "../reports/store.ts";
import { printable, renderDiagnostics, styleFor } from "./render.ts";
import {
  COMMON_OPTIONS,
  EXIT,
  parsedOrUsage,
  type ReportsIo,
  usage,
  withStore,
} from "./reports.ts";
import { count } from "./reports-render.ts";

export async function runShow(args: readonly string[], io: ReportsIo): Promise<number> {
  const parsed = parsedOrUsage(
    () =>
      parseArgs({
        args: [...args],
        allowPositionals: true,
        strict: true,
        options: {
          ...COMMON_OPTIONS,
          raw: { type: "boolean", default: false },
          json: { type: "boolean", default: false },
        },
      }),
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(io, "show takes one report id (see reports list)");
  if (values.raw && values.json) return usage(io, "give --raw or --json, not both");
  const id = (positionals[0] as string).replace(/^#/, "");
  return withStore(values.db, io, { create: false }, async (store) => {
    if (values.raw) {
      const raw = await store.getReportRaw(id);
      if (raw === null) return notFound(io, id);
      io.stdout.write(raw);
      return EXIT.ok;
    }
    const report = await store.getReport(id);
    if (report === null) return notFound(io, id);
    io.stdout.write(
      values.json
        ? `${JSON.stringify(report)}\n`
        : renderReport(report, styleFor(io.stdout, io.env)),
    );
    return EXIT.ok;
  });
}

function notFound(io: ReportsIo, id: string): number {
  io.stderr.write(
    `mtasts: no report ${JSON.stringify(id)} in the store (see mtasts reports list)\n`,
  );
  return EXIT.attention;
}

function renderReport(r: StoredReport, style: ReturnType<typeof styleFor>): string {
  const p = printable;
  const dkim =
    r.dkimDetail === null
      ? "not applicable (not mailed)"
      : `${r.dkim}${r.dkimDetail.domain ? ` d=${p(r.dkimDetail.domain)}` : ""}${
          r.dkimDetail.aligned === null
            ? ""
            : r.dkimDetail.aligned
              ? " (submitter's domain)"
              : " (NOT the submitter's domain)"
        }${r.dkimDetail.detail ? ` — ${p(r.dkimDetail.detail)}` : ""}`;
  const lines = [
    `${style.bold(`report #${r.id}`)}  ${p(r.organization ?? "(no organization)")}  ${p(r.reportId)}`,
    `  period    ${r.start} … ${r.end}`,
    `  contact   ${p(r.contact ?? "(none)")}`,
    `  received  ${r.receivedAt} by ${r.channel}${r.origin ? ` from ${p(r.origin)}` : ""}`,
    `  dkim      ${dkim}`,
    `  raw       ${count(r.rawSize)} bytes, sha256 ${r.contentSha256}`,
    `  sessions  ${count(r.successful)} successful, ${count(r.failed)} failed`,
  ];
  r.report.policies.forEach((policy, i) => {
    const a = policy.policy;
    lines.push(
      "",
      `  policy ${i + 1}: ${p(a["policy-type"] ?? "(no type)")} for ${p(a["policy-domain"] ?? "(no domain)")}`,
      `    sessions ${count(policy.summary["total-successful-session-count"])} successful, ${count(policy.summary["total-failure-session-count"])} failed`,
    );
    if (a["mx-host"]?.length) lines.push(`    mx-host  ${a["mx-host"].map(p).join(", ")}`);
    for (const line of a["policy-string"] ?? []) lines.push(`    | ${p(line)}`);
    for (const d of policy["failure-details"]) {
      const where = [
        d["receiving-mx-hostname"] && `mx ${p(d["receiving-mx-hostname"])}`,
        d["receiving-ip"] && `ip ${p(d["receiving-ip"])}`,
        d["sending-mta-ip"] && `from ${p(d["sending-mta-ip"])}`,
        d["receiving-mx-helo"] && `helo ${p(d["receiving-mx-helo"])}`,
        d["failure-reason-code"] && `reason ${p(d["failure-reason-code"])}`,
      ].filter(Boolean);
      lines.push(
        `    ${style.bad("failure")} ${p(d["result-type"] ?? "(no type)")} ×${count(d["failed-session-count"])}  ${where.join(", ")}`,
      );
      // RPT-RCV-04: shown as text, never fetched.
      if (d["additional-information"]) lines.push(`      info ${p(d["additional-information"])}`);
    }
  });
  if (r.warnings.length > 0) {
    lines.push(
      "",
      `  ${r.warnings.length} warning${r.warnings.length === 1 ? "" : "s"} when it was read:`,
    );
    lines.push(...renderDiagnostics(r.warnings, style));
  }
  return `${lines.join("\n")}\n`;
}
