// How the long-running commands (resolver, reports listen, serve) stop: the
// first SIGTERM or SIGINT asks for a clean stop; a second, while that stop is
// still under way, exits at once.

/** Resolves with the first stop signal's name; a second signal exits the process with status 1. */
export function stopSignal(onSecond?: (signal: string) => void): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        onSecond?.(signal);
        process.exit(1);
      }
      stopping = true;
      resolve(signal);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
