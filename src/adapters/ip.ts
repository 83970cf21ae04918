import { isIPv4, isIPv6 } from "node:net";

/**
 * `net.isIP`, but only IPv6 text pays for Node's IPv6 pattern: compiling that
 * regular expression costs a few milliseconds of every short-lived command.
 */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (text.includes(":")) return isIPv6(text) ? 6 : 0;
  return isIPv4(text) ? 4 : 0;
}
