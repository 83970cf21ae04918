// Codes for the `_mta-sts` TXT record (RFC 8461 §3.1; checklist STS-REC-*). An
// error means the record is syntactically invalid, so the domain has no
// available policy for this discovery (STS-REC-10); a warning keeps the record.
import type { CodeInfo } from "../diagnostic.ts";

const RFC = "RFC 8461 §3.1";
const EXAMPLE = "`v=STSv1; id=20240101T000000;`";

export const stsRecordCodes = {
  "sts-record.too-long": {
    severity: "error",
    rule: "STS-REC-07",
    rfc: RFC,
    title: "Record text is longer than 8192 characters",
    fix: `Publish a short record such as ${EXAMPLE}; a real one is under 100 characters`,
  },
  "sts-record.non-ascii": {
    severity: "error",
    rule: "STS-REC-07",
    rfc: RFC,
    title: "Record contains a character outside US-ASCII",
    fix: "Use only US-ASCII; retype characters pasted from a word processor (curly quotes, non-breaking spaces, accented letters)",
  },
  "sts-record.version.missing": {
    severity: "error",
    rule: "STS-REC-07",
    rfc: RFC,
    title: "Record does not start with the version field `v=STSv1`",
    fix: `Start the record with \`v=STSv1;\` exactly (case-sensitive, nothing before it), e.g. ${EXAMPLE}`,
  },
  "sts-record.delimiter.whitespace": {
    severity: "warning",
    rule: "STS-REC-05",
    rfc: "RFC 8461 §3.1 (erratum 6285)",
    title: "Whitespace between `v=STSv1` and the `;` after it",
    fix: "Write `v=STSv1;` with no space before the `;`: senders that follow the RFC prose discard records not beginning with `v=STSv1;`",
  },
  "sts-record.field.empty": {
    severity: "error",
    rule: "STS-REC-07",
    rfc: RFC,
    title: "Empty field (a `;` with nothing before it)",
    fix: `Remove the extra \`;\`: fields are separated by one \`;\` and only one \`;\` may end the record, e.g. ${EXAMPLE}`,
  },
  "sts-record.extension.malformed": {
    severity: "error",
    rule: "STS-REC-09",
    rfc: "RFC 8461 §3.1",
    title: "A field is not a well-formed `name=value` pair",
    fix: "Write each field as `name=value` without spaces: the name is 1-32 letters, digits, `_`, `-` or `.` starting with a letter or digit; the value is printable ASCII without spaces, `;` or `=`",
  },
  "sts-record.extension.duplicate": {
    severity: "warning",
    rule: "STS-REC-11",
    rfc: "RFC 8461 §3.2",
    title: "An extension field appears more than once",
    fix: "Publish each field once; only the first occurrence is used",
  },
  "sts-record.id.missing": {
    severity: "error",
    rule: "STS-REC-08",
    rfc: RFC,
    title: "Record has no `id` field",
    fix: `Add an \`id\` field (lowercase key) of 1-32 letters and digits, e.g. ${EXAMPLE}`,
  },
  "sts-record.id.empty": {
    severity: "error",
    rule: "STS-REC-08",
    rfc: RFC,
    title: "The `id` field has no value",
    fix: "Give the id 1-32 letters and digits, e.g. `id=20240101T000000`, and change it whenever the policy changes",
  },
  "sts-record.id.too-long": {
    severity: "error",
    rule: "STS-REC-08",
    rfc: RFC,
    title: "The `id` is longer than 32 characters",
    fix: "Shorten the id to at most 32 letters and digits, e.g. a timestamp like `id=20240101T000000`",
  },
  "sts-record.id.invalid-char": {
    severity: "error",
    rule: "STS-REC-08",
    rfc: RFC,
    title: "The `id` contains a character other than a letter or digit",
    fix: "Use only letters and digits in the id (no `-`, `:`, `.` or spaces), e.g. `id=20240101T000000`",
  },
  "sts-record.id.duplicate": {
    severity: "warning",
    rule: "STS-REC-11",
    rfc: "RFC 8461 §3.2",
    title: "The `id` field appears more than once",
    fix: "Publish one `id` field; only the first is used, and senders that read another one refetch needlessly",
  },
  "sts-record.count.none": {
    severity: "error",
    rule: "STS-REC-06",
    rfc: RFC,
    title: "No TXT record at the name starts with `v=STSv1;`",
    fix: `Publish one TXT record at _mta-sts.<domain> starting with \`v=STSv1;\`, e.g. ${EXAMPLE}`,
  },
  "sts-record.count.multiple": {
    severity: "error",
    rule: "STS-REC-06",
    rfc: RFC,
    title: "More than one TXT record starts with `v=STSv1;`, so the domain has no policy",
    fix: "Delete all but one `v=STSv1` record at _mta-sts.<domain>; when changing the id, replace the record instead of adding one",
  },
} as const satisfies Record<string, CodeInfo>;
