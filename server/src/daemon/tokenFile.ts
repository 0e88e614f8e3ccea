// The token file: where `r1` clients and webviews find the daemon's endpoints and the secret
// they must present. It lives at `<workspace>/.r1/daemon.json`, mode 0600 in a 0700 folder, so
// other users on the machine cannot read it; the daemon removes it when it exits.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DaemonTokenFile } from '../protocol/messages';

/** The token file of a workspace. */
export function tokenFilePath(workspace: string): string {
  return path.join(workspace, '.r1', 'daemon.json');
}

/** A fresh random token (256 bits, URL-safe so it can go in `?token=`). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the token file atomically with mode 0600 (set explicitly: a umask could be looser). */
export function writeTokenFile(file: string, content: DaemonTokenFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder as it was: one others may write could have its token file
  // swapped for one pointing at their own server.
  fs.chmodSync(path.dirname(file), 0o700);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/**
 * Removes the token file if it is still ours: a newer daemon for the same workspace may have
 * replaced it, and its clients must keep finding it. Synchronous so it works in an exit handler.
 */
export function removeTokenFile(file: string, token: string): void {
  try {
    const current = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DaemonTokenFile>;
    if (current.token === token) fs.rmSync(file, { force: true });
  } catch {
    // already gone or unreadable: nothing of ours to remove
  }
}
