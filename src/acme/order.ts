// One certificate order for one name, step by step with acme-client's
// lower-level calls (RFC 8555 §7.4): new order, each authorization's
// challenge answered and polled ourselves (so a failure keeps the CA's whole
// problem document, not just its detail), finalize with a CSR for a fresh
// key, download the chain. Nothing is written to disk here.

import type { Authorization, Client, Order } from "acme-client";
import { newPrivateKey } from "./account.ts";
import type { PendingChallenges } from "./challenges.ts";
import { alpnCertificate, certificateRequest } from "./csr.ts";
import { AcmeError, type Problem, validationError } from "./errors.ts";
import type { ChallengeType, ResolvedAcmeOptions } from "./options.ts";

export interface IssuedChain {
  /** The leaf, PEM. */
  cert: string;
  /** The issuers after it, PEM. */
  chain: string;
  key: string;
}

export interface OrderContext {
  client: Client;
  options: ResolvedAcmeOptions;
  pending: PendingChallenges;
  /** True once the automation stopped: the order is abandoned at the next step. */
  stopped: () => boolean;
}

interface Challenge {
  type: string;
  url: string;
  token?: string;
  status: string;
  error?: Problem;
}

export async function orderCertificate(name: string, ctx: OrderContext): Promise<IssuedChain> {
  const { client } = ctx;
  let order = await client.createOrder({ identifiers: [{ type: "dns", value: name }] });
  const authorizations = await client.getAuthorizations(order);
  for (const authz of authorizations) {
    checkStopped(ctx, name);
    if (authz.status === "valid") continue; // the CA reused an earlier validation
    if (authz.status !== "pending")
      throw new AcmeError(
        `the CA's authorization for ${authz.identifier.value} is ${authz.status}, so this order cannot complete — it is retried with a new order`,
        { domain: name, kind: "temporary" },
      );
    await validate(authz, ctx, name);
  }
  checkStopped(ctx, name);
  // acme-client's wait returns the order without its URL; finalize needs it.
  order = { ...(await client.waitForValidStatus(order)), url: order.url };
  const key = await newPrivateKey();
  const csr = certificateRequest(name, key);
  checkStopped(ctx, name);
  order = await client.finalizeOrder(order, csr);
  const pem = await client.getCertificate(order);
  const [cert = "", ...issuers] = pem.match(PEM_CERTIFICATE) ?? [];
  if (cert === "")
    throw new AcmeError(`the CA returned no certificate for ${name}`, {
      domain: name,
      kind: "temporary",
    });
  return { cert: ensureNewline(cert), chain: issuers.map(ensureNewline).join(""), key };
}

async function validate(authz: Authorization, ctx: OrderContext, name: string): Promise<void> {
  const { client, options, pending } = ctx;
  const offered = authz.challenges as unknown as Challenge[];
  const challenge = pick(offered, options.challengeTypes);
  if (challenge === undefined)
    throw new AcmeError(
      `the CA offers ${offered.map((c) => c.type).join(", ") || "no challenges"} for ${name}, none of ${options.challengeTypes.join(", ")} — enable another challenge type`,
      { domain: name, kind: "permanent" },
    );
  const keyAuthorization = await client.getChallengeKeyAuthorization(
    challenge as unknown as Parameters<Client["getChallengeKeyAuthorization"]>[0],
  );
  let remove: () => void;
  if (challenge.type === "http-01") {
    remove = pending.addHttp01(challenge.token ?? "", keyAuthorization);
  } else {
    const alpnKey = await newPrivateKey();
    const cert = alpnCertificate(name, keyAuthorization, alpnKey, new Date(options.now()));
    remove = pending.addTlsAlpn01(name, { cert, key: alpnKey });
  }
  try {
    await client.completeChallenge(
      challenge as unknown as Parameters<Client["completeChallenge"]>[0],
    );
    await settle(authz, challenge, ctx, name);
  } finally {
    remove();
  }
}

/** Polls the authorization until the CA has decided, and explains a refusal. */
async function settle(
  authz: Authorization,
  challenge: Challenge,
  ctx: OrderContext,
  name: string,
): Promise<void> {
  const { client, options } = ctx;
  const ca = new URL(options.directoryUrl).hostname;
  const deadline = options.now() + options.validationTimeoutMs;
  for (;;) {
    checkStopped(ctx, name);
    const [current] = await client.getAuthorizations({ authorizations: [authz.url] } as Order);
    if (current === undefined) throw new Error(`the CA returned no authorization at ${authz.url}`);
    if (current.status === "valid") return;
    if (current.status !== "pending") {
      const challenges = current.challenges as unknown as Challenge[];
      const answered = challenges.find((c) => c.url === challenge.url) ?? challenge;
      const problem = answered.error ?? challenges.find((c) => c.error)?.error;
      throw validationError(ca, name, answered, problem);
    }
    if (options.now() > deadline)
      throw new AcmeError(
        `${ca} did not finish validating ${name} (${challenge.type}) within ${Math.round(options.validationTimeoutMs / 1000)} s — the CA may be overloaded; it is retried later`,
        { domain: name, kind: "temporary" },
      );
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

function pick(offered: Challenge[], preferred: readonly ChallengeType[]): Challenge | undefined {
  for (const type of preferred) {
    const found = offered.find((c) => c.type === type);
    if (found !== undefined) return found;
  }
  return undefined;
}

function checkStopped(ctx: OrderContext, name: string): void {
  if (ctx.stopped())
    throw new AcmeError(`the order for ${name} was abandoned: ACME automation stopped`, {
      domain: name,
      kind: "temporary",
    });
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const ensureNewline = (pem: string) => (pem.endsWith("\n") ? pem : `${pem}\n`);
