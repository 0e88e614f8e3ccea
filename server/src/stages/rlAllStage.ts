// Stage `rl-all` (R1 §2.3.4): GRPO over all scenarios. Verifiable prompts get the rule rewards
// (accuracy etc.); general prompts (task `general`, no answer) get the reward model's score as
// `preference`; format and language apply to both. The GRPO loop is `runGrpoStage`'s; this file
// supplies the prompt mix and the preference reward.
import * as path from 'node:path';
import { loadRewardModel } from '../checkpoint/rewardModelCheckpoint';
import { ConfigError, PipelineConfig, resolveData } from '../config/pipelineConfig';
import { loadRl } from '../data/loaders';
import { RlExample } from '../data/records';
import { grpoStageConfig } from '../grpo/config';
import { GPT } from '../model/gpt';
import { RewardModel } from '../model/rewardModel';
import { generate } from '../model/sampling';
import { encodePrompt } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { UserError } from '../util/errors';
import { StageContext, StageSummary } from './context';
import { ExtraReward, preferenceReward } from './extraRewards';
import { runGrpoStage } from './grpoStage';
import { checkpointDir, isStageComplete } from './lmStage';
import { MixedSampler } from './mix';
import { readStageConfig } from './stageConfig';

const RL_ALL_DEFAULTS = {
  /** General prompts (`{"prompt", "task": "general"}`), scored by the reward model. */
  generalData: 'general-prompts.jsonl',
  /** Share of each step's prompts drawn from `generalData`. */
  generalRatio: 0.25,
  /** Score with the reward model only in the last N steps (0 = every step): R1's guard against reward hacking. */
  preferenceLastSteps: 0,
  /** Reward-model checkpoint (default: this run's reward-model stage). */
  rewardModel: undefined as string | undefined,
  /** General prompts (spread through the file) whose greedy completions the reward model scores at the start and the end (0 = none). */
  preferenceEvalPrompts: 20,
};
export type RlAllOptions = typeof RL_ALL_DEFAULTS & { rewardModel: string; weight: number };

export function rlAllOptions(c: PipelineConfig, runDir: string): RlAllOptions {
  const o = readStageConfig(c, 'rl-all', RL_ALL_DEFAULTS, { fractions: ['generalRatio'] });
  const spec = grpoStageConfig(c, 'rl-all').rewards.find((r) => r.name === 'preference');
  if (!spec)
    throw new ConfigError(
      'config: field "stages.rl-all.rewards" must list {"name": "preference", "weight": ...}: the reward model scores the general prompts',
    );
  return {
    ...o,
    generalData: resolveData(c, o.generalData),
    rewardModel: o.rewardModel ? resolveData(c, o.rewardModel) : checkpointDir(runDir, 'reward-model'),
    weight: spec.weight,
  };
}

/** Whether the preference reward is on at 0-based `step` of `steps`. */
export function preferenceActive(step: number, steps: number, lastSteps: number): boolean {
  return lastSteps <= 0 || step >= steps - lastSteps;
}

export async function runRlAllStage(ctx: StageContext): Promise<StageSummary> {
  if (isStageComplete(ctx.runDir, 'rl-all')) return runGrpoStage(ctx, 'rl-all');
  const steps = grpoStageConfig(ctx.config, 'rl-all').steps;
  const o = rlAllOptions(ctx.config, ctx.runDir);
  const general = loadRl(o.generalData);
  const notGeneral = general.find((ex) => ex.task !== 'general' || ex.answer !== '');
  if (notGeneral)
    throw new UserError(
      `${o.generalData}:${notGeneral.line}: general prompts must have "task": "general" and no answer (verifiable prompts belong in stages.rl-all.data)`,
    );
  const { model: rm, tokenizer } = loadRewardModel(o.rewardModel);
  ctx.reporter.log(
    `rl-all: ${Math.round(o.generalRatio * 100)}% general prompts from ${path.basename(o.generalData)} scored by ${o.rewardModel}` +
      (o.preferenceLastSteps > 0 ? ` in the last ${o.preferenceLastSteps} steps` : ''),
  );
  const preference: ExtraReward = {
    name: 'preference',
    weight: o.weight,
    applies: (ex: RlExample, step: number) =>
      ex.task === 'general' && preferenceActive(step, steps, o.preferenceLastSteps),
    fn: preferenceReward(rm, tokenizer),
  };
  // Evenly spaced through the file, so every kind of general prompt is measured.
  const stride = Math.max(1, general.length / Math.max(1, o.preferenceEvalPrompts));
  const evalPrompts =
    o.preferenceEvalPrompts > 0
      ? Array.from(
          { length: Math.min(o.preferenceEvalPrompts, general.length) },
          (_, i) => general[Math.floor(i * stride)],
        )
      : [];
  try {
    return await runGrpoStage(ctx, 'rl-all', {
      prompts: (rlPrompts, rng) => new MixedSampler(rlPrompts, general, o.generalRatio, rng),
      extraRewards: [preference],
      evalFigures: async (model, tok): Promise<Record<string, number>> =>
        evalPrompts.length ? { preference: await meanGreedyPreference(model, tok, rm, evalPrompts) } : {},
    });
  } finally {
    rm.dispose();
  }
}

/** The reward model's mean score of the policy's greedy completions: the general-prompt side of eval. */
export async function meanGreedyPreference(
  model: GPT,
  tok: Tokenizer,
  rm: RewardModel,
  prompts: RlExample[],
): Promise<number> {
  const { tokens } = await generate(
    model,
    prompts.map((ex) => encodePrompt(tok, ex.prompt)),
    { maxNewTokens: model.config.contextLength, temperature: 0, stopIds: [tok.eos], padId: tok.pad },
  );
  const rows = prompts.map((ex, i) =>
    RewardModel.encode(tok, ex.prompt, tok.decode(tokens[i].filter((t) => t !== tok.eos)), rm.gpt.config.contextLength),
  );
  const scores = await rm.score(rows, tok.pad);
  return scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
}
