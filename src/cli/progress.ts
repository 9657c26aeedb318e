import { SingleBar } from 'cli-progress';

/** How far a long command has got; it goes to stderr, so stdout stays the command's answer. */
export interface Progress {
  /** `done` of `total` so far; a total can be learnt or corrected on the way. */
  update(done: number, total?: number): void;
  /** Ends the bar (or the lines) with a last line of its own. */
  stop(last: string): void;
}

/** At most one plain line a second: a log, not a stream of them. */
const PLAIN_EVERY_MS = 1000;

/**
 * A progress bar (`cli-progress`) on a terminal, plain progress lines elsewhere (a pipe, a
 * log file, a test), on `stream`.
 */
export function progressOn(stream: NodeJS.WriteStream, label: string, total: number, now: () => number = Date.now): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar({ stream, format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, hideCursor: true }, undefined);
    bar.start(total, 0);
    return {
      update(done, newTotal) {
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(done);
      },
      stop(last) {
        bar.stop();
        stream.write(`${last}\n`);
      },
    };
  }
  let shown = now();
  let known = total;
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) known = newTotal;
      if (now() - shown < PLAIN_EVERY_MS) return;
      shown = now();
      stream.write(`${label}: ${done}${known > 0 ? `/${known} (${Math.floor((done / known) * 100)}%)` : ''}\n`);
    },
    stop(last) {
      stream.write(`${last}\n`);
    },
  };
}
