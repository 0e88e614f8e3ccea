// Errors caused by what the user gave us (bad file, bad flag, missing checkpoint). The CLI
// prints their message alone and exits 1; anything else is an internal error (exit 2).
export class UserError extends Error {
  override name = 'UserError';
}

export function isUserError(err: unknown): err is Error {
  return (
    err instanceof UserError ||
    (err instanceof Error &&
      ['DataFileError', 'ConfigError', 'UserError', 'BackendUnavailableError'].includes(err.name))
  );
}

// The machine's resources rather than a bug: a folder the user cannot write, a full disk. They
// are fixed by the user, so they get a message (CLI: exit 1; daemon: the job fails with it), not
// a stack trace.
const FS_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  // A file-size limit (`ulimit -f`) reached: same remedy as a full disk.
  EFBIG: 'file too large for the file-size limit',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
};

/**
 * A one-line message for a file-system error caused by the machine's resources (permissions, full
 * disk, quota), naming the path; undefined for anything else. `where` says what to change instead
 * of the folder (`--out` for the CLI).
 */
export function fileSystemProblem(err: unknown, where = 'another --out'): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const reason = e?.code !== undefined && Object.hasOwn(FS_PROBLEMS, e.code) ? FS_PROBLEMS[e.code] : undefined;
  if (!reason) return undefined;
  const what = e!.path ? `${e!.syscall ?? 'access'} ${e!.path}` : (e!.syscall ?? 'file access');
  return `cannot ${what}: ${reason} (${e!.code}); check the folder's permissions and free space, or pick ${where}`;
}

/**
 * Gives a file-system error the path it is about. Node's errors from `write` (what a full disk
 * fails on) carry no path, only the fd; this names the file or folder being written.
 */
export function withFsPath<E>(err: E, file: string): E {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e === 'object' && typeof e.code === 'string' && !e.path) e.path = file;
  return err;
}
