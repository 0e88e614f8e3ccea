import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { batchedAttention, perHeadAttention } from '../../server/src/model/attention';
import { testBackend } from '../helpers/backend';

before(testBackend);

test('per-head attention equals batched attention, values and gradients, with a per-row bias', () => {
  const [B, H, T, Tk, hs] = [3, 2, 5, 7, 4];
  const q = tf.randomNormal([B, H, T, hs], 0, 1, 'float32', 1) as tf.Tensor4D;
  const k = tf.randomNormal([B, H, Tk, hs], 0, 1, 'float32', 2) as tf.Tensor4D;
  const v = tf.randomNormal([B, H, Tk, hs], 0, 1, 'float32', 3) as tf.Tensor4D;
  // Causal over the last T keys plus left padding that differs per row, as in cached sampling.
  const bias = tf.tidy(() => {
    const b = new Float32Array(B * T * Tk);
    for (let r = 0; r < B; r++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < Tk; j++) if (j > Tk - T + i || j < r) b[(r * T + i) * Tk + j] = -1e9;
    return tf.tensor4d(b, [B, 1, T, Tk]);
  });
  const weights = tf.randomNormal([B, H, T, hs], 0, 1, 'float32', 4);
  const lossOf = (f: typeof batchedAttention) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, bias), weights));
  const ours = tf.grads(lossOf(perHeadAttention))([q, k, v]);
  const ref = tf.grads(lossOf(batchedAttention))([q, k, v]);
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  assert.ok(maxDiff(perHeadAttention(q, k, v, bias), batchedAttention(q, k, v, bias)) < 1e-5);
  ours.forEach((g, i) => assert.ok(maxDiff(g, ref[i]) < 1e-5, `gradient ${'qkv'[i]}`));
  tf.dispose([q, k, v, bias, weights, ...ours, ...ref]);
});
