/**
 * Real storage faults for tests, made the ways this machine allows: a read-only file, an
 * immutable one, a small file system that fills up. Each says when it cannot be made here,
 * so a test skips with that reason instead of passing without the fault.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const isRoot = () => process.getuid?.() === 0;

/** Runs a command; true when it exited 0. */
function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `chattr +i` works here (root with CAP_LINUX_IMMUTABLE, on a file system that has
 * the flag): an immutable file refuses every write, even through a descriptor opened before,
 * and even root's. Tried on a file of its own.
 */
export function immutableFilesWork(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-chattr-'));
  const file = join(dir, 'probe');
  writeFileSync(file, 'x');
  try {
    if (!succeeds('chattr', ['+i', file])) return false;
    succeeds('chattr', ['-i', file]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const setImmutable = (files: readonly string[], on: boolean) => execFileSync('chattr', [on ? '+i' : '-i', ...files], { stdio: 'ignore' });

/** Why `makeReadOnly` cannot work here, or false when it can. */
export function readOnlyFilesUnavailable(): string | false {
  if (!isRoot() || immutableFilesWork()) return false;
  return 'running as root without CAP_LINUX_IMMUTABLE (or on a file system without chattr +i): no file is read-only to this process';
}

/**
 * Makes `file` one this process may not write, and gives back how to undo it (when
 * `readOnlyFilesUnavailable` says it can). Not root: mode 0444 (root ignores modes). Root:
 * the immutable flag.
 */
export function makeReadOnly(file: string): () => void {
  if (!isRoot()) {
    chmodSync(file, 0o444);
    return () => chmodSync(file, 0o644);
  }
  setImmutable([file], true);
  return () => setImmutable([file], false);
}

/**
 * A tmpfs of `sizeKiB` mounted on a fresh folder, for a disk that fills up; null when this
 * process may not mount (only root with CAP_SYS_ADMIN may). `fill()` takes every free byte
 * with a file of its own, `free()` gives them back, `unmount()` ends it.
 */
export function smallDisk(sizeKiB: number) {
  const mountPoint = mkdtempSync(join(tmpdir(), 'ledger-small-disk-'));
  if (!isRoot() || !succeeds('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0755`, 'tmpfs', mountPoint])) {
    rmSync(mountPoint, { recursive: true, force: true });
    return null;
  }
  const filler = join(mountPoint, 'filler');
  const folder = join(mountPoint, 'ledger');
  mkdirSync(folder);
  return {
    /** Where to put the files of the test: a folder on the small disk. */
    folder,
    fill() {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(64 << 10, 1);
      try {
        // Block by block, then byte by byte: the last pages of a tmpfs are taken one at a time.
        for (const size of [block.length, 1]) {
          for (;;) {
            try {
              writeSync(fd, block, 0, size);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    unmount() {
      succeeds('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    },
  };
}

export const NO_SMALL_DISK = 'mounting a tmpfs needs root with CAP_SYS_ADMIN, which this process has not';
