// Carrying out a rollout, in the order RFC 8461 §8.1 needs (STS-OPS-01): the
// policy file, proof the host serves it, then the `_mta-sts` id. A failed
// step stops the ones after it and says how to finish by hand.

import { diag } from "../core/catalogue.ts";
import { policyHost, policyUrl } from "../core/names.ts";
import { parsePolicy } from "../core/policy.ts";
import { isSelected } from "../core/txt-fields.ts";
import { nsupdateScript, zoneLine } from "../generate/index.ts";
import type { RolloutDeps, RolloutOutcome, RolloutRequest, Step } from "./types.ts";

const VERIFY_ATTEMPTS = 5;
const VERIFY_PAUSE_MS = 1000;

export async function carryOut(
  o: RolloutOutcome,
  req: RolloutRequest,
  deps: RolloutDeps,
  rehearse: boolean,
): Promise<void> {
  const url = policyUrl(o.domain) as string;
  const write: Step = {
    action: "write-policy",
    state: rehearse ? "would" : "todo",
    summary: o.policyPath
      ? `Write the policy to ${o.policyPath} (served at ${url})`
      : `Serve this policy at ${url} (text/plain, no redirect)`,
    text: o.policy,
  };
  const verify: Step = {
    action: "verify-policy",
    state: rehearse ? "would" : "todo",
    summary: `Check that ${url} serves the new policy (mode ${o.to}) before changing the id`,
  };
  const manual = `${nsupdateScript([o.record])}\n; or as a zone-file line:\n; ${zoneLine(o.record)}\n`;
  const publish: Step = {
    action: "publish-txt",
    state: rehearse ? "would" : "todo",
    summary: deps.dns
      ? `Replace the _mta-sts TXT record on ${deps.dns.server} (zone ${deps.dns.zone}) with id=${o.id}`
      : `Then publish the new id: ${o.record.name} TXT "${o.record.value}"`,
    text: manual,
  };
  o.steps.push(write, verify, publish);
  if (o.to === "none") {
    o.steps.push(
      {
        action: "wait",
        state: "todo",
        summary:
          o.removeAfter === null
            ? "Keep the records and the mode-none policy for the largest max_age ever served"
            : `Keep the records and the mode-none policy up until ${o.removeAfter}`,
      },
      {
        action: "remove",
        state: "todo",
        summary: `Not before ${o.removeAfter ?? "then"}: delete the _mta-sts TXT record, the records of ${policyHost(o.domain)} and the policy file`,
        text: `update delete ${o.record.name}. TXT\nupdate delete ${policyHost(o.domain)}.\nsend\n`,
      },
    );
  }
  if (rehearse) return;

  if (deps.files) {
    try {
      await deps.files.write(o.domain, o.policy);
      write.state = "done";
    } catch (error) {
      write.state = "failed";
      o.status = "blocked";
      o.error = `writing ${o.policyPath} failed: ${(error as Error).message}`;
      verify.state = publish.state = "skipped";
      return;
    }
  }
  if (deps.files && req.verify && deps.served) {
    const served = await waitServed(o, deps);
    if (served !== null) {
      verify.state = "failed";
      publish.state = "todo";
      o.status = "not-served";
      o.error = served;
      o.blockers.push(diag("rollout.policy.not-served", served));
      return;
    }
    verify.state = "done";
  }
  if (!deps.dns) return;
  // The id goes out only when the policy is out: otherwise senders fetch the
  // old policy and cache it under the new id for its whole max_age.
  const other = await deps.dns.txt(o.record.name);
  if ("error" in other)
    return dnsFailed(
      o,
      publish,
      `reading ${o.record.name} TXT from ${deps.dns.server}: ${other.error}`,
    );
  // Other TXT records at the name are kept (RFC 8461 allows them; only one may start with v=STSv1).
  const kept = other.filter((t) => !isSelected(t, "v=STSv1"));
  const sent = await deps.dns.send({
    zone: deps.dns.zone,
    replace: [{ name: o.record.name, type: "TXT" }],
    add: [
      o.record,
      ...kept.map((value) => ({
        name: o.record.name,
        type: "TXT" as const,
        value,
        ttl: o.record.ttl,
      })),
    ],
  });
  if (!sent.ok) return dnsFailed(o, publish, sent.message);
  publish.state = "done";
}

function dnsFailed(o: RolloutOutcome, publish: Step, message: string): void {
  publish.state = "failed";
  o.status = "dns-failed";
  o.error = message;
  o.blockers.push(diag("rollout.dns.update-failed", message));
}

/** null when the host serves the new policy; otherwise what it serves instead. */
async function waitServed(o: RolloutOutcome, deps: RolloutDeps): Promise<string | null> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const want = parsePolicy(o.policy);
  let last = "";
  for (let attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++) {
    const got = await (deps.served as NonNullable<RolloutDeps["served"]>)(o.domain);
    if ("error" in got) last = `fetching ${policyUrl(o.domain)} failed: ${got.error}`;
    else {
      const have = parsePolicy(got.body);
      if (have.ok && want.ok && samePolicy(have.value, want.value)) return null;
      last = `${policyUrl(o.domain)} still serves ${have.ok ? `mode ${have.value.mode}, max_age ${have.value.max_age}, mx ${have.value.mx.join(" ")}` : "an invalid policy"}`;
    }
    if (attempt < VERIFY_ATTEMPTS) await sleep(VERIFY_PAUSE_MS);
  }
  return `${last}; the policy was written to ${o.policyPath} but the _mta-sts id was not changed`;
}

function samePolicy(a: { mode: string; max_age: number; mx: string[] }, b: typeof a): boolean {
  return a.mode === b.mode && a.max_age === b.max_age && a.mx.join("\n") === b.mx.join("\n");
}
