// Starts the daemon's worker thread from either layout the daemon runs in: the esbuild bundle
// (`server/out/cli.js` beside `server/out/worker.js`) or the TypeScript sources under tsx (tests,
// `node --import tsx server/src/cli/main.ts daemon`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** Where the worker entry is, and how to start it. */
export function workerEntry(): { file: string; bundled: boolean } {
  const bundled = path.join(__dirname, 'worker.js');
  if (fs.existsSync(bundled)) return { file: bundled, bundled: true };
  return { file: path.join(__dirname, 'worker.ts'), bundled: false };
}

/**
 * A new worker running `daemon/worker.ts`. Its stdout/stderr are captured (`stdout: true`), so
 * nothing it prints (tfjs banners, stray console.log) can corrupt an LSP stdio channel; the
 * caller forwards them to the log.
 */
export function spawnDaemonWorker(): Worker {
  const { file, bundled } = workerEntry();
  const options = { stdout: true, stderr: true } as const;
  if (bundled) return new Worker(file, options);
  // Node 20 does not apply `--import tsx` hooks to a worker's .ts entry (ERR_UNKNOWN_FILE_EXTENSION),
  // so the worker registers tsx's require hook itself before loading the TypeScript entry.
  // A variable, not a literal: bundlers would otherwise try to resolve tsx at build time.
  const hook = 'tsx/cjs';
  const tsx = require.resolve(hook);
  const code = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`;
  return new Worker(code, { ...options, eval: true, execArgv: [] });
}
