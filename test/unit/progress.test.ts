import { PassThrough } from 'node:stream';
import t from 'tap';
import { progressOn } from '../../src/cli/progress.js';

/** A stream that remembers what was written, as a terminal or as a pipe. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  const target = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  target.on('data', (chunk: Buffer) => written.push(chunk.toString()));
  return { target: target as unknown as NodeJS.WriteStream, text: () => written.join('') };
}

t.test('not a terminal: plain lines, at most one a second, then the last line', async (t) => {
  const { target, text } = stream(false);
  let now = 0;
  const progress = progressOn(target, 'verify', 100, () => now);
  progress.update(10);
  now = 500;
  progress.update(20);
  now = 1200;
  progress.update(30);
  now = 1500;
  progress.update(40, 200);
  now = 2300;
  progress.update(50);
  progress.stop('verified 50 sessions');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(text(), 'verify: 30/100 (30%)\nverify: 50/200 (25%)\nverified 50 sessions\n', 'a line at 1.2 s and 2.3 s, none at 0.5 s or 1.5 s');
});

t.test('a terminal: a bar, then the last line on a line of its own', async (t) => {
  const { target, text } = stream(true);
  const progress = progressOn(target, 'replay', 10);
  progress.update(5);
  progress.update(10, 10);
  progress.stop('replayed 10 events');
  await new Promise((resolve) => setImmediate(resolve));
  t.match(text(), /replay \[.*\] \d+% /, 'a bar with its label and percentage');
  t.match(text(), /replayed 10 events\n$/);
});
