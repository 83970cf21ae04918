// Query parameters of pages and API calls, checked strictly: an unknown name
// or a malformed value is a 400 that says what is accepted; a period longer
// than the cap is shortened to it and the answer says so.

import { HttpError } from "./http.ts";

export const MAX_DAYS = 366;
export const MAX_LIMIT = 1000;

export interface Capped {
  param: string;
  requested: number;
  used: number;
  message: string;
}

export class Query {
  readonly #params: URLSearchParams;
  readonly capped: Capped[] = [];

  constructor(params: URLSearchParams, allowed: readonly string[]) {
    this.#params = params;
    for (const name of new Set(params.keys())) {
      if (!allowed.includes(name)) {
        throw new HttpError(
          400,
          "bad-parameter",
          `unknown query parameter ${JSON.stringify(name.slice(0, 64))}; this address takes ${allowed.length === 0 ? "none" : allowed.join(", ")}`,
        );
      }
      if (params.getAll(name).length > 1) {
        throw new HttpError(
          400,
          "bad-parameter",
          `query parameter ${name} is given more than once`,
        );
      }
    }
  }

  /** A whole number from 1 up; above `max` it is capped (and noted in `capped`). */
  count(name: string, fallback: number, max: number): number {
    const v = this.#params.get(name);
    if (v === null || v === "") return fallback;
    if (!/^\d{1,15}$/.test(v) || Number(v) < 1) {
      throw new HttpError(
        400,
        "bad-parameter",
        `${name}=${JSON.stringify(v.slice(0, 64))} is not a whole number from 1 to ${max}`,
      );
    }
    const n = Number(v);
    if (n > max) {
      this.capped.push({
        param: name,
        requested: n,
        used: max,
        message: `${name}=${n} is over the maximum; showing ${max}`,
      });
      return max;
    }
    return n;
  }

  domain(name: string): string | undefined {
    const v = this.#params.get(name);
    if (v === null || v === "") return undefined;
    return domainName(v);
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.#params.get(name);
    if (v === null || v === "") return undefined;
    if (!(values as readonly string[]).includes(v)) {
      throw new HttpError(
        400,
        "bad-parameter",
        `${name}=${JSON.stringify(v.slice(0, 64))} is not one of ${values.join(", ")}`,
      );
    }
    return v as T;
  }
}

const LABEL = "[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)*${LABEL}$`);

/** A policy domain as the store keeps it (lowercase A-labels), or a 400. */
export function domainName(text: string): string {
  const d = text.trim().toLowerCase().replace(/\.$/, "");
  if (!DOMAIN.test(d)) {
    throw new HttpError(
      400,
      "bad-domain",
      `${JSON.stringify(text.slice(0, 80))} is not a domain name (A-labels, e.g. example.com or xn--bcher-kva.example)`,
    );
  }
  return d;
}

/** A report or alert id from the path: decimal row ids for reports, printable tokens for alerts. */
export function pathId(text: string, what: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(text)) {
    throw new HttpError(400, "bad-id", `${JSON.stringify(text.slice(0, 64))} is not a ${what} id`);
  }
  return text;
}

/** The path's segments after the first `skip`, percent-decoded, or a 400. */
export function pathParts(pathname: string, skip: number): string[] {
  return pathname
    .split("/")
    .slice(skip)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new HttpError(400, "bad-path", "the path is not valid percent-encoding");
      }
    });
}

/** The report list's parameters, the same for its page and its API call. */
export function reportsFilter(q: Query): { domain?: string; days: number; limit: number } {
  const domain = q.domain("domain");
  return {
    days: q.count("days", 30, MAX_DAYS),
    limit: q.count("limit", 100, MAX_LIMIT),
    ...(domain === undefined ? {} : { domain }),
  };
}
