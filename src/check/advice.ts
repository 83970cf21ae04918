// Advice on a valid policy: mode, max_age and pattern breadth (STS-OPS-05).

import type { Policy } from "../core/policy.ts";
import { finding } from "./findings.ts";
import type { Finding } from "./types.ts";

const WEEK = 604_800;
const NINETY_DAYS = 7_776_000;

export function policyAdvice(policy: Policy, domain: string, url: string): Finding[] {
  const out: Finding[] = [];
  if (policy.mode === "testing") {
    out.push(finding("policy.mode.testing", `${url} is in testing mode`, url));
  } else if (policy.mode === "none") {
    out.push(finding("policy.mode.none", `${url} is in mode none`, url));
  }
  if (policy.mode === "enforce" && policy.max_age < WEEK) {
    out.push(
      finding("policy.max-age.short", `max_age is ${policy.max_age} seconds (under a week)`, url),
    );
  }
  if (policy.max_age > NINETY_DAYS) {
    out.push(
      finding("policy.max-age.long", `max_age is ${Math.round(policy.max_age / 86400)} days`, url),
    );
  }
  for (const p of policy.patterns) {
    // `*.example.com` for example.com covers every host of the domain (§10.4).
    if (p.wildcard && p.domain === domain) {
      out.push(
        finding(
          "mx.pattern.broad",
          `Pattern ${p.text} covers every host name directly under ${domain}`,
          p.text,
        ),
      );
    }
  }
  return out;
}
