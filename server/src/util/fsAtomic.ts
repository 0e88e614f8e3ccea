// Atomic writes: write beside the target, then rename, so a crash never leaves a half-written
// file or checkpoint where a good one was.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * Replaces directory `dir` with one filled by `fill`. The old copy is kept as `dir.old` until
 * the new one is in place; `recoverDir` restores it if a crash happened in between.
 */
export function replaceDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fill(tmp);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Puts back `dir.old` when a crash left only it; returns whether `dir` exists. */
export function recoverDir(dir: string): boolean {
  if (!fs.existsSync(dir) && fs.existsSync(`${dir}.old`)) fs.renameSync(`${dir}.old`, dir);
  return fs.existsSync(dir);
}
