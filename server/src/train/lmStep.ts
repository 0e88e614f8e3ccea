// One supervised next-token training step, shared by pretraining and SFT.
import * as tf from '@tensorflow/tfjs';
import { GPT } from '../model/gpt';
import { pickLogProbs } from '../model/ops';
import { AdamW, clipByGlobalNorm } from './optimizer';

/** Inputs (B, T), targets (B, T) and a loss mask (B, T): 1 where the target counts. */
export interface LmBatch {
  inputs: number[][];
  targets: number[][];
  mask: number[][];
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** Tokens that carried loss. */
  tokens: number;
}

/** Masked mean negative log-likelihood of the targets. */
export function lmLoss(model: GPT, batch: LmBatch): tf.Scalar {
  const B = batch.inputs.length;
  const T = batch.inputs[0].length;
  const { logits } = model.forward(tf.tensor2d(batch.inputs, [B, T], 'int32'));
  const logp = pickLogProbs(logits, tf.tensor1d(batch.targets.flat(), 'int32'));
  const mask = tf.tensor1d(batch.mask.flat());
  return tf.neg(tf.div(tf.sum(tf.mul(logp, mask)), tf.maximum(tf.sum(mask), 1))) as tf.Scalar;
}

/** One AdamW step on `batch`. Reads back asynchronously (the webgpu backend has no dataSync in Node). */
export async function trainStep(
  model: GPT,
  opt: AdamW,
  batch: LmBatch,
  lr: number,
  maxGradNorm: number,
): Promise<StepResult> {
  const { value, grads } = model.gradients(() => lmLoss(model, batch));
  // The read-backs run together: one wait for the device per step.
  const [, { grads: clipped, norm }, lossData] = await Promise.all([
    model.finishTrainingStep(),
    clipByGlobalNorm(grads, maxGradNorm),
    value.data(),
  ]);
  opt.apply(clipped, lr);
  value.dispose();
  tf.dispose(Object.values(clipped));
  return { loss: lossData[0], gradNorm: norm, tokens: batch.mask.flat().reduce((a, b) => a + b, 0) };
}

/** Evaluation loss without gradients. */
export async function evalLoss(model: GPT, batch: LmBatch): Promise<number> {
  const loss = tf.tidy(() => lmLoss(model, batch));
  try {
    return (await loss.data())[0];
  } finally {
    loss.dispose();
  }
}
