// Reading typed values out of a parsed YAML document, collecting every
// problem with its key path, the value found, what is accepted and the line,
// in the resolver config's style (ConfigProblem / ConfigError).

import type { Document, LineCounter } from "yaml";
import type { ConfigProblem } from "../config/config-error.ts";
import { isPlainObject, lineOf, type Path } from "../config/yaml-lines.ts";

export type { Path };
export { isPlainObject };
export type Obj = Record<string, unknown>;

export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  readonly #doc: Document | null;
  readonly #lines: LineCounter | null;

  constructor(doc: Document | null = null, lines: LineCounter | null = null) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** A mapping (absent or null: empty), reporting keys it does not know. */
  section(value: unknown, path: Path, keys: readonly string[] | null): Obj | undefined {
    if (value === undefined || value === null) return {};
    if (!isPlainObject(value)) {
      this.problem(path, value, keys ? `a mapping of ${keys.join(", ")}` : "a mapping");
      return undefined;
    }
    if (keys) {
      for (const key of Object.keys(value)) {
        if (!keys.includes(key))
          this.problem([...path, key], value[key], `one of ${keys.join(", ")}`, "unknown key");
      }
    }
    return value;
  }

  number(
    o: Obj,
    key: string,
    path: Path,
    def: number,
    min: number,
    max: number,
    integer = false,
  ): number {
    const v = o[key];
    if (v === undefined || v === null) return def;
    if (
      typeof v === "number" &&
      Number.isFinite(v) &&
      v >= min &&
      v <= max &&
      (!integer || Number.isInteger(v))
    )
      return v;
    this.problem([...path, key], v, `${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    return def;
  }

  /** Seconds in the file, milliseconds out. */
  seconds(o: Obj, key: string, path: Path, defSeconds: number, min: number, max: number): number {
    const v = o[key];
    if (v === undefined || v === null) return Math.round(defSeconds * 1000);
    if (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max)
      return Math.max(1, Math.round(v * 1000));
    this.problem([...path, key], v, `a number of seconds from ${min} to ${max}`);
    return Math.round(defSeconds * 1000);
  }

  bool(o: Obj, key: string, path: Path, def: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return def;
    if (typeof v === "boolean") return v;
    this.problem([...path, key], v, "true or false");
    return def;
  }

  string(o: Obj, key: string, path: Path, accepted: string): string | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v === "string" && v !== "") return v;
    this.problem([...path, key], v, accepted);
    return null;
  }

  choice<T extends string>(o: Obj, key: string, path: Path, def: T, allowed: readonly T[]): T {
    const v = o[key];
    if (v === undefined || v === null) return def;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    this.problem([...path, key], v, `one of ${allowed.join(", ")}`);
    return def;
  }

  /** One string or a list of strings. */
  strings(o: Obj, key: string, path: Path, accepted: string): { value: string; at: Path }[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (typeof v === "string") return [{ value: v, at: [...path, key] }];
    if (Array.isArray(v)) {
      const out: { value: string; at: Path }[] = [];
      v.forEach((item, i) => {
        if (typeof item === "string") out.push({ value: item, at: [...path, key, i] });
        else this.problem([...path, key, i], item, accepted);
      });
      return out;
    }
    this.problem([...path, key], v, `${accepted}, or a list of them`);
    return [];
  }

  problem(path: Path, value: unknown, accepted: string, detail?: string): void {
    const line = this.#doc && this.#lines ? lineOf(this.#doc, this.#lines, path) : undefined;
    this.problems.push({
      path: formatPath(path),
      value,
      accepted,
      ...(detail === undefined ? {} : { detail }),
      ...(line === undefined ? {} : { line }),
    });
  }
}

export function formatPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^(?:--)?[A-Za-z_][A-Za-z0-9_-]*$/.test(segment))
      out += out === "" ? segment : `.${segment}`;
    // Domain names hold dots; brackets keep the path unambiguous.
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(top level)" : out;
}
