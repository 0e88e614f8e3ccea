// GRPO stages (`reasoning-rl`, and later `rl-all`): rollouts -> rewards -> group advantages ->
// clipped policy update, with TRL's metrics, a groups log for the rewards panel, periodic eval,
// best-checkpoint keeping and collapse detection.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkpointExists,
  loadCheckpoint,
  loadOptimizerState,
  readState,
  saveCheckpoint,
  TrainState,
} from '../checkpoint/checkpoint';
import { resolveData } from '../config/pipelineConfig';
import { loadRl } from '../data/loaders';
import { evaluate, EvalResult } from '../eval/evaluate';
import { groupAdvantages, groupRewardMetrics, scaleNegativeAdvantages, zeroStdGroups } from '../grpo/advantages';
import { grpoStageConfig, GrpoStageConfig } from '../grpo/config';
import { frozenLogProbs } from '../grpo/logprobs';
import { Group, rollout } from '../grpo/rollout';
import { nanMeanStd } from '../grpo/stats';
import { grpoUpdate, GrpoUpdateResult } from '../grpo/update';
import { GPT } from '../model/gpt';
import { loadRewardModule, RewardSet } from '../rewards';
import { EpochSampler, pairBatch } from '../train/batches';
import { AdamW, DEFAULT_ADAMW, learningRate } from '../train/optimizer';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/fsAtomic';
import { moeMetrics } from './moeMetrics';
import { StageClock } from '../util/stageClock';
import { yieldToEventLoop } from '../util/yieldToEventLoop';
import { MetricsWriter, truncateJsonlAfterStep } from '../util/metrics';
import { Rng } from '../util/rng';
import { RlExample } from '../data/records';
import { Tokenizer } from '../tokenizer/tokenizer';
import { StageContext, StageSummary } from './context';
import { ExtraReward, scoreExtraRewards } from './extraRewards';
import { checkpointDir, evalMetrics, stageDir } from './lmStage';

export type GrpoStageId = 'reasoning-rl' | 'rl-all';
const DEFAULT_FROM: Record<GrpoStageId, string> = { 'reasoning-rl': 'cold-start', 'rl-all': 'sft' };

interface Progress {
  wallSeconds: number;
  cpuSeconds: number;
  startPass: number;
  bestPass: number;
  bestStep: number;
  startSampledPass: number;
  /** `hooks.evalFigures` at the start. */
  startExtra?: Record<string, number>;
}

/** What `rl-all` adds to a GRPO stage; `reasoning-rl` uses none of it. */
export interface GrpoHooks {
  /** Draws each step's prompts (default: the RL file's, each epoch reshuffled). */
  prompts?: (rlPrompts: RlExample[], rng: Rng) => { next(count: number): RlExample[] };
  /** Rewards scored after the RewardSet's (their names are left out of the RewardSet). */
  extraRewards?: ExtraReward[];
  /** More figures of the policy, measured at the start and the end (e.g. the reward model's mean score). */
  evalFigures?: (model: GPT, tok: Tokenizer) => Promise<Record<string, number>>;
}

export async function runGrpoStage(
  ctx: StageContext,
  stage: GrpoStageId,
  hooks: GrpoHooks = {},
): Promise<StageSummary> {
  const { config, reporter } = ctx;
  const cfg = grpoStageConfig(config, stage);
  const dir = stageDir(ctx.runDir, stage);
  const ckpt = checkpointDir(ctx.runDir, stage);
  const bestDir = path.join(dir, 'best');
  const summaryFile = path.join(dir, 'summary.json');
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify({ ...config, stage: cfg }, null, 2));
  if (checkpointExists(ckpt) && readState(ckpt).done && fs.existsSync(summaryFile)) {
    reporter.log(`${stage}: already complete (${ckpt})`);
    return JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as StageSummary;
  }

  const extras = hooks.extraRewards ?? [];
  const rewards = new RewardSet(
    cfg.rewards.filter((r) => !extras.some((e) => e.name === r.name)),
    cfg.rewardModule ? await loadRewardModule(cfg.rewardModule) : {},
  );
  const rewardNames = [...rewards.names, ...extras.map((e) => e.name)];
  const prompts = loadRl(cfg.data);
  const evalExamples = loadRl(resolveData(config, config.eval.data)).slice(0, config.eval.limit);
  const from = ctx.from ?? checkpointDir(ctx.runDir, DEFAULT_FROM[stage]);
  const resumed = checkpointExists(ckpt);
  if (!resumed && !checkpointExists(from)) {
    throw new UserError(
      `${stage} starts from a checkpoint, but ${from} has none: run stage "${DEFAULT_FROM[stage]}" first, or pass --from DIR`,
    );
  }
  const start = loadCheckpoint(resumed ? ckpt : from);
  const { model, tokenizer } = start;
  const opt = new AdamW(model.params, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay });
  const seed = config.seed;
  const state: TrainState = resumed
    ? start.state
    : {
        stage,
        step: 0,
        totalSteps: cfg.steps,
        done: false,
        seed,
        rngState: seed * 104729 + 3,
        optimizer: null,
        optimizerStep: 0,
      };
  const rng = new Rng(state.rngState);
  const metrics = new MetricsWriter(path.join(dir, 'metrics.jsonl'), reporter.metric?.bind(reporter));
  const groupsFile = path.join(dir, 'groups.jsonl');
  // The reference model is the starting policy; beta = 0 skips it entirely.
  const ref: GPT | undefined = cfg.beta > 0 ? loadCheckpoint(from).model : undefined;

  const runEval = (temperature = 0): Promise<EvalResult> =>
    evaluate(model, tokenizer, evalExamples, { ...config.eval, temperature, seed: 99 });

  let progress: Progress;
  if (resumed) {
    loadOptimizerState(ckpt, opt, state);
    metrics.truncateAfter(state.step);
    truncateJsonlAfterStep(groupsFile, state.step);
    progress = state.extra as unknown as Progress;
    reporter.log(`resuming ${stage} from step ${state.step}`);
  } else {
    fs.rmSync(metrics.file, { force: true });
    fs.rmSync(groupsFile, { force: true });
    reporter.log(
      `${stage}: starting from ${from}; measuring the starting point on ${evalExamples.length} eval problems`,
    );
    const greedy = await runEval();
    const sampled = await runEval(cfg.temperature);
    progress = {
      wallSeconds: 0,
      cpuSeconds: 0,
      startPass: greedy['pass@1'],
      bestPass: greedy['pass@1'],
      bestStep: 0,
      startSampledPass: sampled['pass@1'],
    };
    const startExtra = (await hooks.evalFigures?.(model, tokenizer)) ?? {};
    progress.startExtra = startExtra;
    metrics.write({
      stage,
      step: 0,
      ...evalMetrics(greedy),
      [`eval/sampled_pass@1`]: sampled['pass@1'],
      ...prefixKeys('eval/', startExtra),
    });
    reporter.log(
      `${stage}: start pass@1 ${greedy['pass@1'].toFixed(3)} (greedy), ${sampled['pass@1'].toFixed(3)} sampled at T=${cfg.temperature}`,
    );
    if (sampled['pass@1'] < 0.05) {
      reporter.log(
        `${stage}: warning: sampled accuracy at T=${cfg.temperature} is ${sampled['pass@1'].toFixed(3)}; the accuracy reward will rarely fire (train the cold start longer or lower the temperature)`,
      );
    }
  }

  let step = state.step;
  let clock = new StageClock(progress.wallSeconds, progress.cpuSeconds ?? 0);
  const save = async (dirOut: string, done: boolean) => {
    progress.wallSeconds = clock.wallSeconds;
    progress.cpuSeconds = clock.cpuSeconds;
    clock = new StageClock(progress.wallSeconds, progress.cpuSeconds);
    const s: TrainState = {
      ...state,
      stage,
      step,
      totalSteps: cfg.steps,
      done,
      rngState: rng.state,
      extra: { ...progress },
    };
    await saveCheckpoint(dirOut, model, tokenizer, s, opt);
  };
  if (!resumed) await save(bestDir, false);

  const sampler = hooks.prompts ? hooks.prompts(prompts, rng) : new EpochSampler(prompts, rng);
  let stopReason: string | undefined;
  reporter.progressStart(stage, cfg.steps, step);
  while (step < cfg.steps) {
    await yieldToEventLoop();
    if (ctx.signal?.aborted) {
      stopReason = 'cancelled';
      break;
    }
    const t0 = performance.now();
    const drawn = sampler.next(
      cfg.dynamicSampling ? Math.ceil(cfg.promptsPerStep * cfg.oversample) : cfg.promptsPerStep,
    );
    const groups = await rollout(model, tokenizer, rewards, drawn, cfg, rng);
    if (extras.length) await scoreExtraRewards(groups, extras, step);
    const tRollout = performance.now();
    const totals = groups.map((g) => g.completions.map((c) => c.scores.total));
    const zero = zeroStdGroups(totals);
    const advAll = groupAdvantages(totals, cfg.scaleRewards);
    const trainIdx = groups
      .map((_, i) => i)
      .filter((i) => !cfg.dynamicSampling || !zero[i])
      .slice(0, cfg.promptsPerStep);
    const lr = learningRate(step, cfg.steps, cfg.lr, cfg.warmupSteps, cfg.minLrRatio);

    let update: GrpoUpdateResult | undefined;
    let tRef = 0;
    if (trainIdx.length) {
      const pairs = trainIdx.flatMap((i) =>
        groups[i].completions.map((c) => ({ prompt: groups[i].promptIds, completion: c.ids })),
      );
      const batch = pairBatch(pairs, tokenizer.pad, model.config.contextLength);
      if (cfg.maskTruncatedCompletions) {
        const trunc = trainIdx.flatMap((i) => groups[i].completions.map((c) => c.truncated));
        batch.mask = batch.mask.map((row, r) => (trunc[r] ? row.map(() => 0) : row));
      }
      const advantages = scaleNegativeAdvantages(
        trainIdx.flatMap((i) => advAll[i]),
        cfg.negativeAdvantageScale,
      );
      const r0 = performance.now();
      const oldLogp = cfg.numIterations > 1 ? frozenLogProbs(model, batch) : undefined;
      const refLogp = ref ? frozenLogProbs(ref, batch) : undefined;
      tRef = performance.now() - r0;
      const uCfg = {
        epsilonLow: cfg.epsilon,
        epsilonHigh: cfg.epsilonHigh,
        beta: cfg.beta,
        lossType: cfg.lossType,
        maxCompletionLength: cfg.maxCompletionLength,
        maxGradNorm: cfg.maxGradNorm,
      };
      for (let it = 0; it < cfg.numIterations; it++)
        update = await grpoUpdate(model, opt, batch, advantages, uCfg, lr, oldLogp, refLogp);
      tf.dispose([oldLogp, refLogp].filter((t): t is tf.Tensor2D => t !== undefined));
    }
    step++;
    if (ref && cfg.refRefreshEvery > 0 && step % cfg.refRefreshEvery === 0) {
      for (const [name, v] of model.params) ref.params.get(name)!.assign(v);
    }
    const dt = (performance.now() - t0) / 1000;
    const m = stepMetrics(groups, rewardNames, cfg, zero);
    const sampledTokens = groups.reduce((a, g) => a + g.completions.reduce((b, c) => b + c.ids.length, 0), 0);
    metrics.write({
      stage,
      step,
      ...m,
      loss: update?.loss ?? 0,
      kl: update?.kl ?? 0,
      entropy: update?.entropy ?? 0,
      'clip_ratio/low_mean': update?.clipLow ?? 0,
      'clip_ratio/high_mean': update?.clipHigh ?? 0,
      'clip_ratio/region_mean': update?.clipRegion ?? 0,
      learning_rate: lr,
      grad_norm: update?.gradNorm ?? 0,
      ...(update ? moeMetrics(model) : {}),
      step_time: dt,
      'time/rollout_ms': tRollout - t0,
      'time/ref_ms': tRef,
      'time/update_ms': performance.now() - tRollout - tRef,
      'tokens_per_second/sample': sampledTokens / ((tRollout - t0) / 1000),
      'tokens_per_second/train':
        (trainIdx.length * cfg.numGenerations * (groups[0]?.promptIds.length + m['completions/mean_length'])) /
        Math.max(1e-3, (performance.now() - tRollout) / 1000),
      groups_trained: trainIdx.length,
    });
    appendGroups(groupsFile, step, groups, advAll, rewardNames, new Set(trainIdx));
    reporter.progress(step, {
      loss: update?.loss ?? 0,
      reward: m.reward,
      accuracy: m['rewards/accuracy/mean'] ?? NaN,
      tokps: sampledTokens / ((tRollout - t0) / 1000),
    });

    if (cfg.evalEvery > 0 && step % cfg.evalEvery === 0 && step < cfg.steps) {
      const r = await runEval();
      metrics.write({ stage, step, ...evalMetrics(r) });
      if (r['pass@1'] > progress.bestPass) {
        progress.bestPass = r['pass@1'];
        progress.bestStep = step;
        await save(bestDir, false);
      }
      if (r['pass@1'] < progress.startPass - cfg.collapseTolerance) {
        stopReason = `collapse: eval pass@1 fell from ${progress.startPass.toFixed(3)} to ${r['pass@1'].toFixed(3)} at step ${step}`;
        break;
      }
    }
    if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 && step < cfg.steps) await save(ckpt, false);
  }
  reporter.progressStop();

  if (stopReason === 'cancelled') {
    await save(ckpt, false);
    reporter.log(`${stage}: cancelled at step ${step}; run again with the same --out to resume`);
    return {
      stage,
      wall_seconds: progress.wallSeconds,
      cpu_seconds: progress.cpuSeconds,
      steps: step,
      checkpoint: ckpt,
      cancelled: true,
    };
  }
  let final = await runEval();
  metrics.write({ stage, step, ...evalMetrics(final) });
  if (final['pass@1'] > progress.bestPass) {
    progress.bestPass = final['pass@1'];
    progress.bestStep = step;
    await save(bestDir, false);
  }
  const figures: Record<string, number> = {
    start_pass: progress.startPass,
    start_sampled_pass: progress.startSampledPass,
    best_step: progress.bestStep,
  };
  if (stopReason || final['pass@1'] < progress.bestPass) {
    // Keep the best policy seen on the eval set rather than finish with a worse one.
    reporter.log(
      `${stage}: ${stopReason ?? 'final eval below the best'}; keeping the best checkpoint (step ${progress.bestStep}, pass@1 ${progress.bestPass.toFixed(3)}) instead of step ${step} (${final['pass@1'].toFixed(3)})`,
    );
    const best = loadCheckpoint(bestDir);
    for (const [name, v] of model.params) v.assign(best.model.params.get(name)!);
    best.model.dispose();
    final = await runEval();
  }
  // Measured on the policy the stage hands on (the best one, when it was restored above).
  const endExtra = (await hooks.evalFigures?.(model, tokenizer)) ?? {};
  for (const [k, v] of Object.entries(endExtra)) {
    figures[`start_${k}`] = progress.startExtra?.[k] ?? NaN;
    figures[k] = v;
  }
  if (Object.keys(endExtra).length) metrics.write({ stage, step, ...prefixKeys('eval/', endExtra) });
  await save(ckpt, true);
  const { examples, ...evalFigures } = final;
  void examples;
  const summary: StageSummary = {
    stage,
    wall_seconds: progress.wallSeconds,
    cpu_seconds: progress.cpuSeconds,
    steps: step,
    checkpoint: ckpt,
    eval: evalFigures,
    figures,
  };
  writeFileAtomic(summaryFile, JSON.stringify(summary, null, 2));
  model.dispose();
  ref?.dispose();
  opt.dispose();
  return summary;
}

function stepMetrics(groups: Group[], names: string[], cfg: GrpoStageConfig, zero: boolean[]): Record<string, number> {
  const all = groups.flatMap((g) => g.completions);
  const totals = groups.map((g) => g.completions.map((c) => c.scores.total));
  const lengths = all.map((c) => c.ids.length);
  const out: Record<string, number> = { ...groupRewardMetrics(totals, cfg.scaleRewards) };
  for (const name of names) {
    const { mean, std } = nanMeanStd(all.map((c) => c.scores.rewards[name] ?? NaN));
    out[`rewards/${name}/mean`] = mean;
    out[`rewards/${name}/std`] = std;
  }
  out['frac_reward_zero_std'] = zero.filter(Boolean).length / Math.max(1, zero.length);
  out['completions/mean_length'] = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length);
  out['completions/min_length'] = Math.min(...lengths);
  out['completions/max_length'] = Math.max(...lengths);
  out['completions/clipped_ratio'] = all.filter((c) => c.truncated).length / Math.max(1, all.length);
  return out;
}

function appendGroups(
  file: string,
  step: number,
  groups: Group[],
  adv: number[][],
  names: string[],
  trained: Set<number>,
): void {
  const lines = groups.map((g, i) =>
    JSON.stringify({
      step,
      prompt: g.example.prompt,
      answer: g.example.answer,
      trained: trained.has(i),
      completions: g.completions.map((c, j) => ({
        text: c.text,
        rewards: c.scores.rewards,
        reward: c.scores.total,
        advantage: adv[i][j],
        length: c.ids.length,
        truncated: c.truncated,
      })),
      reward_names: names,
    }),
  );
  fs.appendFileSync(file, lines.join('\n') + '\n');
}

function prefixKeys(prefix: string, figures: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${prefix}${k}`, v]));
}
