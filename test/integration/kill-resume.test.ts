// kill -9 at random points of a training run, then the same command again: the run resumes from
// its last checkpoint, loses no step before it, and ends with a loadable checkpoint and a
// metrics.jsonl holding every step exactly once. Runs the built CLI (`npm run build` first).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { checkpointExists, loadCheckpoint, readState } from '../../server/src/checkpoint/checkpoint';
import { readMetrics } from '../../server/src/util/metrics';
import { Rng } from '../../server/src/util/rng';
import { testBackend } from '../helpers/backend';
import { BACKEND, ROOT, tempWorkspace, writeTinyConfig } from './helpers/daemon';

const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const STEPS = 60;
const KILLS = 5;
const tmp = tempWorkspace('kill-resume');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
before(() => assert.ok(fs.existsSync(CLI), 'build first: npm run build'));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts `r1 run pretrain`; `killWhen` is polled and SIGKILLs the process once it returns true. */
function runStage(config: string, out: string, killWhen?: () => boolean): Promise<Run> {
  const child = spawn(
    process.execPath,
    [CLI, 'run', 'pretrain', '--config', config, '--out', out, '--backend', BACKEND],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const poll =
    killWhen &&
    setInterval(() => {
      if (killWhen()) child.kill('SIGKILL');
    }, 5);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, stderr });
    }),
  );
}

/** The last training step logged so far (metrics.jsonl may end with a line cut short). */
function loggedStep(file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const m = /"step":(\d+)[^\n]*\n[^\n]*$/.exec(text);
  return m ? Number(m[1]) : 0;
}

test(
  'kill -9 at random points, rerun: resumes from the last checkpoint, no step lost or logged twice',
  { timeout: 150_000 },
  async () => {
    await testBackend();
    const config = writeTinyConfig(tmp, {
      pretrain: { steps: STEPS, batchSize: 2, checkpointEvery: 3, logEvery: 1, warmupSteps: 2 },
    });
    const out = path.join(tmp, 'run');
    const stageDir = path.join(out, 'pretrain');
    const metrics = path.join(stageDir, 'metrics.jsonl');
    const ckpt = path.join(stageDir, 'checkpoint');
    // A fresh seed each run (printed, and R1_KILL_SEED replays it): new kill points every time.
    const seed = Number(process.env.R1_KILL_SEED ?? Date.now() % 100_000);
    const rng = new Rng(seed);
    console.log(`kill-resume: seed ${seed}`);

    const resumedFrom: number[] = [];
    let kills = 0;
    let lastSaved = 0;
    // The next run must resume from exactly the checkpoint the kill left: no saved step is lost.
    const assertResumedFrom = (run: Run, step: number) => {
      const m = /resuming pretrain from step (\d+)/.exec(run.stderr);
      if (step === 0) return assert.equal(m, null, run.stderr);
      assert.ok(m, `no "resuming" line; stderr:\n${run.stderr}`);
      assert.equal(Number(m[1]), step);
      resumedFrom.push(step);
    };
    for (let i = 0; i < KILLS; i++) {
      // A kill point: a training step still to come (or, once, the start-up before any step),
      // plus a random delay so the kill lands anywhere in that step: mid-batch, mid-metrics line
      // or mid-checkpoint save.
      const before = loggedStep(metrics);
      const target =
        i === 0 ? 0 : before + 1 + Math.floor(rng.next() * Math.max(1, (STEPS - before) / (KILLS - i + 1)));
      const delayMs = rng.next() * 40;
      let reachedAt: number | undefined;
      const run = await runStage(config, out, () => {
        if (loggedStep(metrics) < target) return false;
        reachedAt ??= Date.now();
        return Date.now() - reachedAt >= delayMs;
      });
      if (run.signal !== 'SIGKILL') {
        // The run finished before the kill point: nothing more to kill.
        assert.equal(run.code, 0, run.stderr);
        break;
      }
      kills++;
      assertResumedFrom(run, lastSaved);
      // Whatever the kill left, the stage's checkpoint is the last one saved (or none yet), and
      // never older than the one this run started from.
      const saved = checkpointExists(ckpt) ? readState(ckpt).step : 0;
      assert.ok(saved % 3 === 0 || saved === STEPS, `checkpoint at step ${saved}`);
      assert.ok(saved >= lastSaved, `checkpoint went back from ${lastSaved} to ${saved}`);
      lastSaved = saved;
    }
    console.log(`kill-resume: ${kills} kill points (resumed from steps ${resumedFrom.join(', ') || 'none'})`);
    assert.ok(kills >= 3, `only ${kills} kills landed before the run finished`);

    const final = await runStage(config, out);
    assert.equal(final.code, 0, final.stderr);
    if (lastSaved < STEPS) assertResumedFrom(final, lastSaved);

    const loaded = loadCheckpoint(ckpt);
    loaded.model.dispose();
    assert.equal(loaded.state.step, STEPS);
    assert.equal(loaded.state.done, true);

    const lines = readMetrics(metrics);
    const trainSteps = lines.filter((l) => 'loss' in l).map((l) => l.step);
    assert.deepEqual(
      trainSteps,
      Array.from({ length: STEPS }, (_, i) => i + 1),
      'every training step logged once, in order',
    );
    const evalSteps = lines.filter((l) => 'eval/pass@1' in l).map((l) => l.step);
    assert.deepEqual(evalSteps, [STEPS], 'one final eval');
  },
);

test(
  'killed after the final checkpoint, before the summary: the rerun does not log the final eval twice',
  { timeout: 60_000 },
  async () => {
    const config = writeTinyConfig(
      tmp,
      { pretrain: { steps: 4, batchSize: 2, checkpointEvery: 2, logEvery: 1 } },
      'short.json',
    );
    const out = path.join(tmp, 'short');
    assert.equal((await runStage(config, out)).code, 0);
    // What a kill between the final checkpoint and summary.json leaves.
    fs.rmSync(path.join(out, 'pretrain', 'summary.json'));
    const again = await runStage(config, out);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /resuming pretrain from step 4/);
    const lines = readMetrics(path.join(out, 'pretrain', 'metrics.jsonl'));
    assert.deepEqual(
      lines.map((l) => [l.step, 'loss' in l ? 'train' : 'eval']),
      [
        [1, 'train'],
        [2, 'train'],
        [3, 'train'],
        [4, 'train'],
        [4, 'eval'],
      ],
    );
  },
);
