// What is published today: the live check's view, and the file we serve from
// (which may be ahead of what the host has loaded, or the only trace left).

import type { DomainResult } from "../check/index.ts";
import { parsePolicy } from "../core/policy.ts";
import type { PreviousState } from "./types.ts";

export function previousState(live: DomainResult, fileText: string | null): PreviousState {
  const file = fileText === null ? null : parsePolicy(fileText);
  const fileValue = file?.ok ? file.value : null;
  const policy = live.policy?.valid ? live.policy : null;
  const ages = [policy?.max_age, fileValue?.max_age].filter(
    (n): n is number => typeof n === "number",
  );
  const stsValue = live.stsRecord?.value as { id?: string } | null | undefined;
  const cnames = live.stsRecord?.cnames ?? [];
  // Without a valid `_mta-sts` record senders apply no policy, whatever is served.
  const announced = live.stsRecord?.value != null || cnames.length > 0;
  return {
    mode: announced ? (policy?.mode ?? fileValue?.mode ?? null) : null,
    // STS-OPS-03 counts the largest max_age ever served: both sources could have been.
    maxAge: ages.length > 0 ? Math.max(...ages) : null,
    id: stsValue?.id ?? policy?.id ?? null,
    mx: policy !== null && policy.mx.length > 0 ? policy.mx : (fileValue?.mx ?? []),
    source: policy !== null ? "live" : fileValue !== null ? "file" : "none",
    delegatedTo: cnames[0] ?? null,
  };
}
