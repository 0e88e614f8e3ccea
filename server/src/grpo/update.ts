// One GRPO policy update on a batch of scored completions.
import * as tf from '@tensorflow/tfjs';
import { GPT } from '../model/gpt';
import { stopGradient } from '../model/ops';
import { batchRows, maskedTokenCount, MICRO_BATCH_ROWS } from '../train/batches';
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
  /** Rows per forward/backward pass (gradients accumulate over chunks); default MICRO_BATCH_ROWS. */
  microBatchRows?: number;
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
  const L = batch.mask[0].length;
  const chunkRows = Math.max(1, cfg.microBatchRows ?? MICRO_BATCH_ROWS);
  const totalTokens = Math.max(maskedTokenCount(batch), 1);
  // Per chunk, kept for one read-back after the last: its scaled loss, and its token means
  // [entropy, kl, clipLow, clipHigh, clipRegion] weighted by its share of the batch's tokens.
  const losses: tf.Scalar[] = [];
  const figures: tf.Tensor1D[] = [];
  let summed: Record<string, tf.Tensor> = {};
  for (let r0 = 0; r0 < N; r0 += chunkRows) {
    const r1 = Math.min(N, r0 + chunkRows);
    const n = r1 - r0;
    const chunk = batchRows(batch, r0, r1);
    const part = (t?: tf.Tensor2D) => (t ? (tf.slice(t, [r0, 0], [n, L]) as tf.Tensor2D) : undefined);
    const { value, grads } = model.gradients(
      () => {
        const mask = tf.tensor2d(chunk.mask, [n, L]);
        const { logp, entropy } = completionTokenStats(model, chunk);
        const out = grpoLoss({
          logp,
          oldLogp: part(oldLogp) ?? stopGradient(logp),
          refLogp: cfg.beta > 0 ? part(refLogp) : undefined,
          advantages: tf.tensor1d(advantages.slice(r0, r1)),
          mask,
          epsilonLow: cfg.epsilonLow,
          epsilonHigh: cfg.epsilonHigh,
          beta: cfg.beta,
          lossType: cfg.lossType,
          maxCompletionLength: cfg.maxCompletionLength,
          numItemsInBatch: totalTokens, // dapo: one token mean over the whole batch
        });
        const entropyMean = tf.div(tf.sum(tf.mul(entropy, mask)), tf.maximum(tf.sum(mask), 1));
        const share = maskedTokenCount(chunk) / totalTokens;
        figures.push(
          tf.keep(tf.mul(tf.stack([entropyMean, out.kl, out.clipLow, out.clipHigh, out.clipRegion]), share)),
        );
        // grpo and dr_grpo average over completions: a chunk carries n / N of that mean.
        return (cfg.lossType === 'dapo' ? out.loss : tf.mul(out.loss, n / N)) as tf.Scalar;
      },
      { batchShare: n / N },
    );
    losses.push(value);
    summed = addGradients(summed, grads);
  }
  const totals = tf.tidy(() => tf.concat([tf.addN(figures), tf.addN(losses).reshape([1])]));
  tf.dispose([...figures, ...losses]);
  // The read-backs run together: one wait for the device per step.
  const [, { grads: clipped, norm }, values] = await Promise.all([
    model.finishTrainingStep(),
    clipByGlobalNorm(summed, cfg.maxGradNorm),
    totals.data(),
  ]);
  opt.apply(clipped, lr);
  tf.dispose([totals, ...Object.values(summed), ...Object.values(clipped)]);
  const [entropy, kl, clipLow, clipHigh, clipRegion, loss] = Array.from(values);
  return { loss, kl, entropy, clipLow, clipHigh, clipRegion, gradNorm: norm };
}

/** acc + grads by name, disposing both inputs' replaced tensors. */
function addGradients(acc: Record<string, tf.Tensor>, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = { ...acc };
  for (const [name, g] of Object.entries(grads)) {
    if (out[name]) {
      const sum = tf.add(out[name], g);
      tf.dispose([out[name], g]);
      out[name] = sum;
    } else out[name] = g;
  }
  return out;
}
