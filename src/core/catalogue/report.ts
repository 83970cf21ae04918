import type { CodeInfo } from "../diagnostic.ts";

export const reportCodes = {} as const satisfies Record<string, CodeInfo>;
