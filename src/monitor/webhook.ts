// One webhook POST: the JSON body, the configured headers, one time bound for
// the whole exchange. Any 2xx is delivered; anything else (including a
// receiver that is down) is an error the outbox retries. The answer's body is
// read and dropped, never more than a little of it.

import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";

const MAX_ANSWER_BYTES = 64 * 1024;

export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; ca?: string[] },
): Promise<void> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const bytes = Buffer.from(body, "utf8");
  await new Promise<void>((resolve, reject) => {
    const req = send(target, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        "content-length": String(bytes.length),
        "user-agent": "mtasts-monitor",
      },
      ...(options.ca ? { ca: options.ca } : {}),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    req.on("error", (error) =>
      reject(
        error.name === "AbortError" || error.name === "TimeoutError"
          ? new Error(`no answer within ${options.timeoutMs / 1000} s`)
          : error,
      ),
    );
    req.on("response", (res) => {
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      res.on("error", () => {});
      res.on("close", () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`the receiver answered HTTP ${status}`));
      });
    });
    req.end(bytes);
  });
}

/**
 * The roots for a receiver with `ca_file`: the system's plus the file's, since
 * Node's `ca` option replaces the defaults. Read at each send, so a renewed
 * private CA is picked up without a restart; an unreadable file is a delivery
 * error (the outbox retries), named with its path.
 */
export function webhookRoots(caFile: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(caFile, "utf8");
  } catch (error) {
    throw new Error(`cannot read the webhook's ca_file ${caFile}: ${(error as Error).message}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new Error(`the webhook's ca_file ${caFile} holds no PEM certificate`);
  return [...rootCertificates, pem];
}
