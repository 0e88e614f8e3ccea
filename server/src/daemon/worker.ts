// Worker-thread entry of the daemon. tfjs (wasm) lives here, not on the daemon's main thread,
// so language features and requests keep answering while a stage trains or a model samples.
// One training worker runs one job and exits; one long-lived sampling worker serves generation.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend/backend';
import { loadCheckpoint, LoadedCheckpoint } from '../checkpoint/checkpoint';
import { loadPipelineConfig } from '../config/pipelineConfig';
import { generate } from '../model/sampling';
import { StageContext, StageReporter } from '../stages/context';
import { configuredStages, runStage } from '../stages/pipeline';
import { encodePrompt } from '../tokenizer/chatTemplate';
import { StreamingDecoder } from '../tokenizer/tokenizer';
import { fileSystemProblem, isUserError, UserError } from '../util/errors';
import { MetricRecord } from '../util/metrics';
import { Rng } from '../util/rng';
import { FromWorker, JobSpec, SampleOutcome, SampleSpec, ToWorker } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('daemon/worker.ts must run in a worker thread');
const post = (msg: FromWorker): void => port.postMessage(msg);

// Created up front so a cancel that arrives before the stage loop starts is not lost.
const controller = new AbortController();
let cancelFlag: Int32Array | undefined;

/** Turns the shared cancel flag into an abort; called from the reporter, i.e. between steps. */
function pollCancel(): void {
  if (cancelFlag && !controller.signal.aborted && Atomics.load(cancelFlag, 0) === 1) controller.abort();
}
// Sampling requests run one at a time, in arrival order.
let sampling: Promise<void> = Promise.resolve();

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'run') {
    cancelFlag = new Int32Array(msg.cancelFlag);
    void runJob(msg.job);
  } else if (msg.type === 'cancel') controller.abort();
  else sampling = sampling.then(() => sampleOne(msg.id, msg.spec));
});

// Memory a worker could not get outside the JS heap limit (that one ends the worker: jobs.ts):
// an ArrayBuffer or typed array (tensor data on the cpu backend, weights being encoded), or the
// wasm backend's memory growing past what the machine or wasm32 allows.
const OUT_OF_MEMORY = /Array buffer allocation failed|WebAssembly\.Memory|Out of memory|abort(ed)?\(OOM\)/i;

/** What a failed job or request reports: resource problems (disk, memory) as one clear line. */
function errorMessage(err: unknown): { message: string; userError: boolean } {
  if (isUserError(err)) return { message: err.message, userError: true };
  const fsProblem = fileSystemProblem(err, 'another run folder');
  if (fsProblem) return { message: fsProblem, userError: true };
  if (err instanceof Error && OUT_OF_MEMORY.test(err.message)) {
    return {
      message:
        `out of memory: ${err.message}. Use a smaller model preset, batch size or generation length, ` +
        'or close other programs',
      userError: true,
    };
  }
  return { message: err instanceof Error ? (err.stack ?? err.message) : String(err), userError: false };
}

/** Forwards stage progress as messages; per-step progress is throttled (a step can take 1 ms). */
class PortReporter implements StageReporter {
  // A stage id, or a derived run's name (e.g. `reasoning-rl-control`).
  private stage = '';
  private total = 0;
  private lastSent = 0;

  log(message: string): void {
    pollCancel();
    post({ type: 'log', message });
  }
  progressStart(stage: string, total: number, start: number): void {
    this.stage = stage;
    this.total = total;
    this.lastSent = Date.now();
    post({ type: 'progress', stage, step: start, total });
  }
  progress(step: number): void {
    pollCancel();
    if (step < this.total && Date.now() - this.lastSent < 250) return;
    this.lastSent = Date.now();
    post({ type: 'progress', stage: this.stage, step, total: this.total });
  }
  progressStop(): void {}
  metric(record: MetricRecord): void {
    pollCancel();
    post({ type: 'metric', record });
  }
}

async function runJob(job: JobSpec): Promise<void> {
  try {
    const config = loadPipelineConfig(job.config, job.preset);
    if (job.backend) config.backend = job.backend;
    const reporter = new PortReporter();
    const backend = await initBackend(config.backend, (m) => reporter.log(m));
    post({ type: 'backend', name: backend });
    reporter.log(`backend: ${backend}; run folder: ${job.runDir}`);
    const ctx: StageContext = { config, runDir: job.runDir, from: job.from, reporter, signal: controller.signal };
    const stages = job.stages ?? configuredStages(ctx);
    if (!stages.length) throw new UserError(`${job.config}: no runnable stages configured`);
    post({ type: 'stages', stages });
    let cancelled = false;
    for (const [i, stage] of stages.entries()) {
      // Only the first stage takes `from`; later ones start from the previous stage (as runPipeline does).
      const summary = await runStage({ ...ctx, from: i === 0 ? ctx.from : undefined }, stage);
      post({ type: 'stageDone', stage, summary: { ...summary } });
      if (summary.cancelled) {
        cancelled = true;
        break;
      }
    }
    post({ type: 'done', cancelled: cancelled || controller.signal.aborted });
  } catch (err) {
    post({ type: 'error', ...errorMessage(err) });
  }
}

// One model at a time: a daemon serves one checkpoint, and a retrained checkpoint (same folder,
// newer state.json) is reloaded rather than served stale.
let cached: { dir: string; mtimeMs: number; loaded: LoadedCheckpoint } | undefined;

function modelFor(dir: string): LoadedCheckpoint {
  let mtimeMs = 0;
  try {
    mtimeMs = fs.statSync(path.join(dir, 'state.json')).mtimeMs;
  } catch {
    // loadCheckpoint below says what is missing
  }
  if (cached && cached.dir === dir && cached.mtimeMs === mtimeMs) return cached.loaded;
  const loaded = loadCheckpoint(dir);
  cached?.loaded.model.dispose();
  cached = { dir, mtimeMs, loaded };
  return loaded;
}

async function sampleOne(id: number, spec: SampleSpec): Promise<void> {
  try {
    post({ type: 'backend', name: await initBackend(spec.backend ?? 'auto') });
    const { model, tokenizer } = modelFor(spec.checkpoint);
    const promptIds = encodePrompt(tokenizer, spec.prompt);
    const decoder = new StreamingDecoder(tokenizer);
    let text = '';
    const emit = (piece: string) => {
      if (!piece) return;
      text += piece;
      post({ type: 'chunk', id, text: piece });
    };
    const result = await generate(model, [promptIds], {
      maxNewTokens: spec.maxTokens,
      temperature: spec.temperature,
      topP: spec.topP,
      stopIds: [tokenizer.eos],
      padId: tokenizer.pad,
      rng: new Rng(spec.seed),
      onToken: (_row, token) => {
        if (token !== tokenizer.eos) emit(decoder.push(token));
      },
    });
    emit(decoder.flush());
    const ids = result.tokens[0];
    const outcome: SampleOutcome = {
      text,
      tokens: ids.filter((t) => t !== tokenizer.eos).length,
      promptTokens: promptIds.length,
      finishReason: result.truncated[0] ? 'length' : 'stop',
    };
    post({ type: 'sampled', id, outcome });
  } catch (err) {
    // sampling.ts throws a plain Error for a prompt that fills the context: that is bad input.
    const { message, userError } = errorMessage(err);
    post({ type: 'sampleError', id, message, userError: userError || /leaves no room/.test(message) });
  }
}
