// Mixture-of-Experts feed-forward in the style of DeepSeekMoE / DeepSeek-V3:
// - routed experts scored by sigmoid affinities s = sigmoid(x Wr); each token picks the topK
//   experts by s + b, where b is a per-expert balance bias used for selection only;
// - gate weights are the chosen affinities normalised to sum to 1 (the bias never enters them);
// - shared experts run on every token (one MLP of width sharedExperts * expertHidden);
// - real sparsity: each expert computes only the tokens dispatched to it, up to a capacity, by
//   gathering rows into (E, capacity, C) slots and scattering results back (GShard/Switch style
//   dispatch with indices rather than an (N, E, capacity) one-hot, whose cost would grow with N^2).
//   Tokens over capacity are dropped (the residual stream carries them) and counted.
import * as tf from '@tensorflow/tfjs';
import { MoeConfig } from './config';
import { batchMatMul, floatOneHot, gatherRows, gelu, matMul2d } from './ops';

export interface MoeWeights {
  router: tf.Tensor2D; // (C, E)
  w1: tf.Tensor3D; // (E, C, F)
  w2: tf.Tensor3D; // (E, F, C)
  sharedW1?: tf.Tensor2D; // (C, S * F)
  sharedW2?: tf.Tensor2D; // (S * F, C)
  bias: tf.Tensor1D; // (E) balance bias, not trained by gradients
}

/** What one MoE layer did in one forward pass; the tensors are plain (no gradient). */
export interface MoeRouting {
  /** (E) assignments per expert before capacity: the load the balance bias reacts to. */
  load: tf.Tensor1D;
  /** Assignments dropped for capacity. */
  dropped: tf.Scalar;
  /** Mean per-token entropy (nats) of the normalised affinities over all routed experts. */
  entropy: tf.Scalar;
}

export interface MoeOutput {
  y: tf.Tensor2D;
  /** (N, K) the chosen routed experts of each token, best first. */
  experts: tf.Tensor2D;
  /** (N, K) their gate weights (sum to 1 per token). */
  gates: tf.Tensor2D;
  routing: MoeRouting;
  /** Sequence-wise balance loss (DeepSeek-V3 eq. 17-20) before its weight; only with `sequences`. */
  balanceLoss?: tf.Scalar;
}

export interface MoeCallOptions {
  /**
   * Slots per expert (`capacityFor` computes the training one; tokens beyond it are dropped), or
   * 'dropless': the busiest expert's load, from this call's own router scores.
   */
  capacity: number | 'dropless';
  /** (B, T) layout of the N rows, for the sequence-wise balance loss. */
  sequences?: { batch: number; length: number };
}

/** Training capacity ceil(factor * N * K / E); inference uses 'dropless' instead. */
export function capacityFor(cfg: MoeConfig, tokens: number): number {
  return Math.min(tokens, Math.max(1, Math.ceil((cfg.capacityFactor * tokens * cfg.topK) / cfg.routedExperts)));
}

/**
 * The routing decision, computed inside a custom-gradient op so that none of its integer
 * bookkeeping (top-k, cumsum, scatter) is on the gradient tape; its gradient is zero. Returns one
 * packed float vector (a custom op has one output), unpacked by `unpackRoute`:
 *   [expert (N*K) | slot (N*K) | kept (N*K) | tokenOfSlot (E*cap) | load (E) | dropped (1) |
 *    chosen one-hot (N*K*E)]
 * slot = e * cap + position for kept assignments and E * cap (a zero row) for dropped ones;
 * tokenOfSlot = token index + 1 for filled slots and 0 (a zero row) for empty ones. Positions
 * are first come, first served in token order (Switch Transformer's priority).
 */
function routeOp(E: number, K: number, cap: number) {
  return tf.customGrad(((scores: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    void save;
    const N = scores.shape[0];
    const value = tf.tidy(() => {
      const { indices } = tf.topk(tf.add(scores, bias), K); // (N, K) int32
      const expertOneHot = floatOneHot(indices, E); // (N, K, E)
      const mask = tf.sum(expertOneHot, 1); // (N, E), 0/1 since top-k indices are distinct
      const position = tf.mul(tf.cumsum(mask, 0), mask); // 1-based within each expert
      const kept = tf.mul(mask, tf.lessEqual(position, cap).toFloat());
      const expertBase = tf.mul(tf.range(0, E, 1, 'float32'), cap).reshape([1, E]);
      const trash = E * cap;
      const slotNE = tf.add(tf.mul(tf.add(expertBase, tf.sub(position, 1)), kept), tf.mul(tf.sub(1, kept), trash));
      // Per assignment (n, k): its expert's slot and whether it was kept.
      const slotNK = tf.sum(tf.mul(expertOneHot, tf.expandDims(slotNE, 1)), 2); // (N, K)
      const keptNK = tf.sum(tf.mul(expertOneHot, tf.expandDims(kept, 1)), 2); // (N, K)
      const tokenPlusOne = tf.mul(tf.add(tf.range(0, N, 1, 'float32').reshape([N, 1]), 1), kept); // (N, E)
      const tokenOfSlot = tf
        .scatterND(tf.cast(slotNE, 'int32').reshape([N * E, 1]), tokenPlusOne.reshape([N * E]), [trash + 1])
        .slice([0], [trash]);
      const load = tf.sum(mask, 0);
      const dropped = tf.sub(tf.sum(mask), tf.sum(kept)).reshape([1]);
      return tf.concat([
        indices.toFloat().reshape([N * K]),
        slotNK.reshape([N * K]),
        keptNK.reshape([N * K]),
        tokenOfSlot,
        load,
        dropped,
        expertOneHot.reshape([N * K * E]),
      ]);
    });
    return { value, gradFunc: () => [tf.zerosLike(scores), tf.zerosLike(bias)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    scores: tf.Tensor2D,
    bias: tf.Tensor1D,
  ) => tf.Tensor1D;
}

function unpackRoute(packed: tf.Tensor1D, N: number, K: number, E: number, cap: number) {
  const [expert, slot, kept, tokenOfSlot, load, dropped, chosen] = tf.split(packed, [
    N * K,
    N * K,
    N * K,
    E * cap,
    E,
    1,
    N * K * E,
  ]);
  return {
    expert: tf.cast(expert, 'int32').reshape([N, K]) as tf.Tensor2D,
    slot: tf.cast(slot, 'int32') as tf.Tensor1D, // (N * K), row-major (n, k)
    kept: kept.reshape([N, K]) as tf.Tensor2D,
    tokenOfSlot: tf.cast(tokenOfSlot, 'int32') as tf.Tensor1D,
    load: load as tf.Tensor1D,
    dropped: dropped.reshape([]) as tf.Scalar,
    chosen: chosen.reshape([N, K, E]) as tf.Tensor3D, // one-hot of `expert`
  };
}

/** x (N, C) -> (N, C). Call inside tf.tidy (or a gradient scope). */
export function moeFeedForward(x: tf.Tensor2D, w: MoeWeights, cfg: MoeConfig, opts: MoeCallOptions): MoeOutput {
  const [N, C] = x.shape;
  const E = cfg.routedExperts;
  const K = cfg.topK;
  const scores = routerScores(x, w);
  const cap = opts.capacity === 'dropless' ? busiestLoad(scores, w.bias, cfg) : opts.capacity;
  const route = unpackRoute(routeOp(E, K, cap)(scores, w.bias), N, K, E, cap);

  // Gates: chosen affinities, normalised over the chosen experts (dropped ones keep their share
  // of the normalisation: a dropped expert's contribution is simply missing, as in Switch).
  const chosen = route.chosen; // (N, K, E)
  const chosenScores = tf.sum(tf.mul(chosen, tf.expandDims(scores, 1)), 2); // (N, K)
  const gates = tf.div(chosenScores, tf.sum(chosenScores, 1, true)) as tf.Tensor2D;

  // Dispatch: slot rows gathered from x with a zero row in front for empty slots.
  const xPadded = tf.concat([tf.zeros([1, C]), x]) as tf.Tensor2D;
  const slots = gatherRows(xPadded, route.tokenOfSlot).reshape([E, cap, C]) as tf.Tensor3D;
  const hidden = gelu(batchMatMul(slots, w.w1)) as tf.Tensor3D; // (E, cap, F)
  const out = batchMatMul(hidden, w.w2).reshape([E * cap, C]) as tf.Tensor2D;
  // Combine: each assignment reads its slot's output (row E*cap is zero for dropped ones).
  const outPadded = tf.concat([out, tf.zeros([1, C])]) as tf.Tensor2D;
  const picked = gatherRows(outPadded, route.slot).reshape([N, K, C]);
  let y = tf.sum(tf.mul(picked, tf.expandDims(tf.mul(gates, route.kept), 2)), 1) as tf.Tensor2D;

  if (w.sharedW1 && w.sharedW2) y = tf.add(y, matMul2d(gelu(matMul2d(x, w.sharedW1)) as tf.Tensor2D, w.sharedW2));

  const affinity = tf.div(scores, tf.sum(scores, 1, true)); // (N, E), sums to 1 per token
  const entropy = tf.neg(tf.mean(tf.sum(tf.mul(affinity, tf.log(tf.add(affinity, 1e-9))), 1))) as tf.Scalar;
  let balanceLoss: tf.Scalar | undefined;
  if (opts.sequences) {
    // L = sum_e f_e P_e per sequence, f_e = E / (K T) * (tokens choosing e), P_e = mean affinity.
    const { batch: B, length: T } = opts.sequences;
    const selected = tf.sum(chosen, 1).reshape([B, T, E]);
    const f = tf.mul(tf.sum(selected, 1), E / (K * T)); // (B, E)
    const P = tf.mean(affinity.reshape([B, T, E]), 1); // (B, E)
    balanceLoss = tf.mean(tf.sum(tf.mul(f, P), 1)) as tf.Scalar;
  }
  return {
    y,
    experts: route.expert,
    gates,
    routing: { load: route.load, dropped: route.dropped, entropy },
    balanceLoss,
  };
}

/**
 * The smallest capacity at which no token is dropped: the busiest expert's load. Inference uses
 * it so that nothing is dropped without paying for E x N slots. It reads one number back, so on
 * a backend without synchronous reads (webgpu in Node) it falls back to N, dropless but dearer.
 */
export function droplessCapacity(x: tf.Tensor2D, w: MoeWeights, cfg: MoeConfig): number {
  return tf.tidy(() => busiestLoad(routerScores(x, w), w.bias, cfg));
}

/** (N, E) sigmoid affinities of each token to each routed expert. */
function routerScores(x: tf.Tensor2D, w: MoeWeights): tf.Tensor2D {
  return tf.sigmoid(matMul2d(x, w.router)) as tf.Tensor2D;
}

function busiestLoad(scores: tf.Tensor2D, bias: tf.Tensor1D, cfg: MoeConfig): number {
  const N = scores.shape[0];
  if (tf.getBackend() === 'webgpu') return N;
  const busiest = tf.tidy(() => {
    const { indices } = tf.topk(tf.add(scores, bias), cfg.topK);
    return tf.max(tf.sum(floatOneHot(indices, cfg.routedExperts), [0, 1]));
  });
  const load = busiest.dataSync()[0];
  busiest.dispose();
  return Math.max(1, Math.min(N, load));
}

/**
 * DeepSeek-V3's auxiliary-loss-free balancing: b_e += rate * sign(mean load - load_e), so an
 * over-loaded expert becomes less likely to be selected and an idle one more. Returns the new bias.
 */
export function nudgeBias(bias: number[], load: number[], rate: number): number[] {
  const mean = load.reduce((a, b) => a + b, 0) / load.length;
  return bias.map((b, e) => b + rate * Math.sign(mean - load[e]));
}
