// One GRPO policy update on a batch of scored completions.
import * as tf from '@tensorflow/tfjs';
import { GPT } from '../model/gpt';
import { stopGradient } from '../model/ops';
import { LmBatch } from '../train/lmStep';
import { AdamW, clipByGlobalNorm } from '../train/optimizer';
import { completionTokenStats } from './logprobs';
import { grpoLoss, LossType } from './loss';

export interface GrpoUpdateConfig {
  epsilonLow: number;
  epsilonHigh: number;
  beta: number;
  lossType: LossType;
  maxCompletionLength: number;
  maxGradNorm: number;
}

export interface GrpoUpdateResult {
  loss: number;
  kl: number;
  entropy: number;
  clipLow: number;
  clipHigh: number;
  clipRegion: number;
  gradNorm: number;
}

/**
 * Gradient step on the clipped objective. `oldLogp` (N, T) is pi_old (the rollout policy);
 * without it rho = 1 (num_iterations = 1). `refLogp` is needed only when beta > 0.
 */
export async function grpoUpdate(
  model: GPT,
  opt: AdamW,
  batch: LmBatch,
  advantages: number[],
  cfg: GrpoUpdateConfig,
  lr: number,
  oldLogp?: tf.Tensor2D,
  refLogp?: tf.Tensor2D,
): Promise<GrpoUpdateResult> {
  const N = batch.inputs.length;
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(tf.keep(t));
    return t;
  };
  const { value, grads } = model.gradients(() => {
    const mask = tf.tensor2d(batch.mask, [N, batch.mask[0].length]);
    const { logp, entropy } = completionTokenStats(model, batch);
    keep(tf.div(tf.sum(tf.mul(entropy, mask)), tf.maximum(tf.sum(mask), 1)));
    const out = grpoLoss({
      logp,
      oldLogp: oldLogp ?? stopGradient(logp),
      refLogp: cfg.beta > 0 ? refLogp : undefined,
      advantages: tf.tensor1d(advantages),
      mask,
      epsilonLow: cfg.epsilonLow,
      epsilonHigh: cfg.epsilonHigh,
      beta: cfg.beta,
      lossType: cfg.lossType,
      maxCompletionLength: cfg.maxCompletionLength,
    });
    for (const m of [out.kl, out.clipLow, out.clipHigh, out.clipRegion]) keep(m);
    return out.loss;
  });
  // The read-backs run together: one wait for the device per step.
  const [, { grads: clipped, norm }, figures] = await Promise.all([
    model.finishTrainingStep(),
    clipByGlobalNorm(grads, cfg.maxGradNorm),
    Promise.all([...kept, value].map(async (t) => (await t.data())[0])),
  ]);
  opt.apply(clipped, lr);
  const [entropy, kl, clipLow, clipHigh, clipRegion, loss] = figures;
  tf.dispose([value, ...Object.values(clipped), ...kept]);
  return { loss, kl, entropy, clipLow, clipHigh, clipRegion, gradNorm: norm };
}
