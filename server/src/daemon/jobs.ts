// Training jobs: one at a time per workspace (they would fight over the CPU and the run
// folders), the rest in a FIFO queue. Each job runs in a fresh worker thread, so a crash or a
// leak in one job cannot take the daemon or the next job with it.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { JobEvent, JobInfo, JobRef, MetricNotification, StageId } from '../protocol/messages';
import { appendLine } from './log';
import { isWorkerOutOfMemory, outOfMemoryMessage, spawnDaemonWorker } from './workerHost';
import type { FromWorker, JobSpec } from './workerProtocol';

/** How long a cancelled job may take to checkpoint and stop before its worker is terminated. */
const CANCEL_GRACE_MS = 60_000;

export interface JobManagerOptions {
  onEvent: (e: JobEvent) => void;
  onMetric: (m: MetricNotification) => void;
  /** Daemon log (job log lines, worker output). */
  log: (message: string) => void;
  /** Starts a worker; tests pass their own. */
  spawn?: () => Worker;
  /**
   * The training worker's JS heap limit in MB (V8 old generation). Past it the worker stops with
   * ERR_WORKER_OUT_OF_MEMORY and the job fails with a message naming the limit; the daemon goes on.
   */
  workerHeapMb?: number;
}

interface Job {
  info: JobInfo;
  spec: JobSpec;
  worker?: Worker;
  cancelRequested?: boolean;
  /** Shared with the worker: 1 = cancel (see workerProtocol.ts). */
  cancelFlag: Int32Array;
  settled?: boolean;
  cancelTimer?: NodeJS.Timeout;
}

/** Queue, run, cancel and report training jobs. */
export class JobManager {
  private readonly queue: Job[] = [];
  private current?: Job;
  private last?: Job;
  /** Backend the last worker reported (`wasm`, ...). */
  backend?: string;

  constructor(private readonly opts: JobManagerOptions) {}

  /** Queues a job; it starts at once when nothing else runs. */
  submit(kind: JobInfo['kind'], spec: JobSpec): JobRef {
    const info: JobInfo = {
      jobId: randomUUID().slice(0, 8),
      kind,
      stages: spec.stages ?? [],
      runDir: spec.runDir,
      state: 'queued',
    };
    const job: Job = { info, spec, cancelFlag: new Int32Array(new SharedArrayBuffer(4)) };
    this.queue.push(job);
    const position = this.current ? this.queue.length : 0;
    this.emit(job, { kind: 'queued', message: `queued ${kind} ${info.stages.join(',') || '(all stages)'}` });
    this.next();
    return { jobId: info.jobId, position };
  }

  /** Cancels a queued job, or asks the running one to checkpoint and stop. Returns the job, if any. */
  cancel(jobId?: string): JobInfo | undefined {
    const running = this.current;
    if (running && (jobId === undefined || running.info.jobId === jobId)) {
      if (!running.cancelRequested) {
        running.cancelRequested = true;
        Atomics.store(running.cancelFlag, 0, 1);
        running.worker?.postMessage({ type: 'cancel' });
        this.emit(running, { kind: 'log', message: 'cancelling: the stage checkpoints after this step' });
        running.cancelTimer = setTimeout(() => {
          this.settle(running, 'cancelled', `did not stop within ${CANCEL_GRACE_MS / 1000}s; terminated`);
        }, CANCEL_GRACE_MS);
        running.cancelTimer.unref();
      }
      return { ...running.info };
    }
    const i = this.queue.findIndex((j) => j.info.jobId === jobId);
    if (i < 0) return undefined;
    const [job] = this.queue.splice(i, 1);
    this.settle(job, 'cancelled');
    return { ...job.info };
  }

  /** The running job (else the last finished one) and the queue. */
  status(): { job?: JobInfo; queue: JobInfo[]; running: boolean } {
    const job = this.current ?? this.last;
    return { job: job && { ...job.info }, queue: this.queue.map((j) => ({ ...j.info })), running: !!this.current };
  }

  /** Stops everything (daemon shutdown). */
  dispose(): void {
    this.queue.length = 0;
    void this.current?.worker?.terminate();
  }

  private next(): void {
    if (this.current) return;
    const job = this.queue.shift();
    if (!job) return;
    this.current = job;
    job.info.state = 'running';
    job.info.startedAt = new Date().toISOString();
    this.emit(job, { kind: 'started' });
    let worker: Worker;
    try {
      worker = this.opts.spawn
        ? this.opts.spawn()
        : spawnDaemonWorker({ maxOldGenerationSizeMb: this.opts.workerHeapMb });
    } catch (err) {
      this.settle(job, 'failed', `cannot start the worker: ${(err as Error).message}`);
      return;
    }
    job.worker = worker;
    const forward = (chunk: Buffer) => this.opts.log(`[worker ${job.info.jobId}] ${String(chunk).trimEnd()}`);
    worker.stdout?.on('data', forward);
    worker.stderr?.on('data', forward);
    worker.on('message', (msg: FromWorker) => this.onMessage(job, msg));
    worker.on('error', (err) => this.settle(job, 'failed', this.crashMessage(err)));
    // A worker that ends without `done` or `error` (process.exit in a library, a native abort).
    worker.on('exit', (code) =>
      this.settle(job, 'failed', `the training worker exited unexpectedly (code ${code}); see the daemon log`),
    );
    worker.postMessage({ type: 'run', job: job.spec, cancelFlag: job.cancelFlag.buffer });
  }

  /** A worker's `error` event: out of memory gets its own message; anything else is a crash. */
  private crashMessage(err: Error): string {
    if (isWorkerOutOfMemory(err)) return outOfMemoryMessage('training worker', this.opts.workerHeapMb, err.message);
    return `the training worker crashed: ${err.stack ?? err.message}`;
  }

  private onMessage(job: Job, msg: FromWorker): void {
    const info = job.info;
    switch (msg.type) {
      case 'log':
        this.emit(job, { kind: 'log', message: msg.message });
        break;
      case 'backend':
        this.backend = msg.name;
        break;
      case 'stages':
        info.stages = msg.stages;
        break;
      case 'progress': {
        // Derived runs (an RL stage's SFT control) report under their own name; the protocol's
        // `stage` is typed as a stage id, and clients show whatever name arrives.
        const stage = msg.stage as StageId;
        Object.assign(info, { stage, step: msg.step, total: msg.total });
        this.emit(job, { kind: 'progress', stage, step: msg.step, total: msg.total });
        break;
      }
      case 'metric':
        this.opts.onMetric({ jobId: info.jobId, runDir: info.runDir, record: msg.record });
        break;
      case 'stageDone':
        // Progress is throttled; the summary has the exact step the stage stopped at.
        if (typeof msg.summary.steps === 'number') info.step = msg.summary.steps;
        this.emit(job, { kind: 'stageDone', stage: msg.stage as StageId, summary: msg.summary });
        break;
      case 'done':
        this.settle(job, msg.cancelled ? 'cancelled' : 'done');
        break;
      case 'error':
        this.settle(job, 'failed', msg.message);
        break;
    }
  }

  /** Ends a job once (a crash reports both `error` and `exit`), frees its worker, starts the next. */
  private settle(job: Job, state: 'done' | 'failed' | 'cancelled', message?: string): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.cancelTimer);
    job.info.state = state;
    if (state === 'failed') job.info.error = message;
    const kind = state === 'done' ? 'finished' : state;
    this.emit(job, { kind, stage: job.info.stage, step: job.info.step, total: job.info.total, message });
    if (job.worker) {
      job.worker.removeAllListeners('exit');
      void job.worker.terminate();
    }
    if (this.current === job) {
      this.current = undefined;
      this.last = job;
      this.next();
    }
  }

  private emit(job: Job, e: Omit<JobEvent, 'jobId'>): void {
    const event: JobEvent = { jobId: job.info.jobId, ...e };
    const text = e.message ? `${e.kind}: ${e.message}` : e.kind;
    // The run folder keeps its own log next to the stages' metrics (spec §1: "its logs").
    if (e.kind !== 'progress') {
      appendLine(path.join(job.info.runDir, 'daemon.log'), `[${job.info.jobId}] ${text}`);
      this.opts.log(`job ${job.info.jobId}: ${text}`);
    }
    this.opts.onEvent(event);
  }
}
