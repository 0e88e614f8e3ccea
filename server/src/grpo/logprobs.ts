// Per-token log-probabilities and entropies of completions under a model, for the GRPO loss.
import * as tf from '@tensorflow/tfjs';
import { GPT } from '../model/gpt';
import { batchRows, MICRO_BATCH_ROWS } from '../train/batches';
import { LmBatch } from '../train/lmStep';

export interface TokenStats {
  /** (N, T) log pi(target token); meaningful where the batch mask is 1. */
  logp: tf.Tensor2D;
  /** (N, T) entropy of the next-token distribution at each position. */
  entropy: tf.Tensor2D;
}

/** One forward pass over prompt + completion rows (see `pairBatch`). Differentiable in `logp`. */
export function completionTokenStats(model: GPT, batch: LmBatch): TokenStats {
  const N = batch.inputs.length;
  const T = batch.inputs[0].length;
  const { logits } = model.forward(tf.tensor2d(batch.inputs, [N, T], 'int32'));
  const logSoftmax = tf.logSoftmax(logits);
  const onehot = tf.oneHot(tf.tensor1d(batch.targets.flat(), 'int32'), logits.shape[1]).toFloat();
  const logp = tf.sum(tf.mul(logSoftmax, onehot), -1).reshape([N, T]) as tf.Tensor2D;
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), -1)).reshape([N, T]) as tf.Tensor2D;
  return { logp, entropy };
}

/** Log-probabilities without gradient (old policy / reference model). */
export function frozenLogProbs(model: GPT, batch: LmBatch, chunkRows = MICRO_BATCH_ROWS): tf.Tensor2D {
  // In chunks of rows, each in its own tidy, as the update does: bounds activation memory.
  const parts: tf.Tensor2D[] = [];
  for (let r0 = 0; r0 < batch.inputs.length; r0 += chunkRows) {
    const chunk = batchRows(batch, r0, r0 + chunkRows);
    parts.push(tf.tidy(() => completionTokenStats(model, chunk).logp));
  }
  if (parts.length === 1) return parts[0];
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}
