// A disk that fills up, for the resource-fault tests. Two mechanisms, both real kernel write
// failures on the code's own write path (not a mocked `fs`):
//
// - `tmpfs` (preferred): a size-limited tmpfs mounted on a temp folder, filled with a filler file
//   to leave a chosen number of bytes free. Writes past that fail with ENOSPC, exactly as on a full
//   disk. Needs mount(2): root with CAP_SYS_ADMIN (CI runs as root on Debian 12).
// - `fsize` (fallback where mounting is refused, e.g. an unprivileged container): the process under
//   test runs through `prlimit --fsize=N` (util-linux, always present on Debian), so a write that
//   would grow a file past N bytes fails with EFBIG. Node ignores SIGXFSZ, so the write returns the
//   error instead of killing the process. The limit is per file rather than per disk, so tests size
//   it between the small files (config, metrics) and the large ones (checkpoint weights).
//
// R1_TEST_DISK_FULL picks one (`tmpfs`, `fsize`), or `off` to skip these tests; unset, tmpfs is
// tried first and fsize used if mounting fails. A mechanism that does not work fails the test.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type DiskFullMechanism = 'tmpfs' | 'fsize';

export const DISK_FULL_ENV = 'R1_TEST_DISK_FULL';

export interface FullDisk {
  mechanism: DiskFullMechanism;
  /** The folder on the (soon) full disk. */
  dir: string;
  /** The error code a write past the limit gets: ENOSPC (tmpfs) or EFBIG (fsize). */
  code: 'ENOSPC' | 'EFBIG';
  /** tmpfs: fills the disk so that `bytes` (rounded up to pages) stay free. */
  fill(bytes: number): void;
  /** tmpfs: removes the filler. */
  drain(): void;
  /** fsize: the command prefix that caps each file a process writes at `bytes`; tmpfs: []. */
  prefix(bytes: number): string[];
  /** Unmounts (tmpfs) and removes the folder. */
  dispose(): void;
}

/** Whether the tests are opted out (`R1_TEST_DISK_FULL=off`); prints how to opt in. */
export function diskFullSkipped(): string | false {
  if (process.env[DISK_FULL_ENV] !== 'off') return false;
  const why = `${DISK_FULL_ENV}=off: disk-full tests skipped`;
  console.log(why);
  return why;
}

/** A full-disk fixture under `parent` (see the header); throws if no mechanism works. */
export function fullDisk(parent: string, sizeBytes = 32 << 20): FullDisk {
  const wanted = process.env[DISK_FULL_ENV];
  if (wanted && !['tmpfs', 'fsize'].includes(wanted))
    throw new Error(`${DISK_FULL_ENV}=${wanted}: expected tmpfs, fsize or off`);
  const dir = path.join(parent, 'full-disk');
  fs.mkdirSync(dir, { recursive: true });
  if (wanted !== 'fsize') {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0777`, 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (r.status === 0) return tmpfsDisk(dir);
    const why = `mount -t tmpfs failed (${r.error?.message ?? r.stderr.trim()})`;
    if (wanted === 'tmpfs') throw new Error(`${DISK_FULL_ENV}=tmpfs: ${why}`);
    console.log(`${why}; using the fsize mechanism (prlimit --fsize) instead. ${DISK_FULL_ENV}=off skips these tests`);
  }
  const probe = spawnSync('prlimit', ['--fsize=4096', '--', 'true']);
  if (probe.status !== 0) {
    throw new Error(
      `no way to fill a disk here: tmpfs cannot be mounted and prlimit --fsize fails (${probe.error?.message ?? probe.stderr}); ` +
        `set ${DISK_FULL_ENV}=off to skip these tests`,
    );
  }
  console.log(`disk-full mechanism: fsize (prlimit --fsize); ${DISK_FULL_ENV}=off skips these tests`);
  return {
    mechanism: 'fsize',
    dir,
    code: 'EFBIG',
    fill: () => {},
    drain: () => {},
    prefix: (bytes) => ['prlimit', `--fsize=${bytes}`, '--'],
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function tmpfsDisk(dir: string): FullDisk {
  console.log(`disk-full mechanism: tmpfs mounted on ${dir}; ${DISK_FULL_ENV}=off skips these tests`);
  const filler = path.join(dir, 'filler.bin');
  const free = () => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    mechanism: 'tmpfs',
    dir,
    code: 'ENOSPC',
    fill(bytes) {
      const chunk = Buffer.alloc(1 << 16, 0x5a);
      const fd = fs.openSync(filler, 'a');
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
      const page = fs.statfsSync(dir).bsize;
      const size = fs.statSync(filler).size;
      fs.truncateSync(filler, Math.max(0, size - Math.ceil(bytes / page) * page));
      const left = free();
      if (left < bytes || left > bytes + 2 * page) throw new Error(`tmpfs: ${left} bytes free, wanted ${bytes}`);
    },
    drain: () => fs.rmSync(filler, { force: true }),
    prefix: () => [],
    dispose() {
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
