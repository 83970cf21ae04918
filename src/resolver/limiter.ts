/** At most `limit` tasks run at once; the rest wait in arrival order. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = () => {
      let p: Promise<T>;
      try {
        p = task();
      } catch (err) {
        p = Promise.reject(err);
      }
      return p.finally(release);
    };
    if (running < limit) {
      running++;
      return run();
    }
    return new Promise<void>((resolve) => waiting.push(resolve)).then(run);
  };
}
