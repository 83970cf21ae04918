// A progress line on stderr, only when stderr is a terminal: done/total (when
// the total is known), rate, ETA and errors so far, redrawn a few times a
// second. Anything else written to stderr meanwhile goes through `note`, so
// the line never mangles it.

export interface ProgressState {
  done: number;
  /** null while the input is still being read. */
  total: number | null;
  errors: number;
  elapsedMs: number;
}

export function progressLine(p: ProgressState, barWidth = 24): string {
  const n = (k: number) => k.toLocaleString("en-US");
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  const parts: string[] = [];
  if (p.total !== null && p.total > 0) {
    const share = Math.min(1, p.done / p.total);
    const filled = Math.round(share * barWidth);
    parts.push(`[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`);
    parts.push(`${n(p.done)}/${n(p.total)}`, `${(share * 100).toFixed(1)}%`);
  } else {
    parts.push(`${n(p.done)} done`);
  }
  parts.push(`${n(Math.round(rate))}/s`);
  if (p.total !== null && rate > 0 && p.done < p.total)
    parts.push(`ETA ${clock((p.total - p.done) / rate)}`);
  parts.push(`errors ${n(p.errors)}`);
  return parts.join("  ");
}

function clock(seconds: number): string {
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export interface ProgressDisplay {
  /** Writes a message on its own line (clearing the progress line first when shown). */
  note(message: string): void;
  stop(): void;
}

export function startProgress(
  stderr: { write(s: string): unknown; isTTY?: boolean },
  state: () => ProgressState,
  intervalMs = 200,
): ProgressDisplay {
  if (!stderr.isTTY) {
    return { note: (m) => stderr.write(m.endsWith("\n") ? m : `${m}\n`), stop: () => {} };
  }
  const draw = () => stderr.write(`\r${progressLine(state())}\x1b[K`);
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  return {
    note(m) {
      stderr.write(`\r\x1b[K${m.endsWith("\n") ? m : `${m}\n`}`);
      draw();
    },
    stop() {
      clearInterval(timer);
      stderr.write("\r\x1b[K");
    },
  };
}
