// What each way an update can fail means for the person running `rollout`:
// the rcode or TSIG error as the result's code, and a sentence saying what to
// check. Kept apart from the protocol code so the texts are easy to review.

import type { TsigKey } from "./tsig.ts";

export type UpdateFailure = { ok: false; rcode: string; message: string; temporary?: boolean };

/** Who was asked about what, for the start of every message. */
export interface FailureContext {
  zone: string;
  /** "HOST port PORT". */
  where: string;
  key?: TsigKey;
}

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"].concat([
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
]);
const POLICY_HINT = "(update-policy)?";

export function rcodeFailure(rcode: number, c: FailureContext): UpdateFailure {
  const name = RCODES[rcode] ?? `RCODE${rcode}`;
  const zone = c.zone.replace(/\.$/, "");
  const refused = `the server refused the update: is the key allowed to update zone ${zone} ${POLICY_HINT}`;
  const why: Record<string, string> = {
    REFUSED: c.key
      ? `${refused} The key "${c.key.name}" needs a grant for every name and type in the update (update-policy or allow-update in the zone's statement)`
      : `${refused} No TSIG key was given, and the zone most likely requires one (--tsig-file or --tsig-key)`,
    NOTAUTH: `the server is not authoritative for zone ${zone}${c.key ? `, or did not accept key "${c.key.name}"` : ""}: send the update to the zone's primary server, and check the zone name`,
    NOTZONE: `a name in the update is not inside zone ${zone}: every name must end in .${zone}`,
    FORMERR:
      "the server could not parse the update (FORMERR): a bug in mtasts, or a server that does not speak RFC 2136",
    NOTIMP: "the server does not do dynamic updates (NOTIMP)",
    SERVFAIL: `the server failed while applying the update (SERVFAIL): see its log (is zone ${zone} loaded, and its journal file writable?)`,
    NXDOMAIN: "a prerequisite failed: a name that must exist does not (NXDOMAIN)",
    YXDOMAIN: "a prerequisite failed: a name that must not exist does (YXDOMAIN)",
    YXRRSET: "a prerequisite failed: a record set that must not exist does (YXRRSET)",
    NXRRSET: "a prerequisite failed: a record set that must exist does not (NXRRSET)",
  };
  return failure(c, name, why[name] ?? `the server answered ${name}`, name === "SERVFAIL");
}

/** RFC 8945 §5.3.2 / §5.4: the TSIG error the server put in its reply. */
export function tsigFailure(error: number, c: FailureContext, otherData?: Buffer): UpdateFailure {
  const key = c.key?.name ?? "?";
  const serverTime =
    otherData?.length === 6 ? new Date(otherData.readUIntBE(0, 6) * 1000) : undefined;
  const table: Record<number, [string, string]> = {
    16: [
      "BADSIG",
      `the TSIG secret does not match the server's: the server rejected the signature of key "${key}"; copy the secret from the server's key statement again`,
    ],
    17: [
      "BADKEY",
      `the server does not know TSIG key "${key}" (${c.key?.algorithm}): check the key's name and algorithm against the server's \`key\` statement, and that named.conf includes it`,
    ],
    18: [
      "BADTIME",
      `the server rejected the signature's time: this machine's clock and the server's differ by more than 300 s${serverTime ? ` (server time ${serverTime.toISOString()})` : ""}; sync both with NTP`,
    ],
    21: ["BADALG", `the server does not support ${c.key?.algorithm}`],
    22: ["BADTRUNC", "the server rejected a truncated MAC"],
  };
  const [rcode, message] = table[error] ?? [
    `TSIG${error}`,
    `the server rejected the TSIG signature (TSIG error ${error})`,
  ];
  return failure(c, rcode, message, false);
}

/** The reply was no use; whether the update was applied is unknown. */
export function badReply(c: FailureContext, why: string): UpdateFailure {
  return failure(
    c,
    "BADREPLY",
    `the reply cannot be used: ${why}; whether the change was applied is unknown, so look at the records before trying again`,
    true,
  );
}

export function transportFailure(
  kind: "timeout" | "refused" | "network",
  detail: string,
  c: FailureContext,
): UpdateFailure {
  const rcode = { timeout: "TIMEOUT", refused: "CONNREFUSED", network: "NETWORK" }[kind];
  const hint =
    kind === "refused"
      ? "is named running and listening there? (listen-on, port)"
      : kind === "timeout"
        ? "is named running and listening there, and the firewall open for UDP and TCP? The update may still have been applied: look at the records before trying again"
        : "check the address";
  return failure(c, rcode, `no answer: ${detail}; ${hint}`, true);
}

export function failure(
  c: FailureContext,
  rcode: string,
  why: string,
  temporary: boolean,
): UpdateFailure {
  return {
    ok: false,
    rcode,
    message: `update of zone ${c.zone.replace(/\.$/, "")} at ${c.where}: ${why}`,
    temporary,
  };
}
