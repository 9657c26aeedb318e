import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { within } from '../support/waits.js';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./lazy-fs.c', import.meta.url));

/** A mounted lazy file system (lazy-fs.c): what is written through `mountPoint` is durable in its backing folder only once synced. */
export interface LazyFs {
  mountPoint: string;
  /**
   * The power cut: SIGKILL to the file system's process, sent before this returns its promise
   * (so a caller can kill the server in the same tick), which drops every unsynced byte with
   * it; the promise settles once the mount, now dead, is detached.
   */
  cut(): Promise<void>;
  /** A clean unmount: every pending byte is written back, as on a machine that stays on. */
  unmount(): Promise<void>;
}

/**
 * lazy-fs.c compiled into `dir` with gcc and Debian's libfuse3-dev, and mounted once there on
 * an empty folder to see that this machine lets it: the program's path, or why it cannot run
 * here. Unavailable, a developer's run skips and says why; with LEDGER_REQUIRE_FUSE=1 (CI) it
 * throws instead.
 */
export async function buildLazyFs(dir: string): Promise<{ binary: string } | { unavailable: string }> {
  const why = await reasonItCannotRun(dir);
  if (why === undefined) return { binary: join(dir, 'lazy-fs') };
  const unavailable = `the lazy file system cannot run here: ${why} (Debian: apt-get install fuse3 libfuse3-dev gcc pkg-config, as root, with /dev/fuse)`;
  if (process.env.LEDGER_REQUIRE_FUSE === '1') throw new Error(unavailable);
  return { unavailable };
}

async function reasonItCannotRun(dir: string): Promise<string | undefined> {
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  let flags: string[];
  try {
    flags = (await run('pkg-config', ['--cflags', '--libs', 'fuse3'])).stdout.trim().split(/\s+/);
  } catch (error) {
    return `pkg-config finds no fuse3: ${(error as Error).message.trim()}`;
  }
  try {
    await run('gcc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'lazy-fs'), SOURCE, ...flags]);
  } catch (error) {
    return `gcc cannot build lazy-fs.c: ${(error as Error).message.trim()}`;
  }
  const probe = mkdtempSync(join(dir, 'probe-'));
  const [backing, mountPoint] = [join(probe, 'backing'), join(probe, 'mount')];
  mkdirSync(backing);
  mkdirSync(mountPoint);
  try {
    await (await mountLazyFs(join(dir, 'lazy-fs'), backing, mountPoint)).unmount();
  } catch (error) {
    return `it does not mount: ${(error as Error).message.trim()}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
  return undefined;
}

/** Detaches a FUSE mount: root may `umount`; another user unmounts through fusermount3, as it mounted. */
const detach = (mountPoint: string, { lazy }: { lazy: boolean }) =>
  process.getuid?.() === 0
    ? run('umount', [...(lazy ? ['--lazy'] : []), mountPoint])
    : run('fusermount3', ['-u', ...(lazy ? ['-z'] : []), mountPoint]);

/** Mounts `binary` (from `buildLazyFs`) on `mountPoint`, over the folder `backing`; resolves once the kernel is connected. */
export async function mountLazyFs(binary: string, backing: string, mountPoint: string): Promise<LazyFs> {
  const fs = spawn(binary, [backing, mountPoint], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  fs.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => fs.on('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    fs.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('ready') && resolve());
    fs.on('error', reject);
    void exited.then((code) => reject(new Error(`lazy-fs exited with ${code}: ${stderr}`)));
  });
  try {
    await within(ready, 'lazy-fs is mounted', 10_000);
  } catch (error) {
    fs.kill('SIGKILL');
    throw error;
  }
  return {
    mountPoint,
    cut() {
      fs.kill('SIGKILL');
      return (async () => {
        await exited;
        // The mount is dead (its requests fail): detach it, so the folder can be mounted again.
        await detach(mountPoint, { lazy: true });
      })();
    },
    async unmount() {
      await detach(mountPoint, { lazy: false });
      const code = await within(exited, 'lazy-fs exits after its unmount', 10_000);
      if (code !== 0) throw new Error(`lazy-fs exited with ${code} on unmount: ${stderr}`);
    },
  };
}

/** A fresh folder in the system's temporary one, for a test's backing folders and mount points. */
export const powerLossDir = () => mkdtempSync(join(tmpdir(), 'ledger-powerloss-'));
