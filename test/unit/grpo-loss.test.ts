import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { grpoLoss, GrpoLossInputs, LossType } from '../../server/src/grpo/loss';
import { groupAdvantages } from '../../server/src/grpo/advantages';
import { Rng } from '../../server/src/util/rng';

const TOL = 1e-5; // float32

function close(actual: number, expected: number, msg = '', tol = TOL): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${msg} ${actual} != ${expected}`);
}

function closeAll(actual: number[][], expected: number[][], msg = ''): void {
  actual.forEach((row, i) => row.forEach((v, j) => close(v, expected[i][j], `${msg}[${i}][${j}]`)));
}

// Clipping example, eps_low = eps_high = 0.2 (band [0.8, 1.2]), three completions of unequal length:
//   row 0: A = +2, rho = [1.1, 1.5, 0.5], 3 tokens
//          min(rho*A, clip*A) = [min(2.2, 2.2), min(3.0, 2.4), min(1.0, 1.6)] = [2.2, 2.4 (clipped), 1.0]
//   row 1: A = -1, rho = [0.5], 1 token (2 pads holding -Infinity)
//          min(-0.5, -0.8) = -0.8 (clipped)
//   row 2: A = -1, rho = [0.9, 1.3], 2 tokens (1 pad)
//          [min(-0.9, -0.9), min(-1.3, -1.2)] = [-0.9, -1.3] (1.3 is above the band but A < 0: no clip)
// per-token loss = -min(...): row 0 [-2.2, -2.4, -1.0] (sum -5.6), row 1 [0.8], row 2 [0.9, 1.3] (sum 2.2)
const RHO = [
  [1.1, 1.5, 0.5],
  [0.5, 1, 1],
  [0.9, 1.3, 1],
];
const MASK = [
  [1, 1, 1],
  [1, 0, 0],
  [1, 1, 0],
];
const ADV = [2, -1, -1];
const CLIPPED = [
  [false, true, false],
  [true, false, false],
  [false, false, false],
];
const OLD = [
  [-0.3, -1.2, -2.0],
  [-0.7, 0, 0],
  [-1.5, -0.2, 0],
];
// log pi_theta = log pi_old + log rho on real tokens; padding holds -Infinity to prove it is ignored.
const LOGP = OLD.map((row, i) => row.map((o, t) => (MASK[i][t] ? o + Math.log(RHO[i][t]) : -Infinity)));

function inputs(lossType: LossType, over: Partial<GrpoLossInputs> = {}): GrpoLossInputs {
  return {
    logp: tf.tensor2d(LOGP),
    oldLogp: tf.tensor2d(OLD),
    advantages: tf.tensor1d(ADV),
    mask: tf.tensor2d(MASK),
    epsilonLow: 0.2,
    epsilonHigh: 0.2,
    beta: 0,
    lossType,
    maxCompletionLength: 4,
    ...over,
  };
}

/** Loss value, metrics and d loss / d logp, all as plain numbers. */
function run(x: GrpoLossInputs) {
  return tf.tidy(() => {
    const out = grpoLoss(x);
    const grad = tf.grad((lp: tf.Tensor) => grpoLoss({ ...x, logp: lp as tf.Tensor2D }).loss)(x.logp);
    return {
      loss: out.loss.dataSync()[0],
      kl: out.kl.dataSync()[0],
      clipLow: out.clipLow.dataSync()[0],
      clipHigh: out.clipHigh.dataSync()[0],
      clipRegion: out.clipRegion.dataSync()[0],
      grad: grad.arraySync() as number[][],
    };
  });
}

// Token normaliser of each row per loss type: grpo = tokens_i * N, dapo = all tokens (6), dr_grpo = N * 4 (12).
const NORM: Record<LossType, number[]> = { grpo: [9, 3, 6], dapo: [6, 6, 6], dr_grpo: [12, 12, 12] };

/** Expected gradient: 0 where clipped or padded, else d(-rho*A)/dlogp / norm = -A * rho / norm. */
function expectedGrad(lossType: LossType): number[][] {
  return RHO.map((row, i) =>
    row.map((rho, t) => (MASK[i][t] && !CLIPPED[i][t] ? (-ADV[i] * rho) / NORM[lossType][i] : 0)),
  );
}

test('loss value per loss type on unequal lengths (grpo != dapo != dr_grpo)', async () => {
  await tf.setBackend('cpu');
  // grpo: (-5.6/3 + 0.8/1 + 2.2/2) / 3 = (-1.866667 + 0.8 + 1.1) / 3 = 0.011111
  close(run(inputs('grpo')).loss, (-5.6 / 3 + 0.8 + 1.1) / 3, 'grpo');
  // dapo: (-5.6 + 0.8 + 2.2) / 6 tokens = -2.6 / 6 = -0.433333
  close(run(inputs('dapo')).loss, -2.6 / 6, 'dapo');
  // dapo with a batch-wide token count (gradient accumulation): -2.6 / 10
  close(run(inputs('dapo', { numItemsInBatch: 10 })).loss, -0.26, 'dapo/numItems');
  // dr_grpo: -2.6 / (N * maxCompletionLength) = -2.6 / (3 * 4) = -0.216667
  close(run(inputs('dr_grpo')).loss, -2.6 / 12, 'dr_grpo');
});

test('clip metrics: low = rho < 1-eps & A < 0, high = rho > 1+eps & A > 0, masked token means', async () => {
  await tf.setBackend('cpu');
  const r = run(inputs('grpo'));
  // low: row 1 token 0 (0.5, A<0); high: row 0 token 1 (1.5, A>0); row 2's 1.3 has A<0: neither. 6 tokens.
  close(r.clipLow, 1 / 6, 'low');
  close(r.clipHigh, 1 / 6, 'high');
  close(r.clipRegion, 2 / 6, 'region');
  close(r.kl, 0, 'kl without ref');
});

test('gradient: zero for clipped tokens and padding, -A*rho/normaliser inside the band', async () => {
  await tf.setBackend('cpu');
  for (const lossType of ['grpo', 'dapo', 'dr_grpo'] as const) {
    const r = run(inputs(lossType));
    closeAll(r.grad, expectedGrad(lossType), lossType);
    // e.g. grpo row 0 token 0: -2 * 1.1 / (3 tokens * 3 completions) = -0.244444
    if (lossType === 'grpo') close(r.grad[0][0], -0.244444, 'grpo[0][0]');
  }
});

// KL example: rho = 1 (oldLogp = logp), A = 0, so only beta * k3 remains. d = ref - logp:
//   d = ln 2:  k3 = 2 - ln 2 - 1   = 0.306853,  dk3/dlogp = 1 - e^d = -1
//   d = -ln 2: k3 = 0.5 + ln 2 - 1 = 0.193147,  dk3/dlogp = 0.5
//   d = 0:     k3 = 1 - 0 - 1      = 0,         dk3/dlogp = 0
const LN2 = Math.log(2);
const K3 = [2 - LN2 - 1, 0.5 + LN2 - 1, 0];
function klInputs(lossType: LossType, beta: number): GrpoLossInputs {
  const logp = [
    [-1, -2, -3],
    [-0.5, -9, -9],
  ];
  const ref = [
    [-1 + LN2, -2 - LN2, -3],
    [-0.5 + LN2, 5, 5], // row 1 pads: a large ref - logp must not leak in
  ];
  return {
    ...inputs(lossType),
    logp: tf.tensor2d(logp),
    oldLogp: tf.tensor2d(logp),
    refLogp: tf.tensor2d(ref),
    advantages: tf.tensor1d([0, 0]),
    mask: tf.tensor2d([
      [1, 1, 1],
      [1, 0, 0],
    ]),
    beta,
  };
}

test('k3 KL: metric, loss term and gradient against hand values', async () => {
  await tf.setBackend('cpu');
  const beta = 0.5;
  // kl metric = masked token mean: (0.306853 + 0.193147 + 0 + 0.306853) / 4 = 0.201713
  const klMean = (K3[0] + K3[1] + K3[2] + K3[0]) / 4;
  const g = run(klInputs('grpo', beta));
  close(g.kl, klMean, 'kl');
  // grpo: beta * mean(row means) = 0.5 * ((0.306853 + 0.193147 + 0) / 3 + 0.306853 / 1) / 2
  close(g.loss, (beta * ((K3[0] + K3[1] + K3[2]) / 3 + K3[0])) / 2, 'grpo kl loss');
  // gradient = beta * (1 - e^d) / (tokens_i * N): row 0 / 6, row 1 / 2
  closeAll(g.grad, [
    [(beta * -1) / 6, (beta * 0.5) / 6, 0],
    [(beta * -1) / 2, 0, 0],
  ]);
  close(run(klInputs('dapo', beta)).loss, beta * klMean, 'dapo kl loss');
  // beta = 0 with a ref: kl still reported, not in the loss
  const b0 = run(klInputs('dapo', 0));
  close(b0.kl, klMean, 'kl beta 0');
  close(b0.loss, 0, 'loss beta 0');
});

test('all-zero masks give finite zeros, not NaN', async () => {
  await tf.setBackend('cpu');
  for (const lossType of ['grpo', 'dapo', 'dr_grpo'] as const) {
    const r = run({
      ...klInputs(lossType, 0.1),
      mask: tf.zeros([2, 3]) as tf.Tensor2D,
      advantages: tf.tensor1d([1, -1]),
    });
    for (const v of [r.loss, r.kl, r.clipLow, r.clipHigh, r.clipRegion, ...r.grad.flat()]) assert.equal(v, 0, lossType);
  }
  // one masked (truncated) completion among real ones counts in grpo's mean over completions, as TRL's .mean()
  const r = run({ ...inputs('grpo'), mask: tf.tensor2d([MASK[0], [0, 0, 0], MASK[2]]) });
  close(r.loss, (-5.6 / 3 + 0 + 1.1) / 3, 'grpo with a masked row');
});

test('bandit: GRPO raises the probability of the only rewarded completion', async () => {
  await tf.setBackend('cpu');
  // A softmax policy over 4 single-token "completions"; only #2 is rewarded.
  const logits = tf.variable(tf.tensor1d([0.5, 0.2, -0.3, 0.1]));
  const prob2 = (): number => tf.tidy(() => tf.softmax(logits).dataSync()[2]);
  const before = prob2();
  const rng = new Rng(1234);
  const opt = tf.train.adam(0.1);
  const groups = 4;
  const g = 8;
  for (let step = 0; step < 15; step++) {
    const probs = tf.tidy(() => Array.from(tf.softmax(logits).dataSync()));
    const actions: number[][] = [];
    for (let p = 0; p < groups; p++) {
      actions.push(
        Array.from({ length: g }, () => {
          let u = rng.next();
          for (let a = 0; a < 3; a++) if ((u -= probs[a]) < 0) return a;
          return 3;
        }),
      );
    }
    const adv = groupAdvantages(
      actions.map((grp) => grp.map((a) => (a === 2 ? 1 : 0))),
      'group',
    ).flat();
    const flat = actions.flat();
    tf.tidy(() => {
      const onehot = tf.oneHot(tf.tensor1d(flat, 'int32'), 4).toFloat();
      // (N, 1) log-prob of each sampled completion's single token, via oneHot (no gather on wasm)
      const pick = (): tf.Tensor2D => tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1, true) as tf.Tensor2D;
      const old = tf.tensor2d(pick().dataSync(), [flat.length, 1]); // constant pi_old (num_iterations = 1)
      const mask = tf.ones([flat.length, 1]) as tf.Tensor2D;
      opt.minimize(
        () =>
          grpoLoss({
            logp: pick(),
            oldLogp: old,
            advantages: tf.tensor1d(adv),
            mask,
            epsilonLow: 0.2,
            epsilonHigh: 0.28,
            beta: 0,
            lossType: 'dapo',
            maxCompletionLength: 1,
          }).loss,
        false,
        [logits],
      );
    });
  }
  const after = prob2();
  assert.ok(after > 0.5 && after > before + 0.3, `p(#2) ${before.toFixed(3)} -> ${after.toFixed(3)}`);
  opt.dispose();
  logits.dispose();
});

test('wasm backend: loss, metrics and gradients match the hand values', async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  assert.ok(await tf.setBackend('wasm'), 'wasm backend initialises');
  assert.equal(tf.getBackend(), 'wasm');
  for (const lossType of ['grpo', 'dapo', 'dr_grpo'] as const) {
    const r = run(inputs(lossType));
    closeAll(r.grad, expectedGrad(lossType), `wasm ${lossType}`);
    close(r.clipRegion, 2 / 6, 'wasm region');
  }
  close(run(inputs('dapo')).loss, -2.6 / 6, 'wasm dapo');
  const k = run(klInputs('grpo', 0.5));
  closeAll(k.grad, [
    [-0.5 / 6, 0.25 / 6, 0],
    [-0.5 / 2, 0, 0],
  ]);
  await tf.setBackend('cpu');
});
