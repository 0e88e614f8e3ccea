// The daemon's job manager with stand-in worker threads: a worker that crashes or exits is a
// `failed` job with its error, the queue moves on in FIFO order, and the replay log is bounded.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { EventHub } from '../../server/src/daemon/hub';
import { JobManager } from '../../server/src/daemon/jobs';
import { removeTokenFile, writeTokenFile } from '../../server/src/daemon/tokenFile';
import type { JobEvent, MetricNotification } from '../../server/src/protocol/messages';
import { tempWorkspace } from './helpers/daemon';

// Bounds each test, so a daemon that stops answering fails the test instead of hanging the suite.
const LIMIT = { timeout: 90_000 };

const dir = tempWorkspace('jobmanager');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// Worker bodies (CommonJS, eval'd): what a real worker would do, or fail to.
const CRASH = `setTimeout(() => { throw new Error('boom in worker'); }, 10);`;
const EXIT = `setTimeout(() => process.exit(3), 10);`;
const SUCCEED = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.type !== 'run') return;
  parentPort.postMessage({ type: 'metric', record: { stage: 'pretrain', step: 1, loss: 2 } });
  parentPort.postMessage({ type: 'done', cancelled: false });
});`;

function manager(bodies: string[]) {
  const events: JobEvent[] = [];
  const metrics: MetricNotification[] = [];
  const finished = new Map<string, (e: JobEvent) => void>();
  const jobs = new JobManager({
    onEvent: (e) => {
      events.push(e);
      if (['finished', 'failed', 'cancelled'].includes(e.kind)) finished.get(e.jobId)?.(e);
    },
    onMetric: (m) => metrics.push(m),
    log: () => {},
    spawn: () => new Worker(bodies.shift()!, { eval: true }),
  });
  const end = (jobId: string) => new Promise<JobEvent>((resolve) => finished.set(jobId, resolve));
  return { jobs, events, metrics, end };
}

const spec = (name: string) => ({ stages: ['pretrain' as const], config: 'x.json', runDir: path.join(dir, name) });

test('a worker that throws or exits fails its job with the error; the next queued job still runs', LIMIT, async () => {
  const { jobs, events, metrics, end } = manager([CRASH, EXIT, SUCCEED]);
  const a = jobs.submit('stage', spec('a'));
  const b = jobs.submit('stage', spec('b'));
  const c = jobs.submit('stage', spec('c'));
  assert.deepEqual([a.position, b.position, c.position], [0, 1, 2]);
  const [ea, eb, ec] = await Promise.all([end(a.jobId), end(b.jobId), end(c.jobId)]);
  assert.equal(ea.kind, 'failed');
  assert.match(ea.message ?? '', /boom in worker/);
  assert.equal(eb.kind, 'failed');
  assert.match(eb.message ?? '', /exited unexpectedly \(code 3\)/);
  assert.equal(ec.kind, 'finished');
  assert.deepEqual(
    metrics.map((m) => [m.jobId, m.record.loss]),
    [[c.jobId, 2]],
  );
  // FIFO: each job starts only after the previous one ended.
  const order = events.filter((e) => e.kind === 'started').map((e) => e.jobId);
  assert.deepEqual(order, [a.jobId, b.jobId, c.jobId]);
  const status = jobs.status();
  assert.equal(status.running, false);
  assert.equal(status.job?.jobId, c.jobId);
  assert.equal(status.job?.state, 'done');
});

test('the replay log keeps the current run only, the newest metrics, and the latest progress', LIMIT, () => {
  const hub = new EventHub({ metrics: 10, events: 5 });
  hub.event({ jobId: 'old', kind: 'started' });
  hub.event({ jobId: 'new', kind: 'started' });
  for (let step = 1; step <= 100; step++) {
    hub.metric({ jobId: 'new', runDir: dir, record: { stage: 'pretrain', step } });
    hub.event({ jobId: 'new', kind: 'progress', step, total: 100 });
  }
  hub.event({ jobId: 'new', kind: 'stageDone', stage: 'pretrain' });
  const replay = hub.replay();
  assert.deepEqual(
    replay.events.map((e) => [e.jobId, e.kind, e.step]),
    [
      ['new', 'started', undefined],
      ['new', 'stageDone', undefined],
      ['new', 'progress', 100],
    ],
  );
  assert.ok(replay.metrics.length <= 11, `${replay.metrics.length} metrics kept`);
  assert.equal(replay.metrics[replay.metrics.length - 1].record.step, 100);
});

test('token file: written 0600, removed only by the daemon whose token it holds', LIMIT, () => {
  const file = path.join(dir, '.r1', 'daemon.json');
  const content = { http: 'h', ws: 'w', tokenFile: file, token: 'mine', pid: 1, workspace: dir };
  writeTokenFile(file, content);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  removeTokenFile(file, 'someone-else');
  assert.ok(fs.existsSync(file), "another daemon's exit leaves our file alone");
  removeTokenFile(file, 'mine');
  assert.equal(fs.existsSync(file), false);
});
