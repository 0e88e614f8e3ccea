// Starts the daemon's worker thread from either layout the daemon runs in: the esbuild bundle
// (`server/out/cli.js` beside `server/out/worker.js`) or the TypeScript sources under tsx (tests,
// `node --import tsx server/src/cli/main.ts daemon`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors';

/** Environment variable that sets the workers' JS heap limit (V8 old generation), in MB. */
export const WORKER_HEAP_ENV = 'R1_WORKER_HEAP_MB';
/**
 * Default heap limit of a worker. A `small` pretrain peaks near 105 MB of JS heap (measured with
 * --trace-gc; tensors live in wasm or native memory, outside this heap), so 4096 MB never bites a
 * normal run; it is there so a runaway job fails alone with a message that names the limit.
 */
export const DEFAULT_WORKER_HEAP_MB = 4096;

/** The heap limit from `R1_WORKER_HEAP_MB`, else the default; a bad value is a UserError. */
export function workerHeapLimitMb(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[WORKER_HEAP_ENV]?.trim();
  if (!raw) return DEFAULT_WORKER_HEAP_MB;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 16) {
    throw new UserError(`${WORKER_HEAP_ENV}=${raw}: expected a whole number of megabytes, at least 16`);
  }
  return mb;
}

export interface WorkerLimits {
  /** V8 old-generation limit in MB; past it the worker (not the daemon) stops with ERR_WORKER_OUT_OF_MEMORY. */
  maxOldGenerationSizeMb?: number;
}

/** Whether a worker's `error` event means it hit its heap limit. */
export function isWorkerOutOfMemory(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

/** The message a job (or a sampling request) fails with when its worker ran out of memory. */
export function outOfMemoryMessage(what: string, limitMb: number | undefined, detail: string): string {
  const limit = limitMb ? ` (limit ${limitMb} MB)` : '';
  const raise = limitMb ? `e.g. ${WORKER_HEAP_ENV}=${limitMb * 2}` : WORKER_HEAP_ENV;
  return (
    `the ${what} ran out of memory${limit}: ${detail}. Use a smaller data file, model preset or batch size, ` +
    `or raise the limit by starting the daemon with ${raise} (the daemon itself keeps running)`
  );
}

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
export function spawnDaemonWorker(limits: WorkerLimits = {}): Worker {
  const { file, bundled } = workerEntry();
  const resourceLimits = limits.maxOldGenerationSizeMb
    ? { maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb }
    : undefined;
  const options = { stdout: true, stderr: true, resourceLimits } as const;
  if (bundled) return new Worker(file, options);
  // Node 20 does not apply `--import tsx` hooks to a worker's .ts entry (ERR_UNKNOWN_FILE_EXTENSION),
  // so the worker registers tsx's require hook itself before loading the TypeScript entry.
  // A variable, not a literal: bundlers would otherwise try to resolve tsx at build time.
  const hook = 'tsx/cjs';
  const tsx = require.resolve(hook);
  const code = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`;
  return new Worker(code, { ...options, eval: true, execArgv: [] });
}
