// Resource faults: a run folder the user cannot write, a data file they cannot read, a missing
// optional backend, a damaged checkpoint behind the daemon. Each is a clear message (exit 1 for
// the CLI, a 4xx for the API), never a stack trace, and the daemon keeps serving.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonTokenFile } from '../../server/src/protocol/messages';
import { trainTinyCheckpoint } from './helpers/checkpoint';
import { BACKEND, readyLine, ROOT, spawnDaemon, stopDaemon, tempWorkspace, writeTinyConfig } from './helpers/daemon';

const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const tmp = tempWorkspace('faults');
// Root ignores file permissions, so as root the CLI runs as `nobody` for the permission tests.
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

// `nobody` must reach the CLI bundle and node_modules: a checkout inside a 0700 folder (e.g.
// `mktemp -d`) would stop it there. Ancestors get o+x (traverse only) for the run, then their modes back.
const restoredModes = new Map<string, number>();
function letOthersTraverse(dir: string): void {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const mode = fs.statSync(d).mode & 0o7777;
    if (!(mode & 0o001)) {
      restoredModes.set(d, mode);
      fs.chmodSync(d, mode | 0o001);
    }
  }
}

before(() => {
  assert.ok(fs.existsSync(CLI), 'build first: npm run build');
  fs.chmodSync(tmp, 0o755); // mkdtemp makes it 0700: another user could not even read the config
  if (asRoot) letOthersTraverse(ROOT);
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [d, mode] of restoredModes) fs.chmodSync(d, mode);
});

function r1(args: string[], unprivileged = false) {
  const opts: SpawnSyncOptions = { cwd: ROOT, encoding: 'utf8', timeout: 60_000 };
  if (unprivileged && asRoot) Object.assign(opts, { uid: NOBODY, gid: NOBODY });
  const r = spawnSync(process.execPath, [CLI, ...args], opts);
  return { code: r.status, stderr: String(r.stderr) };
}

/** Exit 1 with a one-line `r1: ...` message matching `message`, and no stack trace. */
function assertCleanFailure(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
}

test('a read-only run folder: exit 1 naming the folder, no stack trace', () => {
  const config = writeTinyConfig(tmp, { pretrain: { steps: 2 } }, 'ro.json');
  fs.chmodSync(config, 0o644);
  const out = path.join(tmp, 'read-only-run');
  fs.mkdirSync(out);
  fs.chmodSync(out, 0o555);
  const r = r1(['run', 'pretrain', '--config', config, '--out', out, '--backend', BACKEND], true);
  assertCleanFailure(r, new RegExp(`cannot mkdir ${out}/pretrain: permission denied \\(EACCES\\)`));
  assert.deepEqual(fs.readdirSync(out), [], 'nothing was written');
});

test('an unreadable data file: exit 1 naming the file and the reason', () => {
  const corpus = path.join(tmp, 'secret-corpus.txt');
  fs.writeFileSync(corpus, 'some text\n', { mode: 0o600 });
  fs.chmodSync(corpus, 0o000);
  const config = writeTinyConfig(tmp, { pretrain: { steps: 2, data: corpus } }, 'unreadable.json');
  fs.chmodSync(config, 0o644);
  const out = path.join(tmp, 'unreadable-run');
  fs.mkdirSync(out, { mode: 0o777 });
  fs.chmodSync(out, 0o777);
  const r = r1(['run', 'pretrain', '--config', config, '--out', out, '--backend', BACKEND], true);
  assertCleanFailure(r, /secret-corpus\.txt:1:1: error: cannot read file: permission denied/);
});

const installed = (pkg: string) => {
  try {
    createRequire(CLI).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

for (const [backend, pkg] of [
  ['node', '@tensorflow/tfjs-node'],
  ['gpu', '@tensorflow/tfjs-node-gpu'],
] as const) {
  test(
    `--backend ${backend} without ${pkg}: exit 1 with the install command`,
    { skip: installed(pkg) && `${pkg} is installed` },
    () => {
      const config = writeTinyConfig(tmp, { pretrain: { steps: 2 } }, `backend-${backend}.json`);
      const r = r1([
        'run',
        'pretrain',
        '--config',
        config,
        '--out',
        path.join(tmp, `run-${backend}`),
        '--backend',
        backend,
      ]);
      assertCleanFailure(r, new RegExp(`needs ${pkg}: run \`npm install ${pkg}@`));
    },
  );
}

test(
  'a damaged served checkpoint: the API answers 400 with the reason, and the daemon keeps serving',
  { timeout: 120_000 },
  async () => {
    const workspace = path.join(tmp, 'daemon');
    fs.mkdirSync(workspace);
    const checkpoint = await trainTinyCheckpoint(workspace, 2);
    // No previous checkpoint to fall back to: the one save of a 2-step run, then damaged.
    fs.rmSync(`${checkpoint}.prev`, { recursive: true, force: true });
    const weights = path.join(checkpoint, 'weights.bin');
    fs.truncateSync(weights, Math.floor(fs.statSync(weights).size / 2));
    const daemon = spawnDaemon(['--workspace', workspace, '--checkpoint', checkpoint]);
    try {
      const ready = await readyLine(daemon);
      const { token } = JSON.parse(fs.readFileSync(ready.tokenFile, 'utf8')) as DaemonTokenFile;
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${ready.http}/v1/completions`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ prompt: 'What is 1 + 1?', max_tokens: 2 }),
        });
        const body = (await res.json()) as { error: { message: string } };
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(body.error.message, /checkpoint is damaged: weights\.bin is truncated/);
      }
      const models = await fetch(`${ready.http}/v1/models`, { headers });
      assert.equal(models.status, 200);
      assert.equal(daemon.child.exitCode, null);
    } finally {
      await stopDaemon(daemon);
    }
  },
);
