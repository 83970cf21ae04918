// HTML built by a tagged template that escapes every interpolated value,
// unless it is already Html (made here). So a report field carrying `<script>`
// reaches the page as text, whatever page or helper puts it there.

export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

type Part = Html | string | number | null | undefined | boolean | readonly Part[];

function render(part: Part): string {
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  if (part === null || part === undefined || part === false || part === true) return "";
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i] as Part) + (strings[i + 1] ?? "");
  return new Html(out);
}

export const nothing = new Html("");

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

/** Success share as a percentage with one decimal, or an em dash when there were no sessions. */
export function fmtRate(successful: number, failed: number): string {
  const all = successful + failed;
  return all === 0 ? "—" : `${((successful / all) * 100).toFixed(1)}%`;
}

/** Markup written in our source (never data): attributes chosen by a condition. */
export function markup(constant: string): Html {
  return new Html(constant);
}
