// How acme-client's HTTP requests reach the CA. acme-client sends every
// request through one module-wide axios instance and takes no per-client
// agent, so one request interceptor, installed once, looks up what each
// CA origin needs here: an https.Agent trusting that CA's roots (a private
// or test CA; the system store otherwise), a time limit, a size limit.
// It also turns off acme-client's own request retries (up to five, sleeping
// 5–25 s each, not cancellable): a failed attempt is retried by our backoff.

import { Agent, request } from "node:https";
import { axios } from "acme-client";

interface Route {
  agent: Agent | undefined;
  timeoutMs: number;
  users: number;
}

const MAX_RESPONSE_BYTES = 1_000_000;
const routes = new Map<string, Route>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  axios.interceptors.request.use((config) => {
    let origin: string;
    try {
      origin = new URL(config.url ?? "", config.baseURL).origin;
    } catch {
      return config;
    }
    const route = routes.get(origin);
    if (route === undefined) return config;
    if (route.agent !== undefined) config.httpsAgent = route.agent;
    config.timeout = route.timeoutMs;
    config.maxContentLength = MAX_RESPONSE_BYTES;
    config.maxRedirects = 0;
    // acme-client counts its retries on the config; marking it spent disables them.
    const marked = config as typeof config & { retryAttempt?: number };
    if (marked.retryAttempt === undefined) marked.retryAttempt = Number.MAX_SAFE_INTEGER;
    return config;
  });
}

/**
 * Routes requests to `directoryUrl`'s origin through an agent trusting `ca`
 * (when given) with a time limit; returns the function that undoes it.
 */
export function routeToCa(directoryUrl: string, ca: readonly string[], timeoutMs: number) {
  install();
  const origin = new URL(directoryUrl).origin;
  let route = routes.get(origin);
  if (route === undefined) {
    route = { agent: undefined, timeoutMs, users: 0 };
    routes.set(origin, route);
  }
  // The latest caller's trust wins for an origin: two managers rarely talk to one CA with different roots.
  if (ca.length > 0) route.agent = new Agent({ ca: [...ca], keepAlive: false });
  route.timeoutMs = timeoutMs;
  route.users += 1;
  let released = false;
  return () => {
    if (released || route === undefined) return;
    released = true;
    route.users -= 1;
    if (route.users === 0) {
      route.agent?.destroy();
      routes.delete(origin);
    }
  };
}

/**
 * Why the CA's directory cannot be fetched, or undefined when it can.
 * acme-client turns a network failure into a TypeError about `config`
 * (its retry interceptor reads a response that never came), so after an
 * unexplained failure we ask again ourselves to learn the real cause.
 */
export function probeCa(directoryUrl: string, timeoutMs: number): Promise<Error | undefined> {
  const route = routes.get(new URL(directoryUrl).origin);
  return new Promise((resolve) => {
    const req = request(directoryUrl, { agent: route?.agent, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on("timeout", () =>
      req.destroy(
        Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ECONNABORTED" }),
      ),
    );
    req.on("error", resolve);
    req.end();
  });
}
