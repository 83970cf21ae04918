#!/usr/bin/env node
// In a checkout, run the TypeScript sources directly (Node strips types);
// an installed package has no src/ and runs the JavaScript built into dist/.
import { existsSync } from "node:fs";
import module from "node:module";

// Reuse compiled code (and stripped TypeScript) across runs: start-up is most
// of a short command's time, and scripts call us in loops.
module.enableCompileCache?.();

// Node refuses to strip types under node_modules, so a copy installed there always uses dist/.
const fromSource =
  !import.meta.url.includes("/node_modules/") &&
  existsSync(new URL("../src/cli/main.ts", import.meta.url));
const entry = fromSource ? "../src/cli/main.ts" : "../dist/cli/main.js";
const { main } = await import(entry);
await main();
