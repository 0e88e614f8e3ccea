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
