// A ReportStore from a backend's own write path (insert, close) and the
// queries both backends share.

import * as quarantineQueries from "./quarantine-queries.ts";
import * as reportQueries from "./report-queries.ts";
import type { SqlRunner } from "./sql.ts";
import type { ReportStore } from "./store.ts";
import { summary } from "./summary-query.ts";

export interface BackendParts {
  kind: ReportStore["kind"];
  target: string;
  insertReport: ReportStore["insertReport"];
  close(): Promise<void>;
}

export function sqlReportStore(db: SqlRunner, parts: BackendParts): ReportStore {
  let closed = false;
  return {
    kind: parts.kind,
    target: parts.target,
    insertReport: parts.insertReport,
    findByContent: (sha) => reportQueries.findByContent(db, sha),
    quarantine: (entry) => quarantineQueries.quarantine(db, entry),
    resolveQuarantine: (id, reportId, at) =>
      quarantineQueries.resolveQuarantine(db, id, reportId, at),
    listReports: (filter, limit) => reportQueries.listReports(db, filter, limit),
    getReport: (id) => reportQueries.getReport(db, id),
    getReportRaw: (id) => reportQueries.getReportRaw(db, id),
    summary: (filter, by) => summary(db, filter, by),
    listQuarantine: ({ includeResolved, limit }) =>
      quarantineQueries.listQuarantine(db, includeResolved, limit),
    getQuarantine: (id) => quarantineQueries.getQuarantine(db, id),
    getQuarantineRaw: (id) => quarantineQueries.getQuarantineRaw(db, id),
    prune: (before, { dryRun }) => reportQueries.prune(db, before, dryRun),
    counts: () => reportQueries.counts(db),
    close: async () => {
      if (closed) return;
      closed = true;
      await parts.close();
    },
  };
}
