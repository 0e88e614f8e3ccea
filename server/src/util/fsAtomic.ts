// Atomic writes: write beside the target, then rename, so a crash never leaves a half-written
// file or checkpoint where a good one was. A write that fails (a full disk: ENOSPC, EDQUOT,
// EFBIG) removes its temporary copy, leaves the target as it was, and throws an error that names
// the target (Node's `write` errors name no path).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withFsPath } from './errors';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw withFsPath(err, file);
  }
}

/** `fs.appendFileSync`, with the file named in its error (a full disk fails in `write`, path-less). */
export function appendFileNamed(file: string, data: string): void {
  try {
    fs.appendFileSync(file, data);
  } catch (err) {
    throw withFsPath(err, file);
  }
}

/**
 * Replaces directory `dir` with one filled by `fill`. The old copy is kept as `dir.old` until
 * the new one is in place; `recoverDir` restores it if a crash happened in between. With
 * `keepPrevious`, the old copy then becomes `dir.prev` (a fallback if `dir` is later found
 * damaged) instead of being deleted.
 */
export function replaceDirAtomic(
  dir: string,
  fill: (tmpDir: string) => void,
  opts: { keepPrevious?: boolean } = {},
): void {
  removeStaleTemps(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (err) {
    // `dir` is untouched; drop the partial copy, which on a full disk holds the space just freed.
    fs.rmSync(tmp, { recursive: true, force: true });
    throw withFsPath(err, dir);
  }
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  if (opts.keepPrevious && fs.existsSync(old)) {
    const prev = previousDir(dir);
    fs.rmSync(prev, { recursive: true, force: true });
    fs.renameSync(old, prev);
  } else {
    fs.rmSync(old, { recursive: true, force: true });
  }
}

/** Where `replaceDirAtomic(dir, fill, { keepPrevious: true })` keeps the copy it replaced. */
export function previousDir(dir: string): string {
  return `${dir}.prev`;
}

/** Puts back `dir.old` when a crash left only it; returns whether `dir` exists. */
export function recoverDir(dir: string): boolean {
  if (!fs.existsSync(dir) && fs.existsSync(`${dir}.old`)) fs.renameSync(`${dir}.old`, dir);
  return fs.existsSync(dir);
}

// A process killed while filling its temp dir leaves `dir.tmp-<pid>` behind; each one is a whole
// checkpoint's worth of disk. Remove those whose process is gone.
function removeStaleTemps(dir: string): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
