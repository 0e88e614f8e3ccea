import type { BackendName } from '../../backend/backend';
import { startDaemon } from '../../daemon/server';

interface DaemonCliOptions {
  checkpoint?: string;
  workspace?: string;
  stdio?: boolean;
  backend?: BackendName;
}

/**
 * `r1 daemon`: starts the daemon and, standalone, prints the ready line (spec §2) on stdout.
 * With --stdio, stdout is the LSP channel, so the ready line only goes to the log.
 */
export async function daemonCommand(opts: DaemonCliOptions): Promise<void> {
  const { ready } = await startDaemon({
    workspace: opts.workspace ?? process.cwd(),
    checkpoint: opts.checkpoint,
    stdio: !!opts.stdio,
    backend: opts.backend,
  });
  if (!opts.stdio) process.stdout.write(JSON.stringify(ready) + '\n');
}
