// The face of the generate capability: a policy file and the DNS records that
// publish it, from flags and (when asked or reachable) the domain's live MX.

import { diag } from "../core/catalogue.ts";
import type { Diagnostic } from "../core/diagnostic.ts";
import { buildPolicy, buildRecords } from "./build.ts";
import { freshId } from "./fresh-id.ts";
import { coverageFindings, liveMx } from "./live-mx.ts";
import { checkRequest, specWarnings } from "./request.ts";
import type { GenerateDeps, Generated, GenerateFailure, GenerateRequest } from "./types.ts";

export { buildPolicy, stsRecordValue } from "./build.ts";
export { nsupdateScript, txtStrings, zoneLine, zoneText } from "./dns-text.ts";
export { freshId } from "./fresh-id.ts";
export { coverageFindings, type LiveMx, liveMx } from "./live-mx.ts";
export {
  checkDomain,
  checkMaxAge,
  checkMode,
  checkPatterns,
  checkTtl,
  DEFAULT_MAX_AGE,
  DEFAULT_TTL,
} from "./request.ts";
export type * from "./types.ts";

export async function generate(
  request: GenerateRequest,
  deps: GenerateDeps,
): Promise<{ ok: true; value: Generated } | { ok: false; failure: GenerateFailure }> {
  const spec = checkRequest(request);
  if (Array.isArray(spec)) return { ok: false, failure: { kind: "usage", errors: spec } };
  const warnings: Diagnostic[] = [...specWarnings(spec)];
  let mx = spec.mx;
  let hosts: string[] = [];
  if (!spec.offline && deps.resolver !== undefined) {
    const live = await liveMx(deps.resolver, spec.domain);
    if (live.kind === "hosts") hosts = live.hosts;
    if (spec.fromDns) {
      // --from-dns needs an answer: guessing patterns from a failed look-up
      // would publish a policy that leaves the real MX out.
      if (live.kind === "failed")
        return { ok: false, failure: { kind: "dns", message: live.message } };
      if (live.kind !== "hosts") {
        const why =
          live.kind === "null" ? "publishes a null MX (accepts no mail)" : "has no MX records";
        return {
          ok: false,
          failure: { kind: "no-mx", message: `${spec.domain} ${why}; give the patterns with --mx` },
        };
      }
      // Exact names only: a wildcard would also cover hosts nobody chose (STS-OPS-05).
      mx = [...mx, ...hosts.filter((h) => !mx.includes(h))];
    } else if (live.kind === "failed") {
      warnings.push(
        diag(
          "generate.mx.lookup-failed",
          `Looking up the MX of ${spec.domain} failed: ${live.message}`,
        ),
      );
    } else if (live.kind === "none") {
      warnings.push(diag("generate.mx.none", `${spec.domain} has no MX records in DNS`));
    }
    if (live.kind === "hosts") warnings.push(...coverageFindings(mx, hosts));
  } else if (spec.fromDns) {
    return { ok: false, failure: { kind: "dns", message: "no resolver to read the live MX from" } };
  }
  const id = freshId(deps.now());
  const policy = buildPolicy({ mode: spec.mode, maxAge: spec.maxAge, mx });
  const built = buildRecords(spec, id);
  return {
    ok: true,
    value: {
      domain: spec.domain,
      policy,
      records: built.records,
      provider: built.provider,
      id,
      mode: spec.mode,
      maxAge: spec.maxAge,
      mx,
      liveMx: hosts,
      warnings: [...warnings, ...built.notes],
    },
  };
}
