import type { CodeInfo } from "../diagnostic.ts";

export const stsRecordCodes = {} as const satisfies Record<string, CodeInfo>;
