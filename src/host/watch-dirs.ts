// Noticing changed files: fs.watch on their directories, debounced so a
// burst of events (an editor's save, a rename) triggers one reload, plus a
// periodic rescan because fs.watch misses events on some file systems
// (network mounts, some container overlays).

import { type FSWatcher, watch } from "node:fs";
import type { Logger } from "../adapters/log.ts";

export function watchDirs(
  dirs: readonly string[],
  changed: () => void,
  o: { debounceMs: number; rescanMs: number },
  log: Logger,
): { close(): void } {
  let debounce: NodeJS.Timeout | undefined;
  const kick = () => {
    clearTimeout(debounce);
    debounce = setTimeout(changed, o.debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, kick);
      w.on("error", (err) =>
        log.warn("watching stopped; the periodic rescan goes on", { dir, error: String(err) }),
      );
      watchers.push(w);
    } catch (err) {
      log.warn("cannot watch; relying on the periodic rescan", { dir, error: String(err) });
    }
  }
  const rescan = setInterval(changed, o.rescanMs);
  rescan.unref();
  return {
    close() {
      clearTimeout(debounce);
      clearInterval(rescan);
      for (const w of watchers) w.close();
    },
  };
}
