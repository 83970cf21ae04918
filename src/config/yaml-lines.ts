// Where a key path sits in a YAML file, and what counts as a mapping, for the
// config readers (resolver, host) that name the line of each problem.

import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter } from "yaml";

export type Path = readonly (string | number)[];

/** The line of the deepest node along `path` that exists, so a missing key points at its parent. */
export function lineOf(doc: Document, lines: LineCounter, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: unknown } | null)?.range;
  return Array.isArray(range) && typeof range[0] === "number" ? range[0] : undefined;
}

/** A YAML mapping as parsed: a plain object (never an array, a Date or a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
