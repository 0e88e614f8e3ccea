// Building blocks tuned for the wasm backend (platform-notes.md §1):
// - matMul2d: wasm's fast XNNPACK path needs untransposed operands, so the gradient uses
//   explicit transposes instead of tfjs's transposed-matmul gradient.
// - embedding / pickLogProbs via oneHot: tf.gather has no gradient on wasm.
// - gelu with x*x*x: tf.pow is slow.
import * as tf from '@tensorflow/tfjs';

/** (N, K) x (K, M) -> (N, M) with a gradient that stays on the fast matmul path. */
export const matMul2d = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy2)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * One-hot rows as float32. Each backend has a bug in one of the two ways to build it: tfjs-wasm
 * 4.22's OneHot with dtype float32 writes int32 bits into the float buffer (all zeros), and on
 * webgpu an int32 or bool one-hot cast to float and reduced over a middle axis compiles to
 * invalid WGSL. No gradient (use it off the tape or on integer inputs only).
 */
export function floatOneHot(indices: tf.Tensor, depth: number): tf.Tensor {
  if (tf.getBackend() === 'wasm') return tf.cast(tf.oneHot(indices, depth), 'float32');
  return tf.oneHot(indices, depth, 1, 0, 'float32');
}

/** ids (N) -> (N, C) rows of `table` (V, C). */
export function embed(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  return matMul2d(tf.oneHot(ids, table.shape[0]).toFloat() as tf.Tensor2D, table);
}

/** Token log-probabilities: logits (N, V), targets (N) -> (N). */
export function pickLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const logp = tf.logSoftmax(logits);
  return tf.sum(tf.mul(logp, tf.oneHot(targets, logits.shape[1]).toFloat()), -1) as tf.Tensor1D;
}

export function gelu(x: tf.Tensor): tf.Tensor {
  // tanh approximation, as in GPT-2
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
}

/** Rotary tables for positions [start, start + T): cos and sin of shape (T, headSize / 2). */
export function ropeTables(
  start: number,
  length: number,
  headSize: number,
  base: number,
): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = headSize / 2;
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (start + t) / Math.pow(base, (2 * i) / headSize);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [length, half]), sin: tf.tensor2d(sin, [length, half]) };
}

/** Applies rotary embeddings (GPT-NeoX "rotate half" layout) to x of shape (B, H, T, hs). */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  return tf.concat(
    [tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x1, sin), tf.mul(x2, cos))],
    3,
  ) as tf.Tensor4D;
}

/** Identity whose gradient is zero (tfjs has no stop_gradient): pi_old = sg(pi_theta) when num_iterations = 1. */
export const stopGradient = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  void save;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;

/**
 * Rows of `table` (R, C) at `indices` (N) -> (N, C). tf.gather has no gradient on wasm (its
 * gradient needs UnsortedSegmentSum); scatterND sums duplicate indices, which is the gradient.
 */
export const gatherRows = tf.customGrad(((table: tf.Tensor, indices: tf.Tensor, save: tf.GradSaveFunc) => {
  save([indices]);
  const shape = table.shape;
  return {
    value: tf.gather(table, indices),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.scatterND(tf.expandDims(saved[0], 1), dy, shape),
      tf.zeros(saved[0].shape), // indices get no gradient; the tape wants float32
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  table: tf.Tensor2D,
  indices: tf.Tensor1D,
) => tf.Tensor2D;

/**
 * Batched (E, N, K) x (E, K, M) -> (E, N, M) as E 2-D matmuls: wasm's batched matmul is on its slow
 * path (~8x slower than the same work as 2-D matmuls, measured for 24 experts of 240x128x128).
 * The gradient uses explicit transposes, as matMul2d does.
 */
export const batchMatMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  const each = (x: tf.Tensor[], y: tf.Tensor[]) =>
    tf.stack(x.map((xi, i) => tf.matMul(xi as tf.Tensor2D, y[i] as tf.Tensor2D)));
  return {
    value: each(tf.unstack(a), tf.unstack(b)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const as = tf.unstack(saved[0]);
      const bs = tf.unstack(saved[1]);
      const dys = tf.unstack(dy);
      return [
        each(
          dys,
          bs.map((t) => tf.transpose(t)),
        ),
        each(
          as.map((t) => tf.transpose(t)),
          dys,
        ),
      ];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;
