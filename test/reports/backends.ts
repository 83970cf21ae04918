// The two real report stores the contract tests run against: a SQLite file in
// a temporary directory, and PostgreSQL in a random schema dropped at the end.
// PostgreSQL is skipped off CI when it does not answer, and fails on CI.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { openReportStore, type ReportStore } from "../../src/reports/store.ts";
import { pgUrl, serviceSkip } from "../resolver/services.ts";

export interface Backend {
  name: "sqlite" | "postgres";
  /** A skip reason for node:test, or false. */
  skip(): Promise<string | false>;
  /** A fresh, empty store location (the `--db` value), and how to remove it. */
  fresh(): Promise<{ db: string; cleanup(): Promise<void> }>;
}

export const sqlite: Backend = {
  name: "sqlite",
  skip: async () => false,
  fresh: async () => {
    const dir = mkdtempSync(join(tmpdir(), "mtasts-reports-"));
    return {
      db: join(dir, "reports.db"),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

export const postgres: Backend = {
  name: "postgres",
  skip: () => serviceSkip("postgres"),
  fresh: async () => {
    const schema = `mtasts_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const url = new URL(pgUrl());
    url.searchParams.set("schema", schema);
    return {
      db: url.toString(),
      cleanup: async () => {
        const client = new Client({ connectionString: pgUrl() });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  },
};

export const backends: Backend[] = [sqlite, postgres];

/** A store on a fresh location; `done()` closes and removes it. */
export async function freshStore(
  backend: Backend,
): Promise<{ store: ReportStore; db: string; done(): Promise<void> }> {
  const { db, cleanup } = await backend.fresh();
  const store = await openReportStore(db);
  return {
    store,
    db,
    done: async () => {
      await store.close();
      await cleanup();
    },
  };
}

export interface ExpectedSample {
  file: string;
  "organization-name": string;
  "report-id": string;
  "start-datetime": string;
  "end-datetime": string;
  policies: number;
  "total-successful-session-count": number;
  "total-failure-session-count": number;
  "policy-domains": string[];
  "result-types": string[];
}

/** The shared sample folder next to the repo, or the copy in the repo. */
export const samplesDir = (() => {
  const shared = new URL("../../../shared/samples/tlsrpt/", import.meta.url);
  try {
    readFileSync(new URL("expected.json", shared));
    return shared;
  } catch {
    return new URL("../fixtures/samples/tlsrpt/", import.meta.url);
  }
})();

export const expectedSamples: ExpectedSample[] = JSON.parse(
  readFileSync(new URL("expected.json", samplesDir), "utf8"),
);

export const sampleBytes = (file: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(file, samplesDir)));

export const samplePath = (file: string): string => new URL(file, samplesDir).pathname;
