#!/usr/bin/env node
// In a checkout, run the TypeScript sources directly (Node strips types);
// an installed package has no src/ and runs the JavaScript built into dist/.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

// An older Node cannot strip types and fails deep in its module loader with
// ERR_UNKNOWN_FILE_EXTENSION; say what is wrong and which Node to use instead.
// Re-running ourselves under the pinned Node is not done: every signal would
// then reach the daemons twice (once from the terminal or systemd, once
// forwarded), and a second signal means "stop now" to them.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  const self = fileURLToPath(import.meta.url);
  const pinned = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  const how = existsSync(pinned)
    ? `This checkout's \`npm install\` pinned Node.js 24: run \`npx mtasts …\` from the checkout, or\n  ${pinned} ${self} …`
    : "Install Node.js 24 LTS and run mtasts with it.";
  process.stderr.write(
    `mtasts: needs Node.js 24 or later; this is Node.js ${process.version} (${process.execPath}).\n  ${how}\n`,
  );
  // 3: the command could not run (2 is kept for usage errors).
  process.exit(3);
}

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
