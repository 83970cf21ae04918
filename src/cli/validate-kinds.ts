/** The artefacts `mtasts validate` knows; kept apart so the CLI can list them without loading parsers. */
export const validateKinds = ["sts-record", "tlsrpt-record", "policy", "report"] as const;
export type ValidateKind = (typeof validateKinds)[number];
