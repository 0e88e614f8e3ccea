import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  groupAdvantages,
  groupRewardMetrics,
  scaleNegativeAdvantages,
  zeroStdGroups,
} from '../../server/src/grpo/advantages';
import { mean, nanMeanStd, stdUnbiased } from '../../server/src/grpo/stats';

const EPS = 1e-4;

function assertClose(actual: number[][], expected: number[][], tol = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i].length);
    row.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) <= tol, `[${i}][${j}] ${v} != ${expected[i][j]}`));
  });
}

// Three groups of G = 4:
//   g0 = [1, 0, 0, 1]: mean 0.5, deviations +-0.5, sum of squares 1, unbiased var 1/3, std sqrt(1/3) = 0.57735
//   g1 = [2, 0, 0, 0]: mean 0.5, deviations 1.5, -0.5 x3, sum of squares 2.25 + 0.75 = 3, var 3/3 = 1, std 1
//   g2 = [1, 1, 1, 1]: all equal -> std 0 -> advantage 0
const REWARDS = [
  [1, 0, 0, 1],
  [2, 0, 0, 0],
  [1, 1, 1, 1],
];

test('stats: mean and unbiased std (torch .std(), n - 1)', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  // deviations -1.5 -0.5 0.5 1.5 -> squares 2.25 0.25 0.25 2.25 = 5 -> 5 / 3
  assert.ok(Math.abs(stdUnbiased([1, 2, 3, 4]) - Math.sqrt(5 / 3)) < 1e-12);
  assert.equal(stdUnbiased([7]), 0);
  assert.equal(mean([]), 0);
  assert.deepEqual(nanMeanStd([1, NaN, 3]), { mean: 2, std: Math.SQRT2 });
});

test("scale 'group': divide by each group's own std + 1e-4", () => {
  const s0 = Math.sqrt(1 / 3) + EPS; // 0.57745
  const s1 = 1 + EPS; // 1.0001
  assertClose(groupAdvantages(REWARDS, 'group'), [
    [0.5 / s0, -0.5 / s0, -0.5 / s0, 0.5 / s0], // +-0.86588
    [1.5 / s1, -0.5 / s1, -0.5 / s1, -0.5 / s1], // 1.49985, -0.49995
    [0, 0, 0, 0],
  ]);
  assert.ok(Math.abs(groupAdvantages(REWARDS, 'group')[0][0] - 0.865875) < 1e-6);
});

test("scale 'batch': centre per group, divide by the std of all 12 rewards", () => {
  // all rewards: six 1s, five 0s, one 2 -> sum 8, mean 2/3
  // squared deviations: 6 * (1/3)^2 + 5 * (2/3)^2 + (4/3)^2 = (6 + 20 + 16) / 9 = 42/9
  // unbiased var = (42/9) / 11 = 14/33, std = sqrt(14/33) = 0.651339
  const s = Math.sqrt(14 / 33) + EPS;
  assertClose(groupAdvantages(REWARDS, 'batch'), [
    [0.5 / s, -0.5 / s, -0.5 / s, 0.5 / s],
    [1.5 / s, -0.5 / s, -0.5 / s, -0.5 / s],
    [0, 0, 0, 0],
  ]);
});

test("scale 'none': only centre (Dr. GRPO)", () => {
  assertClose(groupAdvantages(REWARDS, 'none'), [
    [0.5, -0.5, -0.5, 0.5],
    [1.5, -0.5, -0.5, -0.5],
    [0, 0, 0, 0],
  ]);
});

test('custom eps', () => {
  // g1 with eps 0: exactly (r - 0.5) / 1
  assertClose(groupAdvantages([[2, 0, 0, 0]], 'group', 0), [[1.5, -0.5, -0.5, -0.5]]);
});

test('zero-std groups give exactly 0, never NaN, in every mode', () => {
  // 0.1 * 3 / 3 != 0.1 in floating point: the mean alone would leave ~1e-17 / 1e-4 = 1e-13
  const flat = [[0.1, 0.1, 0.1], [5], [], [0, 0]];
  for (const scale of ['group', 'batch', 'none'] as const) {
    const adv = groupAdvantages(flat, scale);
    assert.deepEqual(adv, [[0, 0, 0], [0], [], [0, 0]], scale);
  }
  // a single-reward batch: batch std of one value is 0, not NaN
  assert.deepEqual(groupAdvantages([[3]], 'batch'), [[0]]);
});

test('zeroStdGroups flags groups whose rewards are all equal', () => {
  assert.deepEqual(zeroStdGroups(REWARDS), [false, false, true]);
  assert.deepEqual(zeroStdGroups([[0.1, 0.1, 0.1], [1], [0, 1e-3]]), [true, true, false]);
  assert.deepEqual(zeroStdGroups([[0, 1e-3]], 1e-2), [true]);
});

test('groupRewardMetrics: reward, reward_std, frac_reward_zero_std as TRL logs them', () => {
  const m = groupRewardMetrics(REWARDS, 'group');
  assert.ok(Math.abs(m.reward - 8 / 12) < 1e-12);
  // group stds sqrt(1/3), 1, 0, each weighted by its 4 completions -> mean of the three
  assert.ok(Math.abs(m.reward_std - (Math.sqrt(1 / 3) + 1 + 0) / 3) < 1e-12);
  assert.ok(Math.abs(m.frac_reward_zero_std - 1 / 3) < 1e-12);
  assert.ok(Math.abs(groupRewardMetrics(REWARDS, 'batch').reward_std - Math.sqrt(14 / 33)) < 1e-12);
});

test('scaleNegativeAdvantages keeps positives and scales negatives', () => {
  // group [1, 0, 0, 1] -> advantages about [+0.866, -0.866, -0.866, +0.866]
  const adv = groupAdvantages([[1, 0, 0, 1]], 'group')[0];
  assert.deepEqual(scaleNegativeAdvantages(adv, 0), [adv[0], 0, 0, adv[3]]);
  assert.deepEqual(scaleNegativeAdvantages(adv, 0.5), [adv[0], adv[1] / 2, adv[2] / 2, adv[3]]);
  assert.deepEqual(scaleNegativeAdvantages(adv, 1), adv);
});
