// The served policies: read from a directory of `<domain>.txt` files and from
// files the config lists, each checked with core's parsePolicy. A file that
// does not parse is never served: its domain keeps the last good version
// (what an operator mid-edit wants) or, with none, answers 404; the error
// names the file and line, and every other domain keeps serving.
//
// Requests read `table`, a Map swapped whole after each reload, so a request
// sees either the old or the new set, never half of one, and no connection
// is touched by a reload.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../adapters/log.ts";
import { policyDomain } from "../core/names.ts";
import { parsePolicy } from "../core/policy.ts";
import { errorCode, readPolicy } from "./policy-file.ts";
import { policyReply, type Reply } from "./replies.ts";
import type { PolicyTable } from "./route.ts";
import { watchDirs } from "./watch-dirs.ts";

export interface PolicySource {
  /** Directory of `<domain>.txt` files, or null. */
  dir: string | null;
  /** Explicit domain → file; wins over the directory. */
  files: ReadonlyMap<string, string>;
  cacheMaxAge: number;
}

export interface PolicyChange {
  domain: string;
  previous: Uint8Array | null;
  next: Uint8Array | null;
}

export interface LoadProblem {
  file: string;
  domain: string;
  line: number | undefined;
  /** The diagnostic code (docs/diagnostics.md) when parsePolicy found the problem. */
  code?: string;
  message: string;
}

interface Served {
  file: string;
  bytes: Buffer;
  reply: Reply;
  /** Stat signature of the file when `bytes` were read (skip unchanged files). */
  seen: string;
}

export interface PolicyStore {
  readonly table: PolicyTable;
  /** The policy bytes served for a domain, or undefined. */
  bytes(domain: string): Uint8Array | undefined;
  domains(): string[];
  /** Policy files whose current version fails to load. */
  invalidCount(): number;
  /** Re-reads every file whose size/mtime changed; resolves with this pass's problems. */
  reload(): Promise<LoadProblem[]>;
  /**
   * Serves `bytes` for a domain that has no file (mirror mode), after the
   * same checks as a file; an invalid copy keeps the last good one. `origin`
   * names where the bytes came from, for logs and problems.
   */
  put(domain: string, bytes: Uint8Array, origin: string): LoadProblem[];
  onChange(listener: (change: PolicyChange) => void): void;
  /** fs.watch with debounce, plus a periodic rescan as a safety net. */
  watch(options: { debounceMs: number; rescanMs: number }): void;
  close(): void;
}

export function createPolicyStore(source: PolicySource, log: Logger): PolicyStore {
  const served = new Map<string, Served>();
  /** Files that failed, by path, with the signature that failed (logged once per version). */
  const failed = new Map<string, string>();
  const failedProblems = new Map<string, LoadProblem[]>();
  const listeners: ((c: PolicyChange) => void)[] = [];
  /** Domains served from put() (mirror mode): never removed by a file pass. */
  const external = new Set<string>();
  const misnamed = new Set<string>();
  let table: Map<string, Reply> = new Map();
  let running: Promise<LoadProblem[]> | null = null;
  let again = false;
  let watching: { close(): void } | undefined;

  async function wanted(): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    if (source.dir !== null) {
      let names: string[] = [];
      try {
        names = await readdir(source.dir);
      } catch (err) {
        log.error("cannot read the policy directory", { dir: source.dir, error: errorCode(err) });
        // Keep serving what we have: a directory that vanished for a moment
        // (remount, rename) must not take every domain down.
        for (const [domain, s] of served) files.set(domain, s.file);
      }
      for (const name of names) {
        if (!name.endsWith(".txt") || name.startsWith(".")) continue;
        const domain = policyDomain(name.slice(0, -4));
        if (domain === null || domain !== name.slice(0, -4).toLowerCase()) {
          // Once per name: the rescan would repeat it every minute.
          if (!misnamed.has(name))
            log.warn("ignoring a policy file whose name is not <domain>.txt", {
              file: join(source.dir, name),
            });
          misnamed.add(name);
          continue;
        }
        files.set(domain, join(source.dir, name));
      }
    }
    for (const [domain, file] of source.files) files.set(domain, file);
    return files;
  }

  async function pass(): Promise<LoadProblem[]> {
    const problems: LoadProblem[] = [];
    const files = await wanted();
    const changes: PolicyChange[] = [];
    for (const [domain, file] of files) {
      if (external.has(domain)) continue; // mirrored: the copy wins over a stray file
      const current = served.get(domain);
      const got = await readPolicy(file);
      if ("error" in got) {
        if (got.missing && !source.files.has(domain)) continue; // deleted between readdir and open
        problems.push({ file, domain, line: undefined, message: got.error });
        if (failed.get(file) !== got.error) {
          failed.set(file, got.error);
          log.error(
            current
              ? "policy file unusable: still serving the last good version"
              : "policy file unusable: not served",
            {
              domain,
              file,
              error: got.error,
            },
          );
        }
        continue;
      }
      if (current && current.seen === got.seen && current.file === file) continue;
      if (failed.get(file) === got.seen) {
        problems.push(...(failedProblems.get(file) ?? []));
        continue;
      }
      const parsed = parsePolicy(got.bytes);
      if (!parsed.ok) {
        const errs = parsed.diagnostics.filter((d) => d.severity === "error");
        const list = errs.map((d) => ({
          file,
          domain,
          line: d.at?.line,
          code: d.code,
          message: d.message,
        }));
        failed.set(file, got.seen);
        failedProblems.set(file, list);
        problems.push(...list);
        for (const p of list)
          log.error(
            current
              ? "invalid policy file: still serving the last good version"
              : "invalid policy file: not served",
            { domain, file: p.line ? `${file}:${p.line}` : file, code: p.code, error: p.message },
          );
        continue;
      }
      failed.delete(file);
      failedProblems.delete(file);
      if (current?.bytes.equals(got.bytes)) {
        served.set(domain, { ...current, seen: got.seen, file });
        continue;
      }
      served.set(domain, {
        file,
        bytes: got.bytes,
        reply: policyReply(got.bytes, source.cacheMaxAge),
        seen: got.seen,
      });
      changes.push({ domain, previous: current?.bytes ?? null, next: got.bytes });
      log.info(current ? "policy reloaded" : "policy loaded", {
        domain,
        file,
        mode: parsed.value.mode,
      });
    }
    // Forget failures of files that are gone, so the invalid count is about files that exist.
    const present = new Set(files.values());
    for (const file of failed.keys()) {
      if (!present.has(file)) {
        failed.delete(file);
        failedProblems.delete(file);
      }
    }
    for (const [domain, s] of served) {
      if (files.has(domain) || external.has(domain)) continue;
      served.delete(domain);
      changes.push({ domain, previous: s.bytes, next: null });
      log.warn(
        "policy file removed: the domain is no longer served (RFC 8461 §8.3 removes a policy by publishing mode: none first)",
        {
          domain,
          file: s.file,
        },
      );
    }
    publish(changes);
    return problems;
  }

  function publish(changes: PolicyChange[]): void {
    if (changes.length === 0) return;
    const next = new Map<string, Reply>();
    for (const [domain, s] of served) next.set(`mta-sts.${domain}`, s.reply);
    table = next;
    for (const c of changes) for (const l of listeners) l(c);
  }

  function put(domain: string, input: Uint8Array, origin: string): LoadProblem[] {
    external.add(domain);
    const bytes = Buffer.from(input);
    const current = served.get(domain);
    if (current?.bytes.equals(bytes)) return [];
    const parsed = parsePolicy(bytes);
    if (!parsed.ok) {
      const list = parsed.diagnostics
        .filter((d) => d.severity === "error")
        .map((d) => ({ file: origin, domain, line: d.at?.line, code: d.code, message: d.message }));
      for (const p of list)
        log.error(
          current
            ? "invalid mirrored policy: still serving the last good copy"
            : "invalid mirrored policy: not served",
          {
            domain,
            from: p.line ? `${origin}:${p.line}` : origin,
            code: p.code,
            error: p.message,
          },
        );
      return list;
    }
    served.set(domain, {
      file: origin,
      bytes,
      reply: policyReply(bytes, source.cacheMaxAge),
      seen: "",
    });
    log.info(current ? "mirrored policy updated" : "mirrored policy loaded", {
      domain,
      from: origin,
      mode: parsed.value.mode,
    });
    publish([{ domain, previous: current?.bytes ?? null, next: bytes }]);
    return [];
  }
  async function reload(): Promise<LoadProblem[]> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let problems: LoadProblem[];
      do {
        again = false;
        problems = await pass();
      } while (again);
      return problems;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    get table() {
      return table;
    },
    bytes: (domain) => served.get(domain)?.bytes,
    domains: () => [...served.keys()],
    invalidCount: () => failed.size,
    reload,
    put,
    onChange: (l) => listeners.push(l),
    watch({ debounceMs, rescanMs }) {
      const dirs = new Set<string>();
      if (source.dir !== null) dirs.add(source.dir);
      for (const f of source.files.values()) dirs.add(join(f, ".."));
      watching = watchDirs([...dirs], () => void reload(), { debounceMs, rescanMs }, log);
    },
    close() {
      watching?.close();
    },
  };
}
