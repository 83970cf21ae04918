// The `_mta-sts` TXT record (RFC 8461 §3.1): parse one value, pick the one
// record out of a TXT RRset, and write the canonical form for `generate`.

import type { Diagnostic, Parsed } from "./diagnostic.ts";
import {
  describeChar,
  isAlnum,
  type KnownField,
  quote,
  type RecordSyntax,
  report,
  scanTxtFields,
  selectRecord,
} from "./txt-fields.ts";

export interface StsRecord {
  v: "STSv1";
  /** 1-32 letters and digits; compared as an exact string, never ordered (STS-REC-08). */
  id: string;
  /** Well-formed unknown fields, accepted and ignored (STS-REC-09); first occurrence wins. */
  extensions: Record<string, string>;
}

const STS: RecordSyntax = {
  prefix: "v=STSv1",
  known: ["id"],
  codes: {
    tooLong: "sts-record.too-long",
    nonAscii: "sts-record.non-ascii",
    versionMissing: "sts-record.version.missing",
    delimiterWhitespace: "sts-record.delimiter.whitespace",
    fieldEmpty: "sts-record.field.empty",
    extensionMalformed: "sts-record.extension.malformed",
    extensionDuplicate: "sts-record.extension.duplicate",
    countNone: "sts-record.count.none",
    countMultiple: "sts-record.count.multiple",
  },
};

const MAX_ID = 32;

/** Parses one `_mta-sts` TXT value (its strings already joined, STS-REC-03). Never throws. */
export function parseStsRecord(text: string): Parsed<StsRecord> {
  const diagnostics: Diagnostic[] = [];
  const fields = scanTxtFields(text, STS, diagnostics);
  if (fields === null) return { ok: false, diagnostics };
  let id: KnownField | undefined;
  for (const f of fields.known) {
    if (id === undefined) {
      id = f;
      checkId(f, diagnostics);
    } else {
      // STS-REC-11 (mtasts decision): the first `id` wins.
      report(
        diagnostics,
        "sts-record.id.duplicate",
        `\`id\` appears again at column ${f.nameAt + 1} (${quote(`id=${f.value}`)}); the first value ${quote(id.value)} is used`,
        f.nameAt + 1,
      );
    }
  }
  if (id === undefined) {
    // STS-REC-08: the key is case-sensitive, so `ID=` is an extension.
    const lookalike = Object.keys(fields.extensions).find((k) => k.toLowerCase() === "id");
    report(
      diagnostics,
      "sts-record.id.missing",
      lookalike === undefined
        ? "The record has no `id` field"
        : `The record has no \`id\` field; \`${lookalike}=\` is read as an unknown extension because keys are case-sensitive`,
      undefined,
      lookalike === undefined
        ? undefined
        : `Write the key in lowercase: \`id=${fields.extensions[lookalike]}\``,
    );
  }
  for (const d of diagnostics) if (d.severity === "error") return { ok: false, diagnostics };
  return {
    ok: true,
    value: { v: "STSv1", id: (id as KnownField).value, extensions: fields.extensions },
    diagnostics,
  };
}

/** STS-REC-08: `id=` 1*32(ALPHA / DIGIT). Non-ASCII is left to the record-wide finding. */
function checkId(f: KnownField, out: Diagnostic[]): void {
  const v = f.value;
  const column = f.valueAt + 1;
  if (v.length === 0) {
    report(out, "sts-record.id.empty", `\`id=\` at column ${f.nameAt + 1} has no value`, column);
    return;
  }
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    if (c <= 0x7f && !isAlnum(c)) {
      let kept = "";
      for (let j = 0; j < v.length; j++) if (isAlnum(v.charCodeAt(j))) kept += v[j];
      report(
        out,
        "sts-record.id.invalid-char",
        `The id ${quote(v)} has ${describeChar(c)} at column ${column + k}; an id is 1-32 letters and digits`,
        column + k,
        kept.length > 0 && kept.length <= MAX_ID
          ? `Use only letters and digits, e.g. \`id=${kept}\``
          : undefined,
      );
      break;
    }
  }
  if (v.length > MAX_ID) {
    report(
      out,
      "sts-record.id.too-long",
      `The id ${quote(v, 40)} at column ${column} is ${v.length} characters long; the limit is ${MAX_ID}`,
      column + MAX_ID,
    );
  }
}

/**
 * Picks and parses the record from a whole TXT RRset (each element one RR, its
 * strings joined): STS-REC-04 selection, STS-REC-06 exactly one, then parse.
 */
export function selectStsRecord(txts: readonly string[]): Parsed<StsRecord> {
  const diagnostics: Diagnostic[] = [];
  const chosen = selectRecord(txts, STS, diagnostics);
  return chosen === null ? { ok: false, diagnostics } : parseStsRecord(chosen);
}

/**
 * The canonical form, `v=STSv1; id=<id>;` with extensions after the id, for
 * `generate`. Expects a valid record (e.g. one that parsed); it does not check.
 */
export function formatStsRecord(r: StsRecord): string {
  let s = `v=STSv1; id=${r.id};`;
  for (const name of Object.keys(r.extensions)) s += ` ${name}=${r.extensions[name]};`;
  return s;
}
