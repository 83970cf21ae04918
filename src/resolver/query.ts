// One socketmap request to a running daemon (`mtasts resolver query`).

import { connect } from "node:net";
import { encodeNetstring, NetstringDecoder } from "./netstring.ts";

export function querySocketmap(
  target: { host: string; port: number } | { path: string },
  zone: string,
  key: string,
  timeoutMs: number,
): Promise<{ text: string } | { error: string }> {
  const where = "path" in target ? target.path : `${target.host}:${target.port}`;
  return new Promise((resolve) => {
    const socket = connect("path" in target ? { path: target.path } : target);
    const decoder = new NetstringDecoder({ maxLength: 100_000 });
    const done = (r: { text: string } | { error: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ error: `no reply from ${where} within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    socket.on("connect", () => socket.write(encodeNetstring(`${zone} ${key}`)));
    socket.on("data", (chunk) => {
      decoder.push(chunk);
      const next = decoder.next();
      if (next === null) return;
      if ("error" in next) done({ error: `malformed reply from ${where} (${next.error})` });
      else done({ text: next.toString("utf8") });
    });
    socket.on("error", (err) =>
      done({ error: `cannot reach the resolver at ${where}: ${err.message}` }),
    );
    socket.on("close", () => done({ error: `${where} closed the connection without a reply` }));
  });
}
