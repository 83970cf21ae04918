import type { CodeInfo } from "../diagnostic.ts";

export const policyCodes = {} as const satisfies Record<string, CodeInfo>;
