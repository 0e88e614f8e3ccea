// The GRPO objective (spec §5), reduced exactly as TRL's GRPOTrainer `_compute_loss` does, with
// the metrics TRL logs from it. Pure tensor math: the caller runs it inside tf.tidy / the
// optimizer's gradient scope and owns every input.
//
// wasm backend: only ops with wasm kernels AND gradients are used on the differentiated path
// (exp, sub, mul, minimum, clipByValue, where, sum, div). No gather / einsum / pow
// (platform-notes.md §1).
import * as tf from '@tensorflow/tfjs';

/**
 * How per-token losses become one number:
 * - `grpo`: mean over each completion's tokens, then mean over completions (long completions'
 *   tokens weigh less: the length bias Dr. GRPO points out);
 * - `dr_grpo`: sum over all tokens / (N * maxCompletionLength), a constant normaliser;
 * - `dapo`: token-level mean over the batch (every token weighs the same).
 */
export type LossType = 'grpo' | 'dr_grpo' | 'dapo';

export interface GrpoLossInputs {
  /** (N, L) log pi_theta of each completion token (N completions padded to L tokens); differentiable. */
  logp: tf.Tensor2D;
  /** (N, L) log pi_old, a constant; equal to logp's values when num_iterations == 1 (rho = 1). */
  oldLogp: tf.Tensor2D;
  /** (N, L) log pi_ref, a constant; absent when beta == 0 (no reference model). */
  refLogp?: tf.Tensor2D;
  /** (N) advantage of each completion, broadcast over its tokens. */
  advantages: tf.Tensor1D;
  /** (N, L) 1 for real completion tokens, 0 for padding; all-zero rows for masked truncated completions. */
  mask: tf.Tensor2D;
  /** Lower clip: rho is clipped below at 1 - epsilonLow. */
  epsilonLow: number;
  /** Upper clip: rho is clipped above at 1 + epsilonHigh (DAPO's clip-higher sets it above epsilonLow). */
  epsilonHigh: number;
  /** KL penalty weight; 0 skips the KL term (refLogp may then be absent). */
  beta: number;
  lossType: LossType;
  /** `dr_grpo`'s constant normaliser is N * maxCompletionLength, as in TRL. */
  maxCompletionLength: number;
  /**
   * `dapo` only: the token count to divide by. Defaults to sum(mask). TRL divides by the token
   * count of the whole generation batch (`num_items_in_batch`) so that gradient-accumulated
   * micro-batches add up to one token mean; pass that total when splitting a batch.
   */
  numItemsInBatch?: number;
}

export interface GrpoLossOutputs {
  /** () the loss to minimise. */
  loss: tf.Scalar;
  /** () TRL's `kl`: masked token mean of the k3 estimator; 0 without refLogp. */
  kl: tf.Scalar;
  /** () `clip_ratio/low_mean`: share of tokens with rho < 1 - epsLow and A < 0. */
  clipLow: tf.Scalar;
  /** () `clip_ratio/high_mean`: share of tokens with rho > 1 + epsHigh and A > 0. */
  clipHigh: tf.Scalar;
  /** () `clip_ratio/region_mean`: share of tokens clipped either way. */
  clipRegion: tf.Scalar;
}

/**
 * Clipped surrogate + optional k3 KL, per token:
 *   rho = exp(logp - oldLogp)
 *   loss_t = -min(rho * A, clip(rho, 1 - epsLow, 1 + epsHigh) * A) + beta * k3
 *   k3 = exp(ref - logp) - (ref - logp) - 1   (>= 0, unbiased for KL(pi_theta || pi_ref))
 * then reduced by `lossType`. Every denominator is clamped to >= 1, so all-zero masks give 0, not NaN.
 */
export function grpoLoss(x: GrpoLossInputs): GrpoLossOutputs {
  const { logp, oldLogp, refLogp, mask, epsilonLow, epsilonHigh, beta, lossType } = x;
  const n = logp.shape[0];
  const valid = tf.greater(mask, 0);
  const zeros = tf.zerosLike(logp);
  // Padding positions may hold anything (even -Infinity): select 0 there BEFORE exp, so rho = 1,
  // nothing overflows, and the gradient reaching padded logp is exactly 0 (where's gradient is
  // masked, unlike 0 * Inf in a multiply).
  const logRatio = tf.where(valid, tf.sub(logp, oldLogp), zeros);
  const rho = tf.exp(logRatio);
  const adv = tf.reshape(x.advantages, [n, 1]);

  // tf.minimum sends the gradient to its first argument on ties, so inside the clip band the
  // unclipped term carries the full gradient A * rho; outside it (in the direction A pushes) the
  // clipped term wins and clipByValue's gradient is 0.
  const unclipped = tf.mul(rho, adv);
  const clipped = tf.mul(tf.clipByValue(rho, 1 - epsilonLow, 1 + epsilonHigh), adv);
  let perToken = tf.neg(tf.minimum(unclipped, clipped));

  let k3: tf.Tensor | undefined;
  if (refLogp) {
    const d = tf.where(valid, tf.sub(refLogp, logp), zeros);
    k3 = tf.sub(tf.sub(tf.exp(d), d), 1);
    if (beta !== 0) perToken = tf.add(perToken, tf.mul(k3, beta));
  }

  const tokenCount = tf.maximum(tf.sum(mask), 1);
  const maskedSum = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(t, mask));
  const tokenMean = (t: tf.Tensor): tf.Scalar => tf.div(maskedSum(t), tokenCount);

  let loss: tf.Scalar;
  switch (lossType) {
    case 'grpo': {
      const perCompletion = tf.div(tf.sum(tf.mul(perToken, mask), 1), tf.maximum(tf.sum(mask, 1), 1));
      // Mean over ALL N rows, masked-out ones included (they add 0), as TRL's `.mean()`.
      loss = tf.div(tf.sum(perCompletion), Math.max(n, 1));
      break;
    }
    case 'dr_grpo':
      loss = tf.div(maskedSum(perToken), Math.max(n * x.maxCompletionLength, 1));
      break;
    case 'dapo':
      loss =
        x.numItemsInBatch === undefined
          ? tokenMean(perToken)
          : tf.div(maskedSum(perToken), Math.max(x.numItemsInBatch, 1));
      break;
    default:
      throw new Error(`unknown loss_type: ${String(lossType)}`);
  }

  // Metrics: boolean tests as 0/1 floats multiplied together (no logicalAnd broadcasting needed).
  const isTrue = (t: tf.Tensor): tf.Tensor => tf.cast(t, 'float32');
  const low = tf.mul(isTrue(tf.less(rho, 1 - epsilonLow)), isTrue(tf.less(adv, 0)));
  const high = tf.mul(isTrue(tf.greater(rho, 1 + epsilonHigh)), isTrue(tf.greater(adv, 0)));
  const clipLow = tokenMean(low);
  const clipHigh = tokenMean(high);
  return {
    loss,
    kl: k3 ? tokenMean(k3) : tf.scalar(0),
    clipLow,
    clipHigh,
    // low and high are disjoint (A < 0 vs A > 0), so the region share is their sum.
    clipRegion: tf.add(clipLow, clipHigh),
  };
}
