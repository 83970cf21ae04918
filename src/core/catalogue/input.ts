// Codes for reading an input before any parser sees it (size, encoding,
// compression, mail wrapping). Shared by every `validate` kind.
import type { CodeInfo } from "../diagnostic.ts";

export const inputCodes = {
  "input.too-large": {
    severity: "error",
    rule: "RPT-RCV-03",
    rfc: "RFC 8460 §5.2",
    title: "Input is larger than the limit for its kind",
    fix: "Check that this is the right file; raise the limit only if you trust the source",
  },
} as const satisfies Record<string, CodeInfo>;
