// Stage `reward-model`: a Bradley–Terry reward model on preference pairs (prompt, chosen,
// rejected), initialised from the base checkpoint, with held-out pair accuracy on a seeded split
// by prompt (so no prompt is both trained and judged on). Resumable like the LM stages.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointExists, loadCheckpoint, loadOptimizerState, TrainState } from '../checkpoint/checkpoint';
import { loadRewardModel, saveRewardModel } from '../checkpoint/rewardModelCheckpoint';
import { PipelineConfig, resolveData } from '../config/pipelineConfig';
import { loadPreference } from '../data/loaders';
import { PreferenceExample } from '../data/records';
import { bradleyTerryLoss, pairAccuracy, RewardModel } from '../model/rewardModel';
import { Tokenizer } from '../tokenizer/tokenizer';
import { EpochSampler } from '../train/batches';
import { AdamW, clipByGlobalNorm, DEFAULT_ADAMW, learningRate } from '../train/optimizer';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/fsAtomic';
import { StageClock } from '../util/stageClock';
import { MetricsWriter } from '../util/metrics';
import { Rng } from '../util/rng';
import { yieldToEventLoop } from '../util/yieldToEventLoop';
import { StageContext, StageSummary } from './context';
import { checkpointDir, isStageComplete, stageDir } from './lmStage';
import { moeMetrics } from './moeMetrics';
import { readStageConfig } from './stageConfig';

const REWARD_MODEL_DEFAULTS = {
  /** Preference pairs (spec §3). */
  data: 'preference.jsonl',
  steps: 150,
  /** Pairs per step. */
  batchSize: 16,
  lr: 3e-4,
  warmupSteps: 10,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  /** Share of the prompts (with all their pairs) held out for `eval/pair_accuracy`. */
  heldOutFraction: 0.2,
  logEvery: 10,
  /** Steps between held-out evaluations (0 = only at the start and the end). */
  evalEvery: 50,
  checkpointEvery: 50,
  /** Stage whose checkpoint the trunk starts from (the base model, as R1 does). */
  startFrom: 'pretrain',
};
export type RewardModelConfig = typeof REWARD_MODEL_DEFAULTS;

export function rewardModelConfig(c: PipelineConfig): RewardModelConfig {
  const cfg = readStageConfig(c, 'reward-model', REWARD_MODEL_DEFAULTS, {
    fractions: ['heldOutFraction'],
    enums: { startFrom: ['pretrain', 'cold-start', 'reasoning-rl', 'sft'] },
  });
  return { ...cfg, data: resolveData(c, cfg.data) };
}

/** Splits pairs by prompt: a seeded `fraction` of the distinct prompts (at least one when > 0) is held out. */
export function splitByPrompt<T extends { prompt: unknown }>(
  pairs: T[],
  fraction: number,
  seed: number,
): { train: T[]; heldOut: T[] } {
  const keys = [...new Set(pairs.map((p) => JSON.stringify(p.prompt)))];
  const nHeld =
    fraction > 0 && keys.length > 1 ? Math.min(keys.length - 1, Math.max(1, Math.round(fraction * keys.length))) : 0;
  const held = new Set(new Rng(seed).shuffle(keys).slice(0, nHeld));
  return {
    train: pairs.filter((p) => !held.has(JSON.stringify(p.prompt))),
    heldOut: pairs.filter((p) => held.has(JSON.stringify(p.prompt))),
  };
}

/** Token rows of a batch of pairs: the chosen rows, then the rejected rows. */
export function pairRows(pairs: PreferenceExample[], tok: Tokenizer, contextLength: number): number[][] {
  return [
    ...pairs.map((p) => RewardModel.encode(tok, p.prompt, p.chosen, contextLength)),
    ...pairs.map((p) => RewardModel.encode(tok, p.prompt, p.rejected, contextLength)),
  ];
}

/** Held-out figures: pair accuracy, Bradley–Terry loss and mean margin r_chosen - r_rejected. */
export async function evaluatePairs(
  rm: RewardModel,
  tok: Tokenizer,
  pairs: PreferenceExample[],
): Promise<Record<string, number>> {
  if (!pairs.length) return {};
  const s = await rm.score(pairRows(pairs, tok, rm.gpt.config.contextLength), tok.pad);
  const chosen = s.slice(0, pairs.length);
  const rejected = s.slice(pairs.length);
  const margins = chosen.map((c, i) => c - rejected[i]);
  // -log σ(m), written to stay finite for large |m|.
  const nll = margins.map((m) => Math.max(-m, 0) + Math.log1p(Math.exp(-Math.abs(m))));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { pair_accuracy: pairAccuracy(chosen, rejected), loss: mean(nll), margin: mean(margins) };
}

/**
 * One Bradley–Terry update on `rows`: the chosen rows, then as many rejected rows. Returns the
 * loss and the batch's pair accuracy (from the same forward pass).
 */
export async function rewardModelStep(
  rm: RewardModel,
  opt: AdamW,
  rows: number[][],
  padId: number,
  lr: number,
  maxGradNorm: number,
): Promise<{ loss: number; accuracy: number; gradNorm: number }> {
  let scores: tf.Tensor1D | undefined;
  const { value, grads } = rm.gradients(() => {
    const s = rm.scores(rows, padId);
    scores = tf.keep(s);
    const [chosen, rejected] = tf.split(s, 2) as [tf.Tensor1D, tf.Tensor1D];
    return bradleyTerryLoss(chosen, rejected);
  });
  // The read-backs run together: one wait for the device per step.
  const [, { grads: clipped, norm }, lossData, s] = await Promise.all([
    rm.finishTrainingStep(),
    clipByGlobalNorm(grads, maxGradNorm),
    value.data(),
    scores!.data(),
  ]);
  opt.apply(clipped, lr);
  const loss = lossData[0];
  tf.dispose([value, scores!, ...Object.values(clipped)]);
  const n = rows.length / 2;
  return { loss, accuracy: pairAccuracy(s.slice(0, n), s.slice(n)), gradNorm: norm };
}

interface Progress extends Record<string, unknown> {
  wallSeconds: number;
  cpuSeconds: number;
  startPairAccuracy: number;
}

export async function runRewardModelStage(ctx: StageContext): Promise<StageSummary> {
  const { config, reporter } = ctx;
  const stage = 'reward-model';
  const cfg = rewardModelConfig(config);
  const dir = stageDir(ctx.runDir, stage);
  const ckpt = checkpointDir(ctx.runDir, stage);
  const summaryFile = path.join(dir, 'summary.json');
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify({ ...config, stage: cfg }, null, 2));
  if (isStageComplete(ctx.runDir, stage)) {
    reporter.log(`${stage}: already complete (${ckpt})`);
    return JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as StageSummary;
  }

  const { train, heldOut } = splitByPrompt(loadPreference(cfg.data), cfg.heldOutFraction, config.seed * 613 + 5);
  if (!train.length) throw new UserError(`${cfg.data}: no preference pairs left to train on after the held-out split`);
  const resumed = checkpointExists(ckpt);
  const from = ctx.from ?? checkpointDir(ctx.runDir, cfg.startFrom);
  let rm: RewardModel;
  let tokenizer: Tokenizer;
  let state: TrainState;
  if (resumed) {
    ({ model: rm, tokenizer, state } = loadRewardModel(ckpt));
  } else {
    if (!checkpointExists(from))
      throw new UserError(
        `${stage} starts from a checkpoint, but ${from} has none: run stage "${cfg.startFrom}" first, or pass --from DIR`,
      );
    const base = loadCheckpoint(from);
    rm = new RewardModel(base.model, undefined, config.seed);
    tokenizer = base.tokenizer;
    state = {
      stage,
      step: 0,
      totalSteps: cfg.steps,
      done: false,
      seed: config.seed,
      rngState: config.seed * 4241 + 9,
      optimizer: null,
      optimizerStep: 0,
    };
    reporter.log(`${stage}: starting from ${from}; ${train.length} training pairs, ${heldOut.length} held out`);
  }
  const opt = new AdamW(rm.params, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay });
  const rng = new Rng(state.rngState);
  const metrics = new MetricsWriter(path.join(dir, 'metrics.jsonl'), reporter.metric?.bind(reporter));
  let progress: Progress;
  if (resumed) {
    loadOptimizerState(ckpt, opt, state);
    metrics.truncateAfter(state.step);
    progress = state.extra as Progress;
    reporter.log(`resuming ${stage} from step ${state.step}`);
  } else {
    fs.rmSync(metrics.file, { force: true });
    const start = await evaluatePairs(rm, tokenizer, heldOut);
    progress = { wallSeconds: 0, cpuSeconds: 0, startPairAccuracy: start.pair_accuracy ?? NaN };
    metrics.write({ stage, step: 0, ...prefixed('eval/', start) });
  }

  let step = state.step;
  const clock = new StageClock(progress.wallSeconds, progress.cpuSeconds ?? 0);
  const save = async (done: boolean) => {
    progress.wallSeconds = clock.wallSeconds;
    progress.cpuSeconds = clock.cpuSeconds;
    await saveRewardModel(
      ckpt,
      rm,
      tokenizer,
      { ...state, step, totalSteps: cfg.steps, done, rngState: rng.state, extra: progress },
      opt,
    );
  };
  const sampler = new EpochSampler(train, rng);
  let cancelled = false;
  reporter.progressStart(stage, cfg.steps, step);
  while (step < cfg.steps) {
    await yieldToEventLoop();
    if (ctx.signal?.aborted) {
      cancelled = true;
      break;
    }
    const t0 = performance.now();
    const lr = learningRate(step, cfg.steps, cfg.lr, cfg.warmupSteps, cfg.minLrRatio);
    const pairs = sampler.next(Math.min(cfg.batchSize, train.length));
    const rows = pairRows(pairs, tokenizer, rm.gpt.config.contextLength);
    const { loss, accuracy, gradNorm: norm } = await rewardModelStep(rm, opt, rows, tokenizer.pad, lr, cfg.maxGradNorm);
    step++;
    if (!Number.isFinite(loss))
      throw new Error(`${stage}: loss became ${loss} at step ${step}; lower stages.${stage}.lr`);
    const dt = (performance.now() - t0) / 1000;
    if (step % cfg.logEvery === 0 || step === cfg.steps) {
      metrics.write({
        stage,
        step,
        loss,
        pair_accuracy: accuracy,
        learning_rate: lr,
        grad_norm: norm,
        step_time: dt,
        'tokens_per_second/train': rows.reduce((a, r) => a + r.length, 0) / dt,
        ...moeMetrics(rm.gpt),
      });
    }
    reporter.progress(step, { loss, tokps: rows.reduce((a, r) => a + r.length, 0) / dt });
    if (cfg.evalEvery > 0 && step % cfg.evalEvery === 0 && step < cfg.steps)
      metrics.write({ stage, step, ...prefixed('eval/', await evaluatePairs(rm, tokenizer, heldOut)) });
    if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 && step < cfg.steps) await save(false);
  }
  reporter.progressStop();

  if (cancelled) {
    await save(false);
    reporter.log(`${stage}: cancelled at step ${step}; run again with the same --out to resume`);
    rm.dispose();
    opt.dispose();
    return {
      stage,
      wall_seconds: progress.wallSeconds,
      cpu_seconds: progress.cpuSeconds,
      steps: step,
      checkpoint: ckpt,
      cancelled: true,
    };
  }
  const final = await evaluatePairs(rm, tokenizer, heldOut);
  const trainFigures = await evaluatePairs(rm, tokenizer, train);
  metrics.write({ stage, step, ...prefixed('eval/', final), train_pair_accuracy: trainFigures.pair_accuracy });
  await save(true);
  reporter.log(
    `${stage}: held-out pair accuracy ${fmt(progress.startPairAccuracy)} -> ${fmt(final.pair_accuracy)} on ${heldOut.length} pairs (train ${fmt(trainFigures.pair_accuracy)})`,
  );
  const summary: StageSummary = {
    stage,
    wall_seconds: progress.wallSeconds,
    cpu_seconds: progress.cpuSeconds,
    steps: step,
    checkpoint: ckpt,
    figures: {
      pair_accuracy: final.pair_accuracy ?? NaN,
      start_pair_accuracy: progress.startPairAccuracy,
      train_pair_accuracy: trainFigures.pair_accuracy,
      held_out_pairs: heldOut.length,
    },
  };
  writeFileAtomic(summaryFile, JSON.stringify(summary, null, 2));
  rm.dispose();
  opt.dispose();
  return summary;
}

function prefixed(prefix: string, figures: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${prefix}${k}`, v]));
}

const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(3));
