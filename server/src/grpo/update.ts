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
  const totalTokens = Math.max(
    batch.mask.reduce((a, row) => a + row.reduce((b, x) => b + x, 0), 0),
    1,
  );
  // Per chunk: scaled loss and token-weighted figures, read back after the last chunk.
  const kept: tf.Tensor[] = [];
  let summed: Record<string, tf.Tensor> = {};
  for (let r0 = 0; r0 < N; r0 += chunkRows) {
    const r1 = Math.min(N, r0 + chunkRows);
    const rows = <T>(xs: T[]) => xs.slice(r0, r1);
    const chunk: LmBatch = { inputs: rows(batch.inputs), targets: rows(batch.targets), mask: rows(batch.mask) };
    const n = r1 - r0;
    const tokens = chunk.mask.reduce((a, row) => a + row.reduce((b, x) => b + x, 0), 0);
    const part = (t?: tf.Tensor2D) => (t ? (tf.slice(t, [r0, 0], [n, L]) as tf.Tensor2D) : undefined);
    const { value, grads } = model.gradients(
      () => {
        const mask = tf.tensor2d(chunk.mask, [n, L]);
        const { logp, entropy } = completionTokenStats(model, chunk);
        const out = grpoLoss({
          logp,
          oldLogp: part(oldLogp) ?? stopGradient(logp),
          refLogp: cfg.beta > 0 ? part(refLogp) : undefined,
          advantages: tf.tensor1d(rows(advantages)),
          mask,
          epsilonLow: cfg.epsilonLow,
          epsilonHigh: cfg.epsilonHigh,
          beta: cfg.beta,
          lossType: cfg.lossType,
          maxCompletionLength: cfg.maxCompletionLength,
          numItemsInBatch: totalTokens, // dapo: one token mean over the whole batch
        });
        // Token means of this chunk, weighted by its share of the batch's tokens.
        const share = tokens / totalTokens;
        const entropyMean = tf.div(tf.sum(tf.mul(entropy, mask)), tf.maximum(tf.sum(mask), 1));
        kept.push(
          ...[entropyMean, out.kl, out.clipLow, out.clipHigh, out.clipRegion].map((m) => tf.keep(tf.mul(m, share))),
        );
        // grpo and dr_grpo average over completions: a chunk carries n / N of that mean.
        return (cfg.lossType === 'dapo' ? out.loss : tf.mul(out.loss, n / N)) as tf.Scalar;
      },
      { batchShare: n / N },
    );
    kept.push(value);
    summed = addGradients(summed, grads);
  }
  // The read-backs run together: one wait for the device per step.
  const [, { grads: clipped, norm }, figures] = await Promise.all([
    model.finishTrainingStep(),
    clipByGlobalNorm(summed, cfg.maxGradNorm),
    Promise.all(kept.map(async (t) => (await t.data())[0])),
  ]);
  opt.apply(clipped, lr);
  tf.dispose([...Object.values(summed), ...Object.values(clipped), ...kept]);
  // kept holds, per chunk: entropy, kl, clipLow, clipHigh, clipRegion, loss.
  const total = (k: number) => figures.filter((_, i) => i % 6 === k).reduce((a, b) => a + b, 0);
  const [entropy, kl, clipLow, clipHigh, clipRegion, loss] = [0, 1, 2, 3, 4, 5].map(total);
  return { loss, kl, entropy, clipLow, clipHigh, clipRegion, gradNorm: norm };
}

/**
 * Rows per forward/backward pass. Activation memory grows with rows (wasm heap, measured for
 * `small`: 32 rows ~0.9 GB, 128 rows ~2.9 GB, and an MoE model at 128 rows passed wasm's 4 GB),
 * so larger batches accumulate gradients over chunks of this many rows: the same update.
 */
export const MICRO_BATCH_ROWS = 32;

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
