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

export function trainStep(model: GPT, opt: AdamW, batch: LmBatch, lr: number, maxGradNorm: number): StepResult {
  const { value, grads } = model.gradients(() => lmLoss(model, batch));
  const { grads: clipped, norm } = clipByGlobalNorm(grads, maxGradNorm);
  opt.apply(clipped, lr);
  const loss = value.dataSync()[0];
  value.dispose();
  tf.dispose(Object.values(clipped));
  return { loss, gradNorm: norm, tokens: batch.mask.flat().reduce((a, b) => a + b, 0) };
}

/** Evaluation loss without gradients. */
export function evalLoss(model: GPT, batch: LmBatch): number {
  return tf.tidy(() => lmLoss(model, batch).dataSync()[0]);
}
