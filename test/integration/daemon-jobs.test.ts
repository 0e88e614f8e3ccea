// Training jobs through the daemon's LSP requests: a stage runs in a worker and streams
// metrics (to the LSP client and WebSocket subscribers), requests stay answered meanwhile,
// cancel checkpoints and the next run resumes, a failing job is reported and the daemon goes on.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { InitializedNotification, InitializeRequest } from 'vscode-languageserver-protocol';
import { WebSocket } from 'ws';
import {
  Notifications,
  Requests,
  type DaemonStatus,
  type GenerateChunk,
  type GenerateResult,
  type JobEvent,
  type JobInfo,
  type JobRef,
  type MetricNotification,
  type MetricRecord,
  type RunInfo,
  type WsMessage,
} from '../../server/src/protocol/messages';
import {
  type Daemon,
  lspConnection,
  Recorder,
  spawnDaemon,
  stopDaemon,
  tempWorkspace,
  waitForTokenFile,
  writeTinyConfig,
} from './helpers/daemon';

// Bounds each test, so a daemon that stops answering fails the test instead of hanging the suite.
const LIMIT = { timeout: 90_000 };

let daemon: Daemon | undefined;
let conn: MessageConnection;
let workspace: string;
let shortConfig: string;
let longConfig: string;
let socket: WebSocket | undefined;
const events = new Recorder<JobEvent>();
const metrics = new Recorder<MetricNotification>();
const chunks = new Recorder<GenerateChunk>();
const wsMessages = new Recorder<WsMessage>();

const eventOf = (jobId: string, kind: JobEvent['kind']) =>
  events.wait((e) => e.jobId === jobId && e.kind === kind, `${kind} of job ${jobId}`, 60_000);

before(async () => {
  workspace = tempWorkspace('jobs');
  shortConfig = writeTinyConfig(workspace, { pretrain: { steps: 10, logEvery: 5 } }, 'short.json');
  longConfig = writeTinyConfig(
    workspace,
    { pretrain: { steps: 5000, logEvery: 5, checkpointEvery: 10000 } },
    'long.json',
  );
  daemon = spawnDaemon(['--stdio', '--workspace', workspace]);
  conn = lspConnection(daemon);
  conn.onNotification(Notifications.jobEvent, events.push);
  conn.onNotification(Notifications.metric, metrics.push);
  conn.onNotification(Notifications.generateChunk, chunks.push);
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(workspace).href,
    capabilities: {},
  });
  await conn.sendNotification(InitializedNotification.type, {});
}, LIMIT);

after(async () => {
  socket?.terminate();
  conn?.dispose();
  await stopDaemon(daemon);
  fs.rmSync(workspace, { recursive: true, force: true });
});

test('runStage trains in a worker, streams metric notifications and finishes', LIMIT, async () => {
  const ref = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config: shortConfig,
    out: 'runs/short',
  });
  assert.equal(ref.position, 0);
  const finished = await eventOf(ref.jobId, 'finished');
  assert.equal(finished.stage, 'pretrain');
  const done = await eventOf(ref.jobId, 'stageDone');
  assert.equal((done.summary as { steps: number }).steps, 10);
  const mine = metrics.items.filter((m) => m.jobId === ref.jobId).map((m) => m.record);
  assert.deepEqual(
    mine.filter((r) => 'loss' in r).map((r) => r.step),
    [5, 10],
  );
  assert.ok(
    mine.some((r) => 'eval/pass@1' in r),
    'the end-of-stage eval is streamed too',
  );
  assert.ok(fs.readFileSync(path.join(workspace, 'runs', 'short', 'daemon.log'), 'utf8').includes('started'));

  const runs = await conn.sendRequest<RunInfo[]>(Requests.listRuns, {});
  const run = runs.find((r) => r.name === 'short');
  assert.deepEqual(
    run?.stages.map((s) => [s.stage, s.step, s.done]),
    [['pretrain', 10, true]],
  );
  const since = await conn.sendRequest<MetricRecord[]>(Requests.metrics, {
    runDir: 'runs/short',
    stage: 'pretrain',
    sinceStep: 5,
  });
  assert.ok(since.length >= 1 && since.every((m) => m.step > 5));
});

test('generate streams r1/generateChunk notifications from a checkpoint', LIMIT, async () => {
  const result = await conn.sendRequest<GenerateResult>(Requests.generate, {
    checkpoint: 'runs/short/pretrain/checkpoint',
    prompt: 'What is 1 + 2?',
    maxTokens: 8,
    streamId: 's1',
  });
  assert.ok(result.tokens >= 1 && result.tokens <= 8);
  const streamed = chunks.items
    .filter((c) => c.streamId === 's1')
    .map((c) => c.text)
    .join('');
  assert.equal(streamed, result.text);
});

test('while a stage runs: status answers fast, WebSocket gets live metrics; queue, cancel, resume', LIMIT, async () => {
  const info = await waitForTokenFile(path.join(workspace, '.r1', 'daemon.json'));
  socket = new WebSocket(`${info.ws}?token=${info.token}`);
  socket.on('message', (d) => wsMessages.push(JSON.parse(String(d)) as WsMessage));
  await wsMessages.wait((m) => m.type === 'replay', 'ws replay');

  const ref = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config: longConfig,
    out: 'runs/long',
  });
  await metrics.wait((m) => m.jobId === ref.jobId, 'a first metric of the long job');

  const t0 = performance.now();
  const status = await conn.sendRequest<DaemonStatus>(Requests.status);
  const latency = performance.now() - t0;
  assert.equal(status.state, 'running');
  assert.equal(status.job?.jobId, ref.jobId);
  assert.ok(latency < 1000, `status took ${latency.toFixed(0)} ms while training`);
  await wsMessages.wait((m) => m.type === 'metric' && m.data.jobId === ref.jobId, 'a live metric on the WebSocket');

  // A second job waits in the queue and can be cancelled there.
  const queued = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config: shortConfig,
    out: 'runs/q',
  });
  assert.equal(queued.position, 1);
  const dropped = await conn.sendRequest<JobInfo>(Requests.cancel, { jobId: queued.jobId });
  assert.equal(dropped.state, 'cancelled');

  await conn.sendRequest(Requests.cancel, {});
  const cancelled = await eventOf(ref.jobId, 'cancelled');
  const stoppedAt = cancelled.step ?? 0;
  assert.ok(stoppedAt >= 5, `cancelled at step ${stoppedAt}`);
  const after = await conn.sendRequest<DaemonStatus>(Requests.status);
  assert.equal(after.state, 'idle');
  assert.equal(after.job?.state, 'cancelled');

  const again = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config: longConfig,
    out: 'runs/long',
  });
  const resumed = await events.wait(
    (e) => e.jobId === again.jobId && /resuming pretrain from step \d+/.test(e.message ?? ''),
    'the resume log line',
    60_000,
  );
  const from = Number(/from step (\d+)/.exec(resumed.message!)![1]);
  assert.ok(from >= 5, `resumed from step ${from}`);
  const next = await metrics.wait((m) => m.jobId === again.jobId, 'a metric after resuming');
  assert.ok(next.record.step > from, `step ${next.record.step} after resuming from ${from}`);
  await conn.sendRequest(Requests.cancel, { jobId: again.jobId });
  await eventOf(again.jobId, 'cancelled');
});

test('a failing job is reported failed with its message, and the daemon keeps serving', LIMIT, async () => {
  const broken = writeTinyConfig(
    workspace,
    { pretrain: { data: path.join(workspace, 'missing-corpus.txt') } },
    'broken.json',
  );
  const ref = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config: broken,
    out: 'runs/broken',
  });
  const failed = await eventOf(ref.jobId, 'failed');
  assert.match(failed.message ?? '', /missing-corpus\.txt/);
  const status = await conn.sendRequest<DaemonStatus>(Requests.status);
  assert.equal(status.job?.state, 'failed');
  assert.match(status.job?.error ?? '', /missing-corpus\.txt/);

  // The next job still runs (this run is complete already, so it finishes quickly).
  const next = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config: shortConfig,
    out: 'runs/short',
  });
  await eventOf(next.jobId, 'finished');
  await assert.rejects(conn.sendRequest(Requests.runStage, { stage: 'nope' }), /stage: expected one of/);
});
