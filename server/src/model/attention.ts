// Scaled dot-product attention over (B, H, T, hs) queries and (B, H, Tk, hs) keys/values with an
// additive bias broadcastable to (B, H, T, Tk).
//
// On wasm, tfjs's batched matmul is on a slow path while 2-D matmuls run on XNNPACK. For long
// queries (training, prefill) one 2-D matmul per (row, head) wins despite the extra kernels:
// measured forward+backward at (16, 4, 96, 96) 223 -> 69 ms, at (128, 4, 80, 80) 1746 -> 656 ms;
// it loses for short queries (decoding one token: 2.7 -> 38 ms at B=128), which keep the batched
// matmul. Taking heads apart is cheap since backend/wasmSlice.ts.
import * as tf from '@tensorflow/tfjs';
import { matMul2d } from './ops';

/** Queries at least this long use the per-head 2-D path (crossover measured near 24-32). */
const PER_HEAD_MIN_QUERIES = 32;

export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor): tf.Tensor4D {
  return q.shape[2] >= PER_HEAD_MIN_QUERIES ? perHeadAttention(q, k, v, bias) : batchedAttention(q, k, v, bias);
}

export function batchedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor): tf.Tensor4D {
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(q.shape[3])), bias);
  return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
}

export function perHeadAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor): tf.Tensor4D {
  const [B, H, T, hs] = q.shape;
  const Tk = k.shape[2];
  const pieces = (x: tf.Tensor, rows: number, cols: number) =>
    tf.unstack(x.reshape([B * H, rows, cols])) as tf.Tensor2D[];
  const qs = pieces(q, T, hs);
  const kTs = pieces(tf.transpose(k, [0, 1, 3, 2]), hs, Tk);
  const vs = pieces(v, Tk, hs);
  const scores = tf.stack(qs.map((qi, i) => matMul2d(qi, kTs[i]))).reshape([B, H, T, Tk]);
  const probs = pieces(tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(hs)), bias)), T, Tk);
  return tf.stack(probs.map((p, i) => matMul2d(p, vs[i]))).reshape([B, H, T, hs]) as tf.Tensor4D;
}
