// A configuration file that cannot be used, and each thing wrong with it: the
// key path, the value found, what is accepted and the line. Shared by every
// YAML config reader (resolver, host, dashboard, monitor).

/** One thing wrong with the file. */
export interface ConfigProblem {
  /** The key path, e.g. `zones.test.timeout` or `dns.servers[1]`. */
  path: string;
  /** The value found; `undefined` when a required key is missing. */
  value: unknown;
  /** What the key accepts, e.g. `a number of seconds > 0`. */
  accepted: string;
  /** Why the value was refused, when "expected …" alone would not say. */
  detail?: string;
  /** 1-based line in the file, where it could be located. */
  line?: number;
  /** The whole line, for problems that are not about one key (unreadable file, YAML syntax). */
  text?: string;
}

/** A configuration that cannot be used. `path`, `value`, `accepted` and `line` describe the first problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly file: string;
  readonly path: string;
  readonly value: unknown;
  readonly accepted: string;
  readonly line: number | undefined;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map(describeProblem);
    super(
      lines.length === 1
        ? `${file}: ${lines[0]}`
        : `${file}: ${lines.length} problems:\n  ${lines.join("\n  ")}`,
    );
    const first = problems[0];
    this.file = file;
    this.path = first?.path ?? "";
    this.value = first?.value;
    this.accepted = first?.accepted ?? "";
    this.line = first?.line;
    this.problems = problems;
  }
}

/** One problem as a line of the error message. */
export function describeProblem(p: ConfigProblem): string {
  if (p.text !== undefined) return p.text;
  const head = p.value === undefined ? `${p.path} is missing` : `${p.path} = ${show(p.value)}`;
  const detail = p.detail === undefined ? "" : `${p.detail}; `;
  const where = p.line === undefined ? "" : ` (line ${p.line})`;
  return `${head}: ${detail}expected ${p.accepted}${where}`;
}

/** A value as the message quotes it: YAML's spelling for odd numbers, long text cut. */
export function show(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return ".nan";
    if (!Number.isFinite(value)) return value > 0 ? ".inf" : "-.inf";
    return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
