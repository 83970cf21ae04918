// The ACME account: its key is made once and kept in the state directory
// (0600) before anything is sent, so a crash can never leave an account at
// the CA whose key we lost. Registering is idempotent (RFC 8555 §7.3.1: a
// known key gets its existing account back), so every start registers and
// a CA that forgot us (a restarted test CA) is handled the same way.

import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import { Client } from "acme-client";
import type { ResolvedAcmeOptions } from "./options.ts";
import type { StateDir } from "./state-dir.ts";

const generate = promisify(generateKeyPair);

/** A fresh ECDSA P-256 private key, PKCS#8 PEM (what acme-client's CSR and JWS code read). */
export async function newPrivateKey(): Promise<string> {
  const { privateKey } = await generate("ec", { namedCurve: "P-256" });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export async function openAccount(options: ResolvedAcmeOptions, state: StateDir): Promise<Client> {
  let keyPem = (await state.readAccount(options.directoryUrl))?.keyPem;
  if (keyPem === undefined) {
    keyPem = await newPrivateKey();
    await state.writeAccountKey(keyPem);
  }
  const client = new Client({
    directoryUrl: options.directoryUrl,
    accountKey: keyPem,
    // acme-client's own waits (order finalization) poll at our pace and give up
    // after about validationTimeoutMs (most waits are the 4 × pollMs ceiling).
    backoffAttempts: 3 + Math.ceil(options.validationTimeoutMs / (options.pollMs * 4)),
    backoffMin: options.pollMs,
    backoffMax: options.pollMs * 4,
  });
  await client.createAccount({
    termsOfServiceAgreed: true,
    ...(options.email === undefined ? {} : { contact: [`mailto:${options.email}`] }),
  });
  // Kept for the operator (revocation, support requests); the key alone finds the account.
  await state.writeAccountUrl(options.directoryUrl, client.getAccountUrl());
  return client;
}
