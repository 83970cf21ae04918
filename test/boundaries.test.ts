// Enforces the architecture in docs/design.md by reading the import graph:
// core is pure (no node: modules, nothing outside core, no clock or randomness).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(import.meta.dirname, "..");
const srcDir = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/g)) {
    specs.push(m[1] as string);
  }
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

test("core imports nothing but core (no node: modules, no packages, no adapters)", () => {
  const coreDir = join(srcDir, "core");
  const offences: string[] = [];
  for (const file of sourceFiles(coreDir)) {
    for (const spec of importsOf(file)) {
      const inside = spec.startsWith(".") && resolve(join(file, ".."), spec).startsWith(coreDir);
      if (!inside) offences.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(offences, []);
});

test("core uses no clock, randomness, process state or console", () => {
  const banned = [
    /\bDate\.now\(/,
    /\bnew Date\(\s*\)/,
    /\bMath\.random\(/,
    /\bprocess\./,
    /\bconsole\./,
    /\bglobalThis\b/,
    /\bperformance\.now\(/,
    /\bsetTimeout\(/,
  ];
  const offences: string[] = [];
  for (const file of sourceFiles(join(srcDir, "core"))) {
    const text = readFileSync(file, "utf8");
    for (const re of banned) if (re.test(text)) offences.push(`${relative(root, file)}: ${re}`);
  }
  assert.deepEqual(offences, []);
});

test("the boundary check sees imports (it can fail)", () => {
  const cli = importsOf(join(srcDir, "cli", "validate.ts"));
  assert.ok(
    cli.some((s) => s.includes("adapters/")),
    "validate.ts imports an adapter",
  );
});

test("adapters never import the CLI", () => {
  const offences: string[] = [];
  for (const file of sourceFiles(join(srcDir, "adapters"))) {
    for (const spec of importsOf(file))
      if (spec.includes("/cli/")) offences.push(`${relative(root, file)} imports ${spec}`);
  }
  assert.deepEqual(offences, []);
});
