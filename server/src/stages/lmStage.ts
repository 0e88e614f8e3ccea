// The next-token stages: `pretrain` (random windows of a corpus) and `cold-start` / `sft`
// (prompt + completion, loss on the completion only). Resumable from the last checkpoint.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  checkpointExists,
  loadCheckpoint,
  loadOptimizerState,
  readState,
  saveCheckpoint,
  TrainState,
} from '../checkpoint/checkpoint';
import { lmStageConfig, LmStageConfig, resolveData } from '../config/pipelineConfig';
import { loadCorpus } from '../data/corpus';
import { loadRl, loadSft } from '../data/loaders';
import { evaluate, EvalResult } from '../eval/evaluate';
import { describeParameters, resolveModelConfig } from '../model/config';
import { moeMetrics } from './moeMetrics';
import { GPT } from '../model/gpt';
import { encodeCompletion, encodePrompt } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { EpochSampler, pairBatch, streamBatch } from '../train/batches';
import { evalLoss, LmBatch, trainStep } from '../train/lmStep';
import { AdamW, DEFAULT_ADAMW, learningRate } from '../train/optimizer';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/fsAtomic';
import { StageClock } from '../util/stageClock';
import { yieldToEventLoop } from '../util/yieldToEventLoop';
import { MetricsWriter } from '../util/metrics';
import { Rng } from '../util/rng';
import { StageContext, StageSummary } from './context';

export type LmStageId = 'pretrain' | 'cold-start' | 'sft';

/** Where each stage starts from when the caller gives no --from. */
const DEFAULT_FROM: Record<LmStageId, string | undefined> = {
  pretrain: undefined,
  'cold-start': 'pretrain',
  sft: 'pretrain',
};

export function stageDir(runDir: string, stage: string): string {
  return path.join(runDir, stage);
}

export function checkpointDir(runDir: string, stage: string): string {
  return path.join(stageDir(runDir, stage), 'checkpoint');
}

/** Variations for callers that run an LM stage under another name (e.g. the SFT control of RL). */
export interface LmRunOptions {
  /** Folder (and metrics `stage` label) instead of the stage id. */
  name?: string;
  /** Settings instead of the config's `stages.<stage>`. */
  cfg?: LmStageConfig;
  /** Stop (as finished) once this many CPU seconds are spent: compute-matched comparisons. */
  maxCpuSeconds?: number;
  /** Stage whose checkpoint to start from when the caller gives no --from (instead of the default). */
  fromStage?: string;
  /** Training batches instead of the config's `data` file (e.g. `sft` mixing curated and general pairs). */
  batches?: (tok: Tokenizer, contextLength: number, rng: Rng) => () => LmBatch;
}

/** Whether `stage` in `runDir` finished: its final checkpoint and its summary are written. */
export function isStageComplete(runDir: string, stage: string): boolean {
  const ckpt = checkpointDir(runDir, stage);
  return (
    checkpointExists(ckpt) && readState(ckpt).done && fs.existsSync(path.join(stageDir(runDir, stage), 'summary.json'))
  );
}

export async function runLmStage(
  ctx: StageContext,
  stageId: LmStageId,
  opts: LmRunOptions = {},
): Promise<StageSummary> {
  const { config, reporter } = ctx;
  const cfg = opts.cfg ?? lmStageConfig(config, stageId);
  const stage = opts.name ?? stageId;
  const dir = stageDir(ctx.runDir, stage);
  const ckpt = checkpointDir(ctx.runDir, stage);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify({ ...config, stage: cfg }, null, 2));

  const summaryFile = path.join(dir, 'summary.json');
  if (isStageComplete(ctx.runDir, stage)) {
    reporter.log(`${stage}: already complete (${ckpt})`);
    return JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as StageSummary;
  }

  const { model, tokenizer, state, resumed } = await startingPoint(ctx, stageId, ckpt, cfg, opts.fromStage);
  const opt = new AdamW(model.params, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay });
  const rng = new Rng(state.rngState);
  const metrics = new MetricsWriter(path.join(dir, 'metrics.jsonl'), reporter.metric?.bind(reporter));
  if (resumed) {
    loadOptimizerState(ckpt, opt, state);
    metrics.truncateAfter(state.step);
    reporter.log(`resuming ${stage} from step ${state.step}`);
  } else {
    fs.rmSync(metrics.file, { force: true });
  }

  const nextBatch = opts.batches
    ? opts.batches(tokenizer, model.config.contextLength, rng)
    : batchSource(stageId, cfg, tokenizer, model.config.contextLength, rng);
  const evalExamples = loadRl(resolveData(config, config.eval.data)).slice(0, config.eval.limit);
  const heldOut = cfg.heldOut ? heldOutBatch(cfg.heldOut, tokenizer, model.config.contextLength) : undefined;
  const runEval = async (): Promise<{ result: EvalResult; figures: Record<string, number> }> => {
    const result = await evaluate(model, tokenizer, evalExamples, { ...config.eval, plain: stageId === 'pretrain' });
    const figures: Record<string, number> = {};
    if (heldOut) figures['eval/loss'] = await evalLoss(model, heldOut);
    return { result, figures };
  };

  const clock = new StageClock(Number(state.extra?.wallSeconds ?? 0), Number(state.extra?.cpuSeconds ?? 0));
  let step = state.step;
  let cancelled = false;
  const save = async (done: boolean) => {
    const s: TrainState = {
      ...state,
      stage,
      step,
      totalSteps: cfg.steps,
      done,
      rngState: rng.state,
      extra: { wallSeconds: clock.wallSeconds, cpuSeconds: clock.cpuSeconds },
    };
    await saveCheckpoint(ckpt, model, tokenizer, s, opt);
  };

  reporter.progressStart(stage, cfg.steps, step);
  while (step < cfg.steps) {
    await yieldToEventLoop();
    if (ctx.signal?.aborted) {
      cancelled = true;
      break;
    }
    if (opts.maxCpuSeconds !== undefined && clock.cpuSeconds >= opts.maxCpuSeconds) break;
    const t0 = performance.now();
    const lr = learningRate(step, cfg.steps, cfg.lr, cfg.warmupSteps, cfg.minLrRatio);
    const batch = nextBatch();
    const r = await trainStep(model, opt, batch, lr, cfg.maxGradNorm);
    step++;
    const dt = (performance.now() - t0) / 1000;
    const tokensSeen = batch.inputs.length * batch.inputs[0].length;
    if (!Number.isFinite(r.loss))
      throw new Error(`${stage}: loss became ${r.loss} at step ${step}; lower stages.${stage}.lr`);
    if (step % cfg.logEvery === 0 || step === cfg.steps) {
      metrics.write({
        stage,
        step,
        loss: r.loss,
        learning_rate: lr,
        grad_norm: r.gradNorm,
        'tokens_per_second/train': tokensSeen / dt,
        step_time: dt,
        ...moeMetrics(model),
      });
    }
    reporter.progress(step, { loss: r.loss, tokps: tokensSeen / dt });
    if (cfg.evalEvery > 0 && step % cfg.evalEvery === 0 && step < cfg.steps) {
      const { result, figures } = await runEval();
      metrics.write({ stage, step, ...evalMetrics(result), ...figures });
    }
    if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 && step < cfg.steps) await save(false);
  }
  reporter.progressStop();

  if (cancelled) {
    await save(false);
    reporter.log(`${stage}: cancelled at step ${step}; run again with the same --out to resume`);
    model.dispose();
    opt.dispose();
    return {
      stage,
      wall_seconds: clock.wallSeconds,
      cpu_seconds: clock.cpuSeconds,
      steps: step,
      checkpoint: ckpt,
      cancelled: true,
    };
  }
  reporter.log(`${stage}: evaluating on ${evalExamples.length} held-out problems`);
  const { result, figures } = await runEval();
  metrics.write({ stage, step, ...evalMetrics(result), ...figures });
  await save(true);
  const { examples, ...evalFigures } = result;
  void examples;
  const summary: StageSummary = {
    stage,
    wall_seconds: clock.wallSeconds,
    cpu_seconds: clock.cpuSeconds,
    steps: step,
    checkpoint: ckpt,
    eval: evalFigures,
    figures,
  };
  writeFileAtomic(summaryFile, JSON.stringify(summary, null, 2));
  model.dispose();
  opt.dispose();
  return summary;
}

export function evalMetrics(r: EvalResult): Record<string, number> {
  return {
    'eval/pass@1': r['pass@1'],
    'eval/format': r.format,
    'eval/language_consistency': r.language_consistency,
    'eval/mean_completion_tokens': r.mean_completion_tokens,
  };
}

async function startingPoint(
  ctx: StageContext,
  stage: LmStageId,
  ckpt: string,
  cfg: LmStageConfig,
  fromStageOverride?: string,
): Promise<{ model: GPT; tokenizer: Tokenizer; state: TrainState; resumed: boolean }> {
  if (checkpointExists(ckpt)) {
    const loaded = loadCheckpoint(ckpt);
    return { model: loaded.model, tokenizer: loaded.tokenizer, state: loaded.state, resumed: true };
  }
  const seed = ctx.config.seed;
  const fresh: TrainState = {
    stage,
    step: 0,
    totalSteps: cfg.steps,
    done: false,
    seed,
    rngState: seed * 7919 + 17,
    optimizer: null,
    optimizerStep: 0,
  };
  const fromStage = fromStageOverride ?? DEFAULT_FROM[stage];
  const from = ctx.from ?? (fromStage ? checkpointDir(ctx.runDir, fromStage) : undefined);
  if (!from) {
    const tokenizer = new Tokenizer();
    const arch = resolveModelConfig(ctx.config.model, tokenizer.vocabSize);
    ctx.reporter.log(`${stage}: new model, ${describeParameters(arch)}`);
    return { model: new GPT(arch, seed), tokenizer, state: fresh, resumed: false };
  }
  if (!checkpointExists(from)) {
    throw new UserError(
      `${stage} starts from a checkpoint, but ${from} has none: run stage "${fromStage}" first, or pass --from DIR`,
    );
  }
  const loaded = loadCheckpoint(from);
  ctx.reporter.log(`${stage}: starting from ${from} (${describeParameters(loaded.model.config)})`);
  return { model: loaded.model, tokenizer: loaded.tokenizer, state: fresh, resumed: false };
}

function batchSource(
  stage: LmStageId,
  cfg: LmStageConfig,
  tok: Tokenizer,
  contextLength: number,
  rng: Rng,
): () => LmBatch {
  if (stage === 'pretrain') {
    const docs = loadCorpus(cfg.data);
    const ids: number[] = [];
    for (const d of docs) appendTokens(ids, tok.encode(d), tok.eos);
    const stream = Int32Array.from(ids);
    return () => streamBatch(stream, cfg.batchSize, contextLength, rng);
  }
  const pairs = loadSft(cfg.data).map((ex) => ({
    prompt: encodePrompt(tok, ex.prompt),
    completion: encodeCompletion(tok, ex.completion),
  }));
  const sampler = new EpochSampler(pairs, rng);
  return () => pairBatch(sampler.next(cfg.batchSize), tok.pad, contextLength);
}

/** A fixed batch from a held-out corpus, for the pretrain stage's `eval/loss`. */
function heldOutBatch(file: string, tok: Tokenizer, contextLength: number): LmBatch {
  const ids: number[] = [];
  for (const d of loadCorpus(file)) appendTokens(ids, tok.encode(d), tok.eos);
  return streamBatch(Int32Array.from(ids), 32, Math.min(contextLength, Math.floor(ids.length / 2) - 2), new Rng(99));
}

/** ids += doc + [eos]; a loop, since spreading a huge document into push() overflows the stack. */
function appendTokens(ids: number[], doc: ArrayLike<number>, eos: number): void {
  for (let i = 0; i < doc.length; i++) ids.push(doc[i]);
  ids.push(eos);
}
