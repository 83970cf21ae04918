import type { CodeInfo } from "../diagnostic.ts";

export const tlsrptRecordCodes = {} as const satisfies Record<string, CodeInfo>;
