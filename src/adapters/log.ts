// Structured logs on stderr: `key=value` text for people and journald, or one
// JSON object per line for log shippers (`log.format`).

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: {
  level: LogLevel;
  format: "text" | "json";
  write?: (line: string) => void;
  now?: () => Date;
}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const min = RANK[options.level];
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[level] < min) return;
    const time = now().toISOString();
    if (options.format === "json") {
      write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
      return;
    }
    let line = `${time} ${level.padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      line += ` ${k}=${quote(String(v))}`;
    }
    write(`${line}\n`);
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    enabled: (level) => RANK[level] >= min,
  };
}

function quote(v: string): string {
  // Values come from the network (policy hosts, DNS): keep one event per line.
  return /^[\w.:/@+-]*$/.test(v) && v !== "" ? v : JSON.stringify(v);
}
