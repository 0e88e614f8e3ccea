// The wasm backend's Slice, SplitV and Unpack are replaced (server/src/backend/wasmSlice.ts); they
// must give exactly what the reference cpu backend gives, for every rank and kind of cut.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../server/src/backend/backend';
import { Rng } from '../../server/src/util/rng';

before(async () => {
  await initBackend('wasm');
});

/** Runs f on the cpu backend and on wasm with the same input values. */
async function onBoth<T>(shape: number[], dtype: 'float32' | 'int32', f: (x: tf.Tensor) => T, read: (r: T) => unknown) {
  const rng = new Rng(shape.reduce((a, b) => a * 31 + b, 7));
  const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
    dtype === 'int32' ? rng.int(-50, 50) : rng.next(),
  );
  const results: unknown[] = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const x = tf.tensor(values, shape, dtype);
    results.push(read(f(x)));
    tf.dispose(x);
  }
  await tf.setBackend('wasm');
  return results;
}

test('slice matches the cpu backend for ranks 1-5, contiguous and strided cuts', async () => {
  const cases: [number[], number[], number[]][] = [
    [[7], [2], [3]],
    [
      [4, 5],
      [1, 0],
      [2, 5],
    ], // whole rows: one run
    [
      [4, 5],
      [1, 2],
      [3, 2],
    ], // strided
    [
      [3, 4, 6],
      [1, 1, 0],
      [2, 2, 6],
    ],
    [
      [3, 4, 6],
      [0, 0, 3],
      [3, 4, 3],
    ], // the last axis cut: RoPE's halves
    [
      [2, 3, 4, 5],
      [1, 0, 1, 2],
      [1, 3, 2, 3],
    ],
    [
      [2, 2, 2, 3, 2],
      [0, 1, 0, 1, 0],
      [2, 1, 2, 2, 2],
    ],
    [
      [4, 5],
      [0, 0],
      [0, 5],
    ], // empty
  ];
  for (const [shape, begin, size] of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      const [cpu, wasm] = await onBoth(
        shape,
        dtype,
        (x) => tf.slice(x, begin, size),
        (r) => r.arraySync(),
      );
      assert.deepEqual(wasm, cpu, `slice ${shape} at ${begin} size ${size} (${dtype})`);
    }
  }
});

test('split and unstack match the cpu backend on every axis', async () => {
  for (const axis of [0, 1, 2]) {
    const [cpu, wasm] = await onBoth(
      [4, 6, 2],
      'float32',
      (x) => tf.split(x, axis === 1 ? [1, 2, 3] : 2, axis),
      (r) => r.map((t) => [t.shape, t.arraySync()]),
    );
    assert.deepEqual(wasm, cpu, `split on axis ${axis}`);
    const [cpuU, wasmU] = await onBoth(
      [3, 4, 2],
      'float32',
      (x) => tf.unstack(x, axis),
      (r) => r.map((t) => [t.shape, t.arraySync()]),
    );
    assert.deepEqual(wasmU, cpuU, `unstack on axis ${axis}`);
  }
});

test('the gradients that use slicing (concat, split) still match the cpu backend', async () => {
  const [cpu, wasm] = await onBoth(
    [3, 8],
    'float32',
    (x) =>
      tf.grad((v: tf.Tensor) => {
        const [a, b] = tf.split(v, [3, 5], 1);
        return tf.sum(tf.mul(tf.concat([tf.square(b), a], 1), tf.range(0, 24).reshape([3, 8])));
      })(x),
    (r) => r.arraySync(),
  );
  assert.deepEqual(wasm, cpu);
});
