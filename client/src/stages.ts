// The seven stages of spec §1, as the Run Stage quick pick and the dashboard's timeline show them.
import type { StageId } from '../../server/src/protocol/messages';

export interface StageMeta {
  label: string;
  /** What the stage does, one line. */
  does: string;
  startsFrom: string;
  writes: string;
  /** A GRPO stage: it logs groups for the rewards panel. */
  grpo: boolean;
}

export const STAGES = {
  pretrain: {
    label: 'Pretrain',
    does: 'Next-token training of the base model on a text corpus',
    startsFrom: 'random init',
    writes: 'base checkpoint',
    grpo: false,
  },
  'cold-start': {
    label: 'Cold start',
    does: 'SFT on a small set of long, well-formatted chain-of-thought examples',
    startsFrom: 'base',
    writes: 'checkpoint',
    grpo: false,
  },
  'reasoning-rl': {
    label: 'Reasoning RL',
    does: 'GRPO with rule rewards: accuracy, format, language consistency',
    startsFrom: 'cold-start',
    writes: 'checkpoint, groups log',
    grpo: true,
  },
  'rejection-sampling': {
    label: 'Rejection sampling',
    does: 'Sample K completions per prompt, keep the correct, well-formatted ones, write a review file',
    startsFrom: 'reasoning-rl',
    writes: 'curated JSONL (review file)',
    grpo: false,
  },
  sft: {
    label: 'SFT',
    does: 'SFT on accepted curated reasoning data mixed with general SFT data',
    startsFrom: 'base (or a chosen checkpoint)',
    writes: 'checkpoint',
    grpo: false,
  },
  'reward-model': {
    label: 'Reward model',
    does: 'Bradley–Terry reward model on preference pairs',
    startsFrom: 'base',
    writes: 'reward-model checkpoint',
    grpo: false,
  },
  'rl-all': {
    label: 'RL, all scenarios',
    does: 'GRPO over all scenarios: rule rewards, the reward model, format and language',
    startsFrom: 'sft',
    writes: 'final checkpoint',
    grpo: true,
  },
} as const satisfies Record<StageId, StageMeta>;

/** Pipeline order. */
export const STAGE_IDS = Object.keys(STAGES) as StageId[];

export function isStageId(x: unknown): x is StageId {
  return typeof x === 'string' && Object.hasOwn(STAGES, x);
}
