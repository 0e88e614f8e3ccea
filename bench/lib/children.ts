// Runs one bench part as a child process (so each part's peak RSS and tensor count are its own,
// and a crash in one part does not end the others) and reads the JSON object on its last line.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

export interface PartResult {
  ok: boolean;
  /** The JSON object of the child's last stdout line, when there was one. */
  json?: Record<string, unknown>;
  /** stdout without the JSON line: the part's own readable report. */
  text: string;
  seconds: number;
  error?: string;
}

const ROOT = path.join(__dirname, '..', '..');

/** Runs `cmd args` in the repository root; stderr goes through to ours as it comes. */
export function runPart(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<PartResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    const finish = (code: number | null, spawnError?: Error) => {
      const lines = out.trimEnd().split('\n');
      let json: Record<string, unknown> | undefined;
      try {
        const last = JSON.parse(lines[lines.length - 1]) as unknown;
        if (last && typeof last === 'object' && !Array.isArray(last)) {
          json = last as Record<string, unknown>;
          lines.pop();
        }
      } catch {
        // no JSON line: the part failed before printing it
      }
      const seconds = (performance.now() - t0) / 1000;
      const ok = code === 0 && json !== undefined && !('error' in json);
      const error = ok
        ? undefined
        : (spawnError?.message ??
          (json && typeof json.error === 'string' ? json.error : undefined) ??
          `exit code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      resolve({ ok, json, text: lines.join('\n'), seconds, error });
    };
    child.on('error', (e) => finish(null, e));
    child.on('close', (code) => finish(code));
  });
}

/** A TypeScript bench script under bench/, run with tsx like `npm run bench` runs this one. */
export function runTsPart(script: string, args: string[]): Promise<PartResult> {
  return runPart(process.execPath, ['--import', 'tsx', path.join('bench', script), '--json', ...args]);
}

/**
 * A python3 that can import torch: $R1_PYTHON when set (and only it), else Debian's
 * /usr/bin/python3 (python3-torch installs there, not into a pyenv or venv python that may come
 * first on PATH), then python3.
 */
export function findTorchPython(): string | undefined {
  const candidates = process.env.R1_PYTHON ? [process.env.R1_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

export const TORCH_INSTALL_HINT =
  'PyTorch reference skipped: no python3 with torch found. Install it with `sudo apt-get install -y python3-torch` ' +
  '(Debian/Ubuntu, ~90 s; also `sudo apt-get install -y libopenblas0-pthread`, or torch falls back to the ' +
  'reference BLAS and is ~50x slower), or point R1_PYTHON at a python3 that has torch.';
