import { setTimeout as sleep } from 'node:timers/promises';

/** Where a bounded destination writes: a stream, with how much it holds unwritten where it can say. */
type Output = NodeJS.WritableStream & { writableLength?: number };

export interface BoundedLogDestination {
  /** pino's destination: takes one line, never waits, never blocks. */
  write(line: string): void;
  /** Waits until what is held is written, for at most `withinMs`; what is still held then is left behind. */
  drain(withinMs: number): Promise<void>;
  /** Lines not written: past the bound, or after the output failed. */
  readonly dropped: number;
}

/**
 * A log destination that never holds more than `maxBytes` unwritten: a line that would go past
 * it is dropped and counted (`onDrop`), and once the output fails (EPIPE: its reader is gone)
 * every line is. pino's own destination held every line a stalled log shipper did not read,
 * without bound, then wrote them synchronously at exit: a full pipe blocked the process for
 * ever, and a broken one had it retry for ever. This one writes through `output` (the
 * process's stdout, which on a pipe or a socket writes without blocking) and is never flushed
 * synchronously, so nothing it holds can stop the process from exiting.
 */
export function boundedLogDestination(output: Output, { maxBytes, onDrop = () => {} }: { maxBytes: number; onDrop?: () => void }): BoundedLogDestination {
  let failed = false;
  let dropped = 0;
  const held = () => output.writableLength ?? 0;
  output.on('error', () => {
    failed = true;
  });
  const drop = () => {
    dropped++;
    onDrop();
  };
  return {
    write(line) {
      if (failed || held() + Buffer.byteLength(line) > maxBytes) drop();
      else output.write(line);
    },
    async drain(withinMs) {
      // Polled: 'drain' is only told after a write that went past the stream's high-water mark.
      for (let waited = 0; !failed && held() > 0 && waited < withinMs; waited += 10) await sleep(10);
    },
    get dropped() {
      return dropped;
    },
  };
}
