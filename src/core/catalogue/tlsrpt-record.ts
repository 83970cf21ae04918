// Codes for the `_smtp._tls` TXT record (RFC 8460 §3; checklist RPT-REC-*). An
// error means the domain has no usable TLS-RPT record; a warning keeps it.
import type { CodeInfo } from "../diagnostic.ts";

const RFC = "RFC 8460 §3";
const EXAMPLE = "`v=TLSRPTv1; rua=mailto:tlsrpt@example.com`";

export const tlsrptRecordCodes = {
  "tlsrpt-record.too-long": {
    severity: "error",
    rule: "RPT-REC-04",
    rfc: RFC,
    title: "Record text is longer than 8192 characters",
    fix: `Publish a short record such as ${EXAMPLE}; one or two report addresses are plenty`,
  },
  "tlsrpt-record.non-ascii": {
    severity: "error",
    rule: "RPT-REC-04",
    rfc: RFC,
    title: "Record contains a character outside US-ASCII",
    fix: "Use only US-ASCII; percent-encode non-ASCII in URIs and write internationalised domains as A-labels (xn--…)",
  },
  "tlsrpt-record.version.missing": {
    severity: "error",
    rule: "RPT-REC-04",
    rfc: RFC,
    title: "Record does not start with the version field `v=TLSRPTv1`",
    fix: `Start the record with \`v=TLSRPTv1;\` exactly (case-sensitive, nothing before it), e.g. ${EXAMPLE}`,
  },
  "tlsrpt-record.delimiter.whitespace": {
    severity: "warning",
    rule: "RPT-REC-03",
    rfc: RFC,
    title: "Whitespace between `v=TLSRPTv1` and the `;` after it",
    fix: "Write `v=TLSRPTv1;` with no space before the `;`: senders that follow the RFC prose discard records not beginning with `v=TLSRPTv1;`",
  },
  "tlsrpt-record.field.empty": {
    severity: "error",
    rule: "RPT-REC-04",
    rfc: RFC,
    title: "Empty field (a `;` with nothing before it)",
    fix: `Remove the extra \`;\`: fields are separated by one \`;\` and only one \`;\` may end the record, e.g. ${EXAMPLE}`,
  },
  "tlsrpt-record.extension.malformed": {
    severity: "error",
    rule: "RPT-REC-07",
    rfc: RFC,
    title: "A field is not a well-formed `name=value` pair",
    fix: "Write each field as `name=value` without spaces: the name is 1-32 letters, digits, `_`, `-` or `.` starting with a letter or digit; the value is printable ASCII without spaces, `;` or `=`",
  },
  "tlsrpt-record.extension.duplicate": {
    severity: "warning",
    rule: "RPT-REC-07",
    rfc: RFC,
    title: "An extension field appears more than once",
    fix: "Publish each field once; only the first occurrence is used",
  },
  "tlsrpt-record.rua.missing": {
    severity: "error",
    rule: "RPT-REC-04",
    rfc: RFC,
    title: "Record has no `rua` field",
    fix: `Add a \`rua\` field (lowercase key) naming where reports go, e.g. ${EXAMPLE}`,
  },
  "tlsrpt-record.rua.empty": {
    severity: "error",
    rule: "RPT-REC-05",
    rfc: RFC,
    title: "The `rua` field, or an entry of its list, is empty",
    fix: "Give one or more URIs separated by single commas, e.g. `rua=mailto:tlsrpt@example.com,https://reports.example.com/tlsrpt`",
  },
  "tlsrpt-record.rua.invalid-uri": {
    severity: "error",
    rule: "RPT-REC-05",
    rfc: RFC,
    title: "A `rua` entry is not a valid mailto: or https: URI",
    fix: "Write each destination as `mailto:local@domain` or `https://host/path`, and percent-encode `!`, `,` and `;` inside a URI (%21, %2C, %3B)",
  },
  "tlsrpt-record.rua.unsupported-scheme": {
    severity: "warning",
    rule: "RPT-REC-05",
    rfc: RFC,
    title: "A `rua` URI uses a scheme TLS-RPT does not define (only mailto: and https:)",
    fix: "Use a `mailto:` address or an `https://` URL; report senders ignore every other scheme, http: included",
  },
  "tlsrpt-record.rua.none-usable": {
    severity: "error",
    rule: "RPT-REC-05",
    rfc: RFC,
    title: "No `rua` URI is usable, so no reports can be delivered",
    fix: `Give at least one \`mailto:\` address or \`https://\` URL, e.g. ${EXAMPLE}`,
  },
  "tlsrpt-record.rua.duplicate": {
    severity: "warning",
    rule: "RPT-REC-05",
    rfc: RFC,
    title: "The same `rua` URI is listed more than once",
    fix: "List each destination once; the repeat is ignored",
  },
  "tlsrpt-record.rua.multiple-fields": {
    severity: "warning",
    rule: "RPT-REC-06",
    rfc: RFC,
    title: "More than one `rua` field; their URIs are combined",
    fix: "Put all destinations in one field, separated by commas: `rua=mailto:a@example.com,https://r.example.com/v1`; senders may read only the first field",
  },
  "tlsrpt-record.count.none": {
    severity: "error",
    rule: "RPT-REC-03",
    rfc: RFC,
    title: "No TXT record at the name starts with `v=TLSRPTv1;`",
    fix: `Publish one TXT record at _smtp._tls.<domain> starting with \`v=TLSRPTv1;\`, e.g. ${EXAMPLE}`,
  },
  "tlsrpt-record.count.multiple": {
    severity: "error",
    rule: "RPT-REC-03",
    rfc: RFC,
    title: "More than one TXT record starts with `v=TLSRPTv1;`, so the domain has no reporting",
    fix: "Publish one `v=TLSRPTv1` record at _smtp._tls.<domain> and list every destination in its `rua` field",
  },
} as const satisfies Record<string, CodeInfo>;
