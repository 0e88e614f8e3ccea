// Helpers for the daemon integration tests: spawn `r1 daemon` from the TypeScript sources,
// read its ready line, talk LSP to it over stdio, and write small pipeline configs.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import type { DaemonReadyLine, DaemonTokenFile } from '../../../server/src/protocol/messages';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'server', 'src', 'cli', 'main.ts');
export const BACKEND = process.env.R1_TEST_BACKEND ?? 'wasm';

export interface Daemon {
  child: ChildProcess;
  /** Everything the daemon wrote to stderr so far (shown when a test fails). */
  stderr: () => string;
  exited: Promise<number | null>;
}

/** A fresh temporary workspace folder. */
export function tempWorkspace(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `r1-${prefix}-`));
}

export interface SpawnDaemonOptions {
  /** Added to the daemon's environment (e.g. `R1_WORKER_HEAP_MB`). */
  env?: Record<string, string>;
  /** A command the daemon is started through, e.g. `['prlimit', '--fsize=65536', '--']`. */
  prefix?: string[];
}

/**
 * Spawns `r1 daemon ARGS` with the test backend: from the TypeScript sources under tsx, or from
 * the bundle when R1_DAEMON_CLI names it (e.g. `server/out/cli.js`, after `npm run build`).
 */
export function spawnDaemon(args: string[], opts: SpawnDaemonOptions = {}): Daemon {
  const bundled = process.env.R1_DAEMON_CLI;
  const entry = bundled ? [path.resolve(ROOT, bundled)] : ['--import', 'tsx', CLI];
  const command = [...(opts.prefix ?? []), process.execPath, ...entry, 'daemon', '--backend', BACKEND, ...args];
  const child = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

/** Kills a daemon (SIGTERM, then SIGKILL) and waits for it; safe to call twice. */
export async function stopDaemon(d: Daemon | undefined): Promise<void> {
  if (!d || d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGTERM');
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 5000);
  await d.exited;
  clearTimeout(timer);
}

/** The first stdout line of a standalone daemon, parsed. */
export function readyLine(d: Daemon, timeoutMs = 30_000): Promise<DaemonReadyLine> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr:\n${d.stderr()}`)), timeoutMs);
    d.child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)) as DaemonReadyLine);
      } catch (err) {
        reject(new Error(`ready line is not JSON: ${out.slice(0, nl)} (${(err as Error).message})`));
      }
    });
    d.exited.then((code) => reject(new Error(`daemon exited (${code}) before ready; stderr:\n${d.stderr()}`)));
  });
}

/** A JSON-RPC connection on the daemon's stdio (the daemon must run with --stdio). */
export function lspConnection(d: Daemon): MessageConnection {
  const conn = createMessageConnection(
    new StreamMessageReader(d.child.stdout!),
    new StreamMessageWriter(d.child.stdin!),
  );
  conn.listen();
  return conn;
}

/** Reads the token file, waiting for the daemon to write it. */
export async function waitForTokenFile(file: string, timeoutMs = 30_000): Promise<DaemonTokenFile> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonTokenFile;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Writes a pipeline config into `dir`: the samples' config with its `tiny` preset applied, data
 * paths made absolute, a small eval, and `stages` overrides merged per stage.
 */
export function writeTinyConfig(
  dir: string,
  stages: Record<string, Record<string, unknown>> = {},
  name = 'r1.config.json',
): string {
  const samples = path.join(ROOT, 'samples');
  const base = JSON.parse(fs.readFileSync(path.join(samples, 'r1.config.json'), 'utf8'));
  const tiny = base.presets.tiny;
  const abs = (p: string) => path.resolve(samples, p);
  const merged: Record<string, Record<string, unknown>> = {};
  for (const id of ['pretrain', 'cold-start']) {
    merged[id] = { ...base.stages[id], ...tiny.stages[id], data: abs(base.stages[id].data), ...stages[id] };
  }
  const config = {
    backend: BACKEND,
    model: 'tiny',
    seed: 1,
    eval: { ...base.eval, data: abs(base.eval.data), limit: 4, maxNewTokens: 16 },
    stages: merged,
  };
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * Collects notifications (or any values) and lets a test wait for one matching a predicate,
 * looking at those already received first. One handler per method is all vscode-jsonrpc allows,
 * so each method gets one recorder.
 */
export class Recorder<T> {
  readonly items: T[] = [];
  private waiters: { pred: (v: T) => boolean; resolve: (v: T) => void }[] = [];

  push = (value: T): void => {
    this.items.push(value);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(value)) return true;
      w.resolve(value);
      return false;
    });
  };

  /** The first item (at index >= `from`) matching `pred`, now or when it arrives. */
  wait(pred: (v: T) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<T> {
    const hit = this.items.slice(from).find(pred);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      timer.unref();
      this.waiters.push({
        pred,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      });
    });
  }
}
