// Settings of a GRPO stage (`reasoning-rl`, `rl-all`), with TRL's meanings and the defaults
// that held up on the sample task on 2 CPU cores (see README "Reasoning RL").
import { ConfigError, PipelineConfig, resolveData } from '../config/pipelineConfig';
import { RewardSpec } from '../rewards';
import { ScaleRewards } from './advantages';
import { LossType } from './loss';

export interface GrpoStageConfig {
  /** RL prompts with answers (spec §3). */
  data: string;
  /** Policy updates. */
  steps: number;
  /** Distinct prompts per update; too few at a high learning rate collapsed probes. */
  promptsPerStep: number;
  /** Completions per prompt (G). */
  numGenerations: number;
  temperature: number;
  topK: number;
  topP: number;
  maxCompletionLength: number;
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  maxGradNorm: number;
  weightDecay: number;
  /** KL weight; 0 skips the reference model. */
  beta: number;
  /** Lower clip epsilon. */
  epsilon: number;
  /** Upper clip epsilon (DAPO clip-higher). */
  epsilonHigh: number;
  lossType: LossType;
  scaleRewards: ScaleRewards;
  /**
   * Scale applied to negative advantages (1 = standard GRPO, 0 = learn only from better-than-
   * average completions, like rejection-sampling fine-tuning weighted by advantage).
   */
  negativeAdvantageScale: number;
  /** Policy updates per rollout batch (rho != 1 from the second on). */
  numIterations: number;
  /** Drop groups whose rewards are all equal and refill from extra prompts (DAPO). */
  dynamicSampling: boolean;
  /** Prompts sampled per update when dynamicSampling, as a multiple of promptsPerStep. */
  oversample: number;
  /** Give completions that hit the length limit no loss. */
  maskTruncatedCompletions: boolean;
  /** Copy the policy into the reference model every N steps (0 = never). */
  refRefreshEvery: number;
  rewards: RewardSpec[];
  /** A JS module in the workspace exporting extra reward functions. */
  rewardModule?: string;
  evalEvery: number;
  checkpointEvery: number;
  /** Stop and restore the best checkpoint when eval pass@1 falls this far below the start. */
  collapseTolerance: number;
}

export const GRPO_DEFAULTS: Omit<GrpoStageConfig, 'data'> = {
  steps: 100,
  promptsPerStep: 16,
  numGenerations: 8,
  temperature: 0.7,
  topK: 0,
  topP: 1,
  maxCompletionLength: 64,
  lr: 1e-4,
  warmupSteps: 5,
  minLrRatio: 1,
  maxGradNorm: 1,
  weightDecay: 0,
  beta: 0,
  epsilon: 0.2,
  epsilonHigh: 0.28,
  lossType: 'dapo',
  scaleRewards: 'group',
  negativeAdvantageScale: 1,
  numIterations: 1,
  dynamicSampling: true,
  oversample: 2,
  maskTruncatedCompletions: true,
  refRefreshEvery: 0,
  rewards: [
    { name: 'accuracy', weight: 1 },
    { name: 'format', weight: 0.1 },
    { name: 'language', weight: 0.1 },
  ],
  evalEvery: 20,
  checkpointEvery: 20,
  collapseTolerance: 0.1,
};

const ENUMS: Record<string, readonly string[]> = {
  lossType: ['grpo', 'dr_grpo', 'dapo'],
  scaleRewards: ['group', 'batch', 'none'],
};

export function grpoStageConfig(c: PipelineConfig, stage: 'reasoning-rl' | 'rl-all'): GrpoStageConfig {
  const s = c.stages[stage];
  if (!s || typeof s.data !== 'string') throw new ConfigError(`config: field "stages.${stage}.data" is required`);
  const merged = { ...GRPO_DEFAULTS, ...s } as GrpoStageConfig;
  for (const [k, def] of Object.entries(GRPO_DEFAULTS)) {
    const v = (merged as unknown as Record<string, unknown>)[k];
    const field = `stages.${stage}.${k}`;
    if (typeof def === 'number' && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new ConfigError(`config: field "${field}" must be a non-negative number`);
    if (typeof def === 'boolean' && typeof v !== 'boolean')
      throw new ConfigError(`config: field "${field}" must be true or false`);
    if (ENUMS[k] && !ENUMS[k].includes(v as string))
      throw new ConfigError(`config: field "${field}" must be one of ${ENUMS[k].join(', ')}`);
  }
  if (merged.numGenerations < 2)
    throw new ConfigError(
      `config: field "stages.${stage}.numGenerations" must be at least 2 (advantages are relative to the group)`,
    );
  if (!Array.isArray(merged.rewards)) throw new ConfigError(`config: field "stages.${stage}.rewards" must be a list`);
  return {
    ...merged,
    data: resolveData(c, merged.data),
    rewardModule: merged.rewardModule ? resolveData(c, merged.rewardModule) : undefined,
  };
}
