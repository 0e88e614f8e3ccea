// One GRPO step as server/src/stages/grpoStage.ts runs it, without the stage's files, eval and
// checkpoints: rollout (sampling + rewards) -> group advantages -> frozen log-probs of the
// reference model (and of pi_old when numIterations > 1) -> clipped policy update(s).
// Returns the time of each part so the bench can say where a step goes.
import * as tf from '@tensorflow/tfjs';
import { RlExample } from '../../server/src/data/records';
import { groupAdvantages } from '../../server/src/grpo/advantages';
import { frozenLogProbs } from '../../server/src/grpo/logprobs';
import { rollout, RolloutOptions } from '../../server/src/grpo/rollout';
import { grpoUpdate, GrpoUpdateConfig } from '../../server/src/grpo/update';
import { GPT } from '../../server/src/model/gpt';
import { RewardSet } from '../../server/src/rewards';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { pairBatch } from '../../server/src/train/batches';
import { AdamW } from '../../server/src/train/optimizer';
import { Rng } from '../../server/src/util/rng';

export interface GrpoStepSetup {
  policy: GPT;
  /** Reference model; its log-probs are computed (and used when update.beta > 0). */
  ref?: GPT;
  opt: AdamW;
  tok: Tokenizer;
  rewards: RewardSet;
  rollout: RolloutOptions;
  update: GrpoUpdateConfig;
  numIterations: number;
  lr: number;
  rng: Rng;
}

export interface GrpoStepTimes {
  rolloutMs: number;
  refLogprobsMs: number;
  updateMs: number;
  /** Completion tokens sampled in the rollout. */
  sampledTokens: number;
  /** Rows x length of the update batch. */
  trainTokens: number;
}

export async function grpoStep(s: GrpoStepSetup, prompts: RlExample[]): Promise<GrpoStepTimes> {
  const t0 = performance.now();
  const groups = await rollout(s.policy, s.tok, s.rewards, prompts, s.rollout, s.rng);
  const t1 = performance.now();
  const advantages = groupAdvantages(
    groups.map((g) => g.completions.map((c) => c.scores.total)),
    'group',
  ).flat();
  const batch = pairBatch(
    groups.flatMap((g) => g.completions.map((c) => ({ prompt: g.promptIds, completion: c.ids }))),
    s.tok.pad,
    s.policy.config.contextLength,
  );
  const t2 = performance.now();
  const oldLogp = s.numIterations > 1 ? frozenLogProbs(s.policy, batch) : undefined;
  const refLogp = s.ref ? frozenLogProbs(s.ref, batch) : undefined;
  // Asynchronous backends (webgl, webgpu) only queue the work; reading the values makes the
  // timing cover it (on wasm and cpu this returns at once).
  await Promise.all([oldLogp, refLogp].map((t) => t?.data()));
  const t3 = performance.now();
  for (let it = 0; it < s.numIterations; it++)
    await grpoUpdate(s.policy, s.opt, batch, advantages, s.update, s.lr, oldLogp, refLogp);
  tf.dispose([oldLogp, refLogp].filter((t): t is tf.Tensor2D => t !== undefined));
  const t4 = performance.now();
  return {
    rolloutMs: t1 - t0,
    refLogprobsMs: t3 - t2,
    updateMs: t4 - t3,
    sampledTokens: groups.reduce((a, g) => a + g.completions.reduce((b, c) => b + c.ids.length, 0), 0),
    trainTokens: batch.inputs.length * batch.inputs[0].length,
  };
}
