// Codes for the publishing side: `mtasts generate` (policy and records from
// flags and live DNS) and `mtasts rollout` (pre-flight, write, bump, publish).
import type { CodeInfo } from "../diagnostic.ts";

const R8461 = (s: string) => `RFC 8461 ${s}`;

export const publishCodes = {
  // --- generate -----------------------------------------------------------------
  "generate.mx.not-covered": {
    severity: "warning",
    rule: "STS-MX-01",
    rfc: R8461("§4.1"),
    title: "A live MX host matches none of the given mx patterns",
    fix: "Add a pattern for it (`--mx HOST`), or use `--from-dns`; in enforce mode senders would refuse to deliver to this MX",
  },
  "generate.mx.unused": {
    severity: "info",
    rule: "STS-OPS-05",
    rfc: R8461("§4.1"),
    title: "An mx pattern matches none of the domain's live MX hosts",
    fix: "Nothing to do if the MX is planned; otherwise drop the pattern so the policy names only hosts you run",
  },
  "generate.mx.lookup-failed": {
    severity: "warning",
    rule: "STS-OPS-05",
    rfc: R8461("§4.1"),
    title: "The domain's MX records could not be read, so coverage was not checked",
    fix: "Check the resolver (--resolver HOST:PORT) answers for the domain, or pass --offline to skip the look-up",
  },
  "generate.mx.none": {
    severity: "info",
    rule: "STS-MX-01",
    rfc: R8461("§4.1"),
    title: "The domain has no MX records in DNS yet",
    fix: "Publish the MX records the patterns name before the policy goes to enforce",
  },
  "generate.host.unset": {
    severity: "info",
    rule: "STS-FETCH-01",
    rfc: R8461("§3.3"),
    title: "No address or delegation given for the policy host `mta-sts.<domain>`",
    fix: "Give --host-address IP (A/AAAA records are printed) or --delegate-to HOST (a CNAME is printed), or publish the name yourself",
  },
  "generate.delegated": {
    severity: "info",
    rule: "STS-OPS-02",
    rfc: R8461("§8.2"),
    title: "Delegation: the provider serves the policy and publishes the `_mta-sts` TXT id",
    fix: "The provider must serve this policy for `mta-sts.<domain>` with a certificate for that name (never its own name) and publish the TXT record the `_mta-sts` CNAME points at",
  },
  // --- rollout ------------------------------------------------------------------
  "rollout.check.error": {
    severity: "error",
    rule: "STS-OPS-01",
    rfc: R8461("§8.1"),
    title: "The pre-flight check found an error that the rollout would not fix",
    fix: "Fix the finding and run the rollout again, or pass --force if you accept the consequence",
  },
  "rollout.check.incomplete": {
    severity: "error",
    rule: "STS-OPS-01",
    rfc: R8461("§8.1"),
    title: "The pre-flight check could not complete (DNS failure or timeout)",
    fix: "Check the resolver and the network, then run the rollout again",
  },
  "rollout.mx.not-covered": {
    severity: "error",
    rule: "STS-MX-01",
    rfc: R8461("§4.1"),
    title: "A live MX host is not covered by the new policy's mx patterns",
    fix: "Add a pattern for it (--mx), or remove the MX from DNS first; in enforce mode senders would refuse to deliver to it",
  },
  "rollout.mx.tls-invalid": {
    severity: "error",
    rule: "STS-CERT-05",
    rfc: R8461("§4"),
    title:
      "An MX host would fail MTA-STS validation (no STARTTLS, or a certificate senders reject)",
    fix: "Fix the MX's STARTTLS and certificate (valid chain, its own name in a SAN) before enforcing; in enforce mode senders would not deliver to it",
  },
  "rollout.reports.failures": {
    severity: "error",
    rule: "STS-SND-01",
    rfc: "RFC 8460 §4.3",
    title: "TLS-RPT reports in the store show failed sessions for the domain in the last days",
    fix: "Read the failures (mtasts reports summary --domain D --by result-type), fix their cause, or pass --force if they are explained",
  },
  "rollout.enforce.untested": {
    severity: "warning",
    rule: "STS-SND-01",
    rfc: R8461("§5"),
    title: "Moving to enforce without a testing period",
    fix: "Roll out `--to testing` first and read the TLS-RPT reports for a few weeks before enforcing",
  },
  "rollout.none.wait": {
    severity: "info",
    rule: "STS-OPS-03",
    rfc: R8461("§8.3"),
    title:
      "Removal: keep the records and the `mode: none` policy until every cached policy has expired",
    fix: "Only after the date shown, delete the `_mta-sts` TXT record, the policy host and its file",
  },
  "rollout.policy.not-served": {
    severity: "error",
    rule: "STS-OPS-01",
    rfc: R8461("§8.1"),
    title: "The policy host does not serve the new policy, so the TXT id was not changed",
    fix: "Make the policy host serve the written file (is `mtasts host --policies DIR` running on this directory?), then publish the TXT record by hand",
  },
  "rollout.dns.update-failed": {
    severity: "error",
    rule: "STS-OPS-01",
    rfc: R8461("§8.1"),
    title: "The DNS update of the `_mta-sts` TXT record failed after the policy was written",
    fix: "Publish the TXT record shown by hand (or fix the update server or key and run again); the new policy is already served",
  },
} as const satisfies Record<string, CodeInfo>;
