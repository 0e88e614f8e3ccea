import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { MoeConfig, parameterCounts, presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { capacityFor, droplessCapacity, moeFeedForward, MoeWeights, nudgeBias } from '../../server/src/model/moe';
import { batchMatMul, gatherRows } from '../../server/src/model/ops';
import { Rng } from '../../server/src/util/rng';
import { testBackend } from '../helpers/backend';

before(testBackend);

const C = 6;
const F = 4;
const cfg = (over: Partial<MoeConfig> = {}): MoeConfig => ({
  routedExperts: 4,
  sharedExperts: 1,
  topK: 2,
  expertHidden: F,
  capacityFactor: 1.25,
  biasUpdateRate: 0.01,
  balanceLossWeight: 0,
  ...over,
});

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 0.5): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rng.next() * 2 - 1) * scale));
}

/** Weights as plain arrays (for the by-hand reference) and as tensors. */
function makeWeights(rng: Rng, m: MoeConfig, bias: number[]) {
  const E = m.routedExperts;
  const plain = {
    router: randomMatrix(rng, C, E, 2),
    w1: Array.from({ length: E }, () => randomMatrix(rng, C, F)),
    w2: Array.from({ length: E }, () => randomMatrix(rng, F, C)),
    sharedW1: randomMatrix(rng, C, m.sharedExperts * F),
    sharedW2: randomMatrix(rng, m.sharedExperts * F, C),
    bias,
  };
  const tensors: MoeWeights = {
    router: tf.tensor2d(plain.router),
    w1: tf.tensor3d(plain.w1),
    w2: tf.tensor3d(plain.w2),
    sharedW1: m.sharedExperts > 0 ? tf.tensor2d(plain.sharedW1) : undefined,
    sharedW2: m.sharedExperts > 0 ? tf.tensor2d(plain.sharedW2) : undefined,
    bias: tf.tensor1d(bias),
  };
  return { plain, tensors };
}

const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
const vecMat = (v: number[], m: number[][]) => m[0].map((_, j) => v.reduce((a, x, i) => a + x * m[i][j], 0));
const mlp = (v: number[], w1: number[][], w2: number[][]) => vecMat(vecMat(v, w1).map(gelu), w2);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** One token through the layer, by hand: top-k by score + bias, gates = chosen scores normalised. */
function referenceToken(
  x: number[],
  w: ReturnType<typeof makeWeights>['plain'],
  m: MoeConfig,
  dropped = new Set<number>(),
) {
  const scores = vecMat(x, w.router).map(sigmoid);
  const order = scores.map((s, e) => e).sort((a, b) => scores[b] + w.bias[b] - (scores[a] + w.bias[a]));
  const chosen = order.slice(0, m.topK);
  const norm = chosen.reduce((a, e) => a + scores[e], 0);
  const y = m.sharedExperts > 0 ? mlp(x, w.sharedW1, w.sharedW2) : new Array<number>(C).fill(0);
  for (const e of chosen) {
    if (dropped.has(e)) continue;
    const out = mlp(x, w.w1[e], w.w2[e]);
    for (let j = 0; j < C; j++) y[j] += (scores[e] / norm) * out[j];
  }
  return { y, chosen, gates: chosen.map((e) => scores[e] / norm) };
}

test('gate weights sum to 1 over the chosen experts and follow score + bias', () => {
  const m = cfg({ topK: 3 });
  const rng = new Rng(1);
  const { plain, tensors } = makeWeights(rng, m, [0, 0.3, -0.2, 0]);
  const x = randomMatrix(rng, 9, C, 1);
  const out = tf.tidy(() => {
    const r = moeFeedForward(tf.tensor2d(x), tensors, m, { capacity: 9 });
    return { experts: r.experts.arraySync() as number[][], gates: r.gates.arraySync() as number[][] };
  });
  for (let n = 0; n < x.length; n++) {
    const ref = referenceToken(x[n], plain, m);
    assert.equal(out.gates[n].reduce((a, b) => a + b, 0).toFixed(5), '1.00000', `token ${n} gates ${out.gates[n]}`);
    assert.deepEqual(out.experts[n], ref.chosen, `token ${n}`);
    out.gates[n].forEach((g, k) => assert.ok(Math.abs(g - ref.gates[k]) < 1e-5));
  }
  tf.dispose(Object.values(tensors));
});

test('with a forced router the output is the chosen experts weighted sum, computed by hand', () => {
  for (const shared of [0, 2]) {
    const m = cfg({ sharedExperts: shared });
    const rng = new Rng(2 + shared);
    // The bias forces experts 3 and 1 for every token (selection only; gates still use the scores).
    const { plain, tensors } = makeWeights(rng, m, [0, 5, 0, 10]);
    const x = randomMatrix(rng, 5, C, 1);
    const y = tf.tidy(() => moeFeedForward(tf.tensor2d(x), tensors, m, { capacity: 5 }).y.arraySync());
    x.forEach((row, n) => {
      const ref = referenceToken(row, plain, m);
      assert.deepEqual(ref.chosen, [3, 1]);
      ref.y.forEach((v, j) => assert.ok(Math.abs(v - y[n][j]) < 1e-5, `token ${n} dim ${j}: ${v} vs ${y[n][j]}`));
    });
    tf.dispose(Object.values(tensors).filter((t) => t !== undefined));
  }
});

test('tokens over an expert capacity are dropped first come, first served, and counted', () => {
  const m = cfg({ sharedExperts: 0 });
  const rng = new Rng(3);
  const { plain, tensors } = makeWeights(rng, m, [10, 5, 0, 0]); // everyone picks experts 0 and 1
  const x = randomMatrix(rng, 4, C, 1);
  const out = tf.tidy(() => {
    const r = moeFeedForward(tf.tensor2d(x), tensors, m, { capacity: 3 });
    return {
      y: r.y.arraySync(),
      dropped: r.routing.dropped.dataSync()[0],
      load: Array.from(r.routing.load.dataSync()),
    };
  });
  assert.equal(out.dropped, 2); // token 3 loses both experts
  assert.deepEqual(out.load, [4, 4, 0, 0]); // load counts demand, before capacity
  for (let n = 0; n < 3; n++) {
    const ref = referenceToken(x[n], plain, m).y;
    ref.forEach((v, j) => assert.ok(Math.abs(v - out.y[n][j]) < 1e-5));
  }
  assert.ok(
    out.y[3].every((v) => v === 0),
    `token 3 should get nothing: ${out.y[3]}`,
  );
  assert.equal(capacityFor(cfg(), 100), Math.ceil((1.25 * 100 * 2) / 4));
  assert.equal(capacityFor(cfg({ capacityFactor: 100 }), 100), 100);
  tf.dispose(Object.values(tensors).filter((t) => t !== undefined));
});

test('the balance bias moves a skewed load toward uniform', () => {
  const m = cfg({ topK: 1, sharedExperts: 0 });
  const rng = new Rng(4);
  const { tensors } = makeWeights(rng, m, [0, 0, 0, 0]);
  tensors.router.dispose();
  // Expert 0's affinity is highest for every token: the router alone would send all load there.
  tensors.router = tf.tensor2d(
    Array.from({ length: C }, () => [0.8, 0.1, 0, -0.1]),
    [C, 4],
  );
  const x = tf.tensor2d(Array.from({ length: 64 }, () => Array.from({ length: C }, () => 0.5 + rng.next())));
  const maxShare = (bias: number[]) =>
    tf.tidy(() => {
      const b = tf.tensor1d(bias);
      const load = moeFeedForward(x, { ...tensors, bias: b }, m, { capacity: 64 }).routing.load.dataSync();
      return { load: Array.from(load), max: Math.max(...load) / 64 };
    });
  let bias = [0, 0, 0, 0];
  const first = maxShare(bias);
  assert.equal(first.max, 1, `skewed start: ${first.load}`);
  // Sign updates make the load oscillate around uniform; judge the average of the last 100 steps.
  const average = [0, 0, 0, 0];
  for (let step = 0; step < 400; step++) {
    const { load } = maxShare(bias);
    if (step >= 300) load.forEach((l, e) => (average[e] += l / 100 / 64));
    bias = nudgeBias(bias, load, m.biasUpdateRate);
  }
  assert.ok(Math.max(...average) < 0.4, `average shares after balancing: ${average}`);
  assert.ok(Math.min(...average) > 0.1, `every expert gets tokens: ${average}`);
  tf.dispose([x, ...Object.values(tensors).filter((t) => t !== undefined)]);
});

test('gatherRows and batchMatMul gradients match their definitions', () => {
  const table = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const idx = tf.tensor1d([2, 0, 2, 2], 'int32');
  const dy = tf.tensor2d([
    [1, 1],
    [2, 3],
    [10, 0],
    [0, 100],
  ]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, idx), dy)))(table);
  assert.deepEqual(g.arraySync(), [
    [2, 3],
    [0, 0],
    [11, 101],
  ]);
  const rng = new Rng(5);
  const a = tf.tensor3d([randomMatrix(rng, 3, 4), randomMatrix(rng, 3, 4)]);
  const b = tf.tensor3d([randomMatrix(rng, 4, 2), randomMatrix(rng, 4, 2)]);
  const ours = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
    tf.sum(tf.square(batchMatMul(p as tf.Tensor3D, q as tf.Tensor3D))),
  )([a, b]);
  const theirs = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
    tf.sum(tf.square(tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D))),
  )([a, b]);
  for (let i = 0; i < 2; i++) assert.ok(tf.max(tf.abs(tf.sub(ours[i], theirs[i]))).dataSync()[0] < 1e-5);
  tf.dispose([table, idx, dy, g, a, b, ...ours, ...theirs]);
});

test('the layer gradient matches finite differences, through the gates into the router', () => {
  const m = cfg();
  const rng = new Rng(6);
  const { tensors } = makeWeights(rng, m, [0, 0, 0, 0]);
  const x = tf.tensor2d(randomMatrix(rng, 6, C, 1));
  const target = tf.tensor2d(randomMatrix(rng, 6, C, 1));
  const lossOf = (router: tf.Tensor, w1: tf.Tensor) =>
    tf.sum(
      tf.square(
        tf.sub(
          moeFeedForward(x, { ...tensors, router: router as tf.Tensor2D, w1: w1 as tf.Tensor3D }, m, { capacity: 6 }).y,
          target,
        ),
      ),
    );
  const [gRouter, gW1] = tf.grads(lossOf)([tensors.router, tensors.w1]);
  const numeric = (which: 0 | 1, flat: number) => {
    const h = 1e-2;
    const base = [tensors.router, tensors.w1][which];
    const shifted = (d: number) =>
      tf.tidy(() => {
        const v = base.dataSync().slice();
        v[flat] += d;
        const t = tf.tensor(v, base.shape);
        return (which === 0 ? lossOf(t, tensors.w1) : lossOf(tensors.router, t)).dataSync()[0];
      });
    return (shifted(h) - shifted(-h)) / (2 * h);
  };
  // A small step can flip a top-k choice; pick entries whose numeric slope is stable.
  for (const [which, grad, flat] of [
    [0, gRouter, 1],
    [0, gRouter, 6],
    [1, gW1, 3],
    [1, gW1, 40],
  ] as const) {
    const analytic = grad.dataSync()[flat];
    const approx = numeric(which, flat);
    assert.ok(
      Math.abs(analytic - approx) < 2e-2 * Math.max(1, Math.abs(approx)),
      `${which}/${flat}: ${analytic} vs ${approx}`,
    );
  }
  assert.ok(tf.max(tf.abs(gRouter)).dataSync()[0] > 0, 'the router learns through the gates');
  tf.dispose([x, target, gRouter, gW1, ...Object.values(tensors).filter((t) => t !== undefined)]);
});

test('small-moe has the active parameters of small and about 4x its total', () => {
  const dense = parameterCounts(presetConfig('small', 265));
  const moe = parameterCounts(presetConfig('small-moe', 265));
  assert.equal(dense.total, dense.activePerToken);
  const activeRatio = moe.activePerToken / dense.activePerToken;
  assert.ok(activeRatio > 0.99 && activeRatio < 1.02, `active ratio ${activeRatio}`);
  const totalRatio = moe.total / dense.total;
  assert.ok(totalRatio > 3.5 && totalRatio < 4.5, `total ratio ${totalRatio}`);
  const model = new GPT(presetConfig('small-moe', 265), 1);
  assert.equal(model.parameterCount(), moe.total);
  model.dispose();
  const denseModel = new GPT(presetConfig('small', 265), 1);
  assert.equal(denseModel.parameterCount(), dense.total);
  denseModel.dispose();
});

test('a training step records routing, nudges the bias and does not train it by gradient', async () => {
  const model = new GPT(presetConfig('tiny-moe', 64), 7);
  const ids = tf.tensor2d(
    Array.from({ length: 4 }, (_, b) => Array.from({ length: 12 }, (_, t) => (b * 7 + t * 3) % 64)),
    undefined,
    'int32',
  );
  const { value, grads } = model.gradients(() => tf.mean(model.forward(ids as tf.Tensor2D).logits) as tf.Scalar);
  assert.ok(!('h0.moe.bias' in grads), 'the bias gets no gradient');
  assert.ok('h0.moe.router' in grads && 'h0.moe.w1' in grads && 'h0.moe.shared.w1' in grads);
  // The routing is read back (asynchronously) when the step finishes; a second micro-batch before
  // that (gradient accumulation) adds to the same record, and the bias moves once per step.
  assert.equal(model.lastMoeStats, undefined);
  const second = model.gradients(() => tf.mean(model.forward(ids as tf.Tensor2D).logits) as tf.Scalar);
  tf.dispose([second.value, ...Object.values(second.grads)]);
  await model.finishTrainingStep();
  const rate = model.config.moe!.biasUpdateRate;
  assert.ok(
    Array.from(model.params.get('h0.moe.bias')!.dataSync()).every((b) => Math.abs(b) <= rate + 1e-7),
    'one nudge per step',
  );
  const stats = model.lastMoeStats!;
  assert.equal(stats.load.length, 1);
  assert.equal(stats.load[0].reduce((a, b) => a + b, 0).toFixed(5), '1.00000');
  const bias = Array.from(model.params.get('h0.moe.bias')!.dataSync());
  assert.deepEqual(
    bias.map((b) => b.toFixed(6)),
    stats.bias[0].map((b) => b.toFixed(6)),
  );
  assert.ok(
    bias.some((b) => b !== 0),
    'the bias moved',
  );
  assert.ok(stats.routerEntropy > 0 && stats.routerEntropy <= Math.log(4) + 1e-6);
  assert.ok(stats.balanceLoss !== undefined && stats.balanceLoss > 0);
  // Inference leaves the bias and the stats alone.
  tf.tidy(() => model.forward(ids as tf.Tensor2D).logits);
  assert.deepEqual(Array.from(model.params.get('h0.moe.bias')!.dataSync()), bias);
  tf.dispose([ids, value, ...Object.values(grads)]);
  model.dispose();
});

test('inference capacity is the busiest expert load: nothing dropped, same output as room for every token', () => {
  const m = cfg({ routedExperts: 6, topK: 2 });
  const rng = new Rng(8);
  const { tensors } = makeWeights(rng, m, [0.4, 0, 0, 0, 0, 0]);
  const x = tf.tensor2d(randomMatrix(rng, 40, C, 1));
  const cap = droplessCapacity(x, tensors, m);
  const load = tf.tidy(() => Array.from(moeFeedForward(x, tensors, m, { capacity: 40 }).routing.load.dataSync()));
  assert.equal(cap, Math.max(...load));
  assert.ok(cap < 40, `the skewed router still leaves room to save: ${cap}`);
  const [tight, roomy, dropped] = tf.tidy(() => {
    const a = moeFeedForward(x, tensors, m, { capacity: cap });
    const b = moeFeedForward(x, tensors, m, { capacity: 40 });
    return [a.y.arraySync(), b.y.arraySync(), a.routing.dropped.dataSync()[0]];
  });
  assert.equal(dropped, 0);
  assert.deepEqual(tight, roomy);
  tf.dispose([x, ...Object.values(tensors).filter((t) => t !== undefined)]);
});
