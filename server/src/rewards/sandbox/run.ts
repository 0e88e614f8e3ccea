// Runs untrusted JavaScript (a policy's answer to a code task) against test snippets in a
// separate, locked-down Node process. The model under RL will write whatever earns reward, so
// the sandbox assumes hostile code: it must not touch the network, files outside a temp dir,
// other processes, or the trainer; it must not hang or eat the machine's memory; and it must
// not be able to forge its own score.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUNNER_SOURCE } from './runnerSource';

/** Limits of one sandboxed run. */
export interface SandboxOptions {
  /** Wall-clock limit for the whole run (start-up, the code, every test); the process is killed after it. */
  timeoutMs?: number;
  /** Limit for loading the code and for each test (synchronous part and awaited promise). */
  testTimeoutMs?: number;
  /** V8 heap limit (--max-old-space-size); resident memory is also capped at 2x this + 64 MB on Linux. */
  memoryMb?: number;
  /** Bytes the code may write into its temp dir, in MB (it is polled; a burst may overshoot briefly). */
  diskMb?: number;
}

export const SANDBOX_DEFAULTS: Readonly<Required<SandboxOptions>> = {
  timeoutMs: 5000,
  testTimeoutMs: 1000,
  memoryMb: 128,
  diskMb: 64,
};

// Files and folders the code may create: beyond this it is filling the disk's inodes, not solving a task.
const MAX_DIR_ENTRIES = 1000;

/** Outcome of one test snippet. */
export interface TestOutcome {
  pass: boolean;
  error?: string;
}

/** Outcome of one sandboxed run. `reason` says why tests did not all pass when it is not a test's own failure. */
export interface SandboxResult {
  passed: number;
  total: number;
  tests: TestOutcome[];
  reason?: string;
}

/**
 * Runs `code`, then each of `tests`, in a fresh sandboxed child process, and never throws.
 *
 * Test format: each test is a JavaScript snippet evaluated after the code, in the same global
 * scope (the code's top-level functions, classes and `const`s are visible; CommonJS
 * `module.exports = { f }` is exposed as globals; `assert` is node:assert). A snippet that is a
 * single expression passes when it is truthy (`add(2, 3) === 5`), or, for an assertion call
 * (`assert.strictEqual(add(2, 3), 5)`), when it does not throw; promises are awaited.
 * Statements (`const r = add(2, 3); r === 5`) pass when they do not throw and their last
 * expression statement, or their `return` value, is undefined or truthy. A test that throws,
 * times out or is falsy fails. If the code itself throws or does not compile, no test runs.
 *
 * Sandbox: Node's permission model (reads and writes only in a fresh temp dir that is the cwd
 * and is deleted afterwards; no child processes, workers, addons or inspector), network
 * modules and `fetch` disabled in the runner before the code runs, `process.kill` disabled,
 * empty environment, heap limit, resident-memory watchdog (Linux), wall-clock kill.
 */
export async function runInSandbox(
  code: string,
  tests: readonly string[],
  options: SandboxOptions = {},
): Promise<SandboxResult> {
  const opts = limits(options);
  const failAll = (reason: string): SandboxResult => ({
    passed: 0,
    total: tests.length,
    tests: tests.map(() => ({ pass: false })),
    reason,
  });
  if (tests.length === 0) return failAll('no tests');
  await slots.acquire();
  let dir: string | undefined;
  try {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'r1-sandbox-'));
    // The permission model compares real paths (macOS's /tmp is a symlink).
    dir = await fsp.realpath(dir);
    return await runChild(dir, code, tests, opts);
  } catch (err) {
    return failAll(`sandbox failed: ${(err as Error).message}`);
  } finally {
    if (dir) await removeDir(dir);
    slots.release();
  }
}

/** Options over defaults; a missing, non-finite or non-positive value keeps its default. */
function limits(options: SandboxOptions): Required<SandboxOptions> {
  const out = { ...SANDBOX_DEFAULTS };
  for (const key of Object.keys(out) as (keyof SandboxOptions)[]) {
    const v = options[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v;
  }
  return out;
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Messages {
  code?: { ok: boolean; error?: string };
  tests: Map<number, TestOutcome>;
  done: boolean;
}

const MAX_CHANNEL_BYTES = 1 << 20;
const MAX_STDERR_BYTES = 8 << 10;

function runChild(
  dir: string,
  code: string,
  tests: readonly string[],
  opts: Required<SandboxOptions>,
): Promise<SandboxResult> {
  return new Promise((resolve) => {
    const runner = path.join(dir, 'runner.cjs');
    const nonce = randomBytes(16).toString('hex');
    const messages: Messages = { tests: new Map(), done: false };
    let killedFor: string | undefined;
    let stderr = '';
    let channel = '';
    let channelBytes = 0;

    writeFileSync(runner, RUNNER_SOURCE, { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [
        permissionFlag(),
        `--allow-fs-read=${dir}`,
        `--allow-fs-write=${dir}`,
        `--max-old-space-size=${Math.max(16, Math.floor(opts.memoryMb))}`,
        '--no-warnings',
        runner,
      ],
      { cwd: dir, env: {}, stdio: ['pipe', 'ignore', 'pipe', 'pipe'], windowsHide: true },
    );

    const kill = (why: string) => {
      killedFor ??= why;
      child.kill('SIGKILL');
    };
    const wall = setTimeout(() => kill(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
    const watchdog = memoryWatchdog(child.pid, 2 * opts.memoryMb + 64, () =>
      kill(`memory limit exceeded (${opts.memoryMb} MB heap)`),
    );
    const diskWatch = diskWatchdog(dir, opts.diskMb, (why) => kill(why));

    // A failed spawn still creates the pipes in current Node; the guards keep it from throwing if not.
    const results = child.stdio[3] as NodeJS.ReadableStream | null;
    results?.setEncoding('utf8');
    results?.on('data', (chunk: string) => {
      channelBytes += chunk.length;
      if (channelBytes > MAX_CHANNEL_BYTES) return kill('result channel flooded');
      channel += chunk;
      let nl: number;
      while ((nl = channel.indexOf('\n')) >= 0) {
        const line = channel.slice(0, nl);
        channel = channel.slice(nl + 1);
        handleLine(line, nonce, messages);
      }
      // Results are final once reported; no reason to let the code keep running.
      if (messages.done || messages.code?.ok === false) kill('finished');
    });
    results?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.slice(0, MAX_STDERR_BYTES - stderr.length);
    });
    // The child may die before reading its input; that is reported through the exit, not EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(JSON.stringify({ nonce, code, tests, testTimeoutMs: opts.testTimeoutMs }));

    let settled = false;
    let exit: ExitStatus = { code: null, signal: null };
    const finish = (spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(wall);
      clearInterval(watchdog);
      clearInterval(diskWatch);
      const outcomes = tests.map((_, i) => messages.tests.get(i) ?? { pass: false });
      const passed = outcomes.filter((o) => o.pass).length;
      let reason: string | undefined;
      if (spawnError) reason = `could not start the sandbox: ${spawnError.message}`;
      else if (messages.code && !messages.code.ok) reason = `code failed: ${messages.code.error ?? 'error'}`;
      else if (!messages.done) reason = killedFor && killedFor !== 'finished' ? killedFor : exitReason(exit, stderr);
      resolve({ passed, total: tests.length, tests: outcomes, reason });
    };
    // 'error' also fires when a kill fails; only a failed spawn (no pid) ends the run here, else 'close' does.
    child.on('error', (err) => {
      if (child.pid === undefined) finish(err);
    });
    child.on('close', (code, signal) => {
      exit = { code, signal };
      finish();
    });
  });
}

function handleLine(line: string, nonce: string, messages: Messages): void {
  if (!line.startsWith(`${nonce} `)) return; // anything else was written by the candidate
  let msg: { t?: string; ok?: boolean; i?: number; pass?: boolean; error?: string };
  try {
    msg = JSON.parse(line.slice(nonce.length + 1));
  } catch {
    return;
  }
  if (msg.t === 'code') messages.code = { ok: msg.ok === true, error: msg.error };
  else if (msg.t === 'test' && typeof msg.i === 'number' && !messages.tests.has(msg.i)) {
    messages.tests.set(
      msg.i,
      typeof msg.error === 'string' ? { pass: msg.pass === true, error: msg.error } : { pass: msg.pass === true },
    );
  } else if (msg.t === 'done') messages.done = true;
}

/** Node 20 spells the flag --experimental-permission; later versions --permission. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

/** Why a child that never reported "done" stopped, from its exit status and stderr. */
function exitReason(exit: ExitStatus, stderr: string): string {
  if (/heap out of memory|Allocation failed/i.test(stderr)) return 'memory limit exceeded (V8 heap)';
  const status = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return `the code ended the process before the tests finished (${status})${lines.length ? `: ${lines.slice(-2).join(' | ').slice(0, 300)}` : ''}`;
}

/**
 * Polls the child's resident memory (Linux /proc) and calls `onExceed` past `limitMb`. The V8
 * heap flag does not cover ArrayBuffers and other off-heap memory; this does, at 50 ms grain.
 */
function memoryWatchdog(pid: number | undefined, limitMb: number, onExceed: () => void): NodeJS.Timeout | undefined {
  if (process.platform !== 'linux' || pid === undefined) return undefined;
  const timer = setInterval(() => {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // already gone
    }
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    if (kb > limitMb * 1024) onExceed();
  }, 50);
  timer.unref();
  return timer;
}

/**
 * Polls the size and entry count of the temp dir (the only place the code can write) and calls
 * `onExceed` past the limits: without it a loop of appends fills the disk within the time limit.
 */
function diskWatchdog(dir: string, limitMb: number, onExceed: (why: string) => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    let bytes = 0;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true, recursive: true });
    } catch {
      return; // gone, or made unreadable by the code: the wall clock still applies
    }
    if (entries.length > MAX_DIR_ENTRIES) return onExceed(`disk limit exceeded (more than ${MAX_DIR_ENTRIES} files)`);
    for (const e of entries) {
      if (!e.isFile()) continue;
      try {
        bytes += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
      } catch {
        // deleted meanwhile
      }
    }
    if (bytes > limitMb * 1024 * 1024) onExceed(`disk limit exceeded (${limitMb} MB written)`);
  }, 100);
  timer.unref();
  return timer;
}

/** Deletes a run's temp dir even if the code removed its own permissions on what it made. */
async function removeDir(dir: string): Promise<void> {
  try {
    await fsp.rm(dir, { recursive: true, force: true, maxRetries: 2 });
    return;
  } catch {
    // Fall through: restore permissions and retry once.
  }
  const restore = async (p: string): Promise<void> => {
    await fsp.chmod(p, 0o700).catch(() => undefined);
    const entries = await fsp.readdir(p, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) await restore(path.join(p, e.name));
  };
  await restore(dir);
  await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** Caps concurrent sandboxes so scoring a GRPO batch does not fork one Node per completion at once. */
class Slots {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const slots = new Slots(Math.max(1, Math.min(8, os.availableParallelism() - 1)));
