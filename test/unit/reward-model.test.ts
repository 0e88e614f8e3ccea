// The reward model: Bradley–Terry loss, last-token scoring, learning a separable preference,
// its checkpoint, and the preference reward rl-all scores general prompts with.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint, TrainState } from '../../server/src/checkpoint/checkpoint';
import { loadRewardModel, saveRewardModel } from '../../server/src/checkpoint/rewardModelCheckpoint';
import { RlExample } from '../../server/src/data/records';
import { Group } from '../../server/src/grpo/rollout';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { bradleyTerryLoss, pairAccuracy, RewardModel } from '../../server/src/model/rewardModel';
import { preferenceReward, scoreExtraRewards } from '../../server/src/stages/extraRewards';
import { evaluatePairs, pairRows, rewardModelStep, splitByPrompt } from '../../server/src/stages/rewardModelStage';
import { preferenceActive } from '../../server/src/stages/rlAllStage';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { AdamW } from '../../server/src/train/optimizer';
import { testBackend } from '../helpers/backend';

const tok = new Tokenizer();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-rm-'));
before(testBackend);
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tinyRm = (seed: number) => new RewardModel(new GPT(presetConfig('tiny', tok.vocabSize), seed), undefined, seed);
const state = (step = 0): TrainState => ({
  stage: 'reward-model',
  step,
  totalSteps: 10,
  done: false,
  seed: 1,
  rngState: 5,
  optimizer: null,
  optimizerStep: 0,
});

test('Bradley–Terry loss equals the mean of -log σ(r_chosen - r_rejected), and so does its gradient', () => {
  const chosen = tf.variable(tf.tensor1d([2, 0, -1]));
  const rejected = tf.tensor1d([1, 0, 1]);
  // margins 1, 0, -2: log(1 + e^-1), log 2, log(1 + e^2)
  const hand = (Math.log1p(Math.exp(-1)) + Math.log(2) + Math.log1p(Math.exp(2))) / 3;
  const { value, grads } = tf.variableGrads(() => bradleyTerryLoss(chosen, rejected), [chosen]);
  assert.ok(Math.abs(value.dataSync()[0] - hand) < 1e-5, `${value.dataSync()[0]} vs ${hand}`);
  // d/dc of -log σ(c - r) / n is -σ(r - c) / n.
  const sigma = (x: number) => 1 / (1 + Math.exp(-x));
  const expected = [-sigma(-1) / 3, -sigma(0) / 3, -sigma(2) / 3];
  const got = grads[chosen.name].dataSync();
  expected.forEach((e, i) => assert.ok(Math.abs(got[i] - e) < 1e-5, `grad[${i}] ${got[i]} vs ${e}`));
  tf.dispose([value, chosen, rejected, ...Object.values(grads)]);
  assert.equal(pairAccuracy([2, 0, -1], [1, 0, 1]), 0.5, 'one right, one tie (half), one wrong');
});

test('the score is read at each row’s last real token: padding after it changes nothing, the last token does', async () => {
  const rm = tinyRm(3);
  const a = [tok.id('<|user|>'), 72, 105, tok.id('<|assistant|>'), 111, tok.eos];
  const b = [tok.id('<|user|>'), 72, tok.eos];
  const [alone] = await rm.score([a], tok.pad);
  const batched = await rm.score([b, a, [...b, 200]], tok.pad);
  assert.ok(Math.abs(alone - batched[1]) < 1e-5, `${alone} vs ${batched[1]} (a padded inside a batch)`);
  assert.ok(Math.abs(batched[0] - batched[2]) > 1e-6, 'a different last token gives a different score');
  const manual = tf.tidy(() => {
    const { hidden } = rm.gpt.forwardHidden(tf.tensor2d([a], [1, a.length], 'int32'));
    return tf.matMul(hidden.slice([a.length - 1, 0], [1, -1]), rm.head).dataSync()[0];
  });
  assert.ok(Math.abs(manual - alone) < 1e-5, `${manual} vs ${alone}: head(hidden at the last token)`);
  rm.dispose();
});

test('a few Bradley–Terry steps raise held-out pair accuracy on a separable toy set, without leaking tensors', async () => {
  const rm = tinyRm(4);
  const opt = new AdamW(rm.params);
  const prompts = Array.from({ length: 24 }, (_, i) => `Is ${i * 7} a number?`);
  const pairs = prompts.map((prompt, line) => ({ prompt, chosen: 'Yes, it is.', rejected: 'no', line }));
  const { train, heldOut } = splitByPrompt(pairs, 0.25, 7);
  const before = (await evaluatePairs(rm, tok, heldOut)).pair_accuracy;
  let count = 0;
  for (let step = 0; step < 25; step++) {
    const batch = train.slice((step * 6) % train.length, ((step * 6) % train.length) + 6);
    await rewardModelStep(rm, opt, pairRows(batch, tok, 96), tok.pad, 3e-3, 1);
    if (step === 4) count = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, count, 'tensor count is flat across steps');
  const afterFigures = await evaluatePairs(rm, tok, heldOut);
  assert.ok(
    afterFigures.pair_accuracy === 1 && afterFigures.pair_accuracy > before,
    `${before} -> ${afterFigures.pair_accuracy}`,
  );
  assert.ok(afterFigures.margin > 0);
  opt.dispose();
  rm.dispose();
});

test('the held-out split is by prompt, seeded, and never empty on either side', () => {
  const pairs = ['a', 'a', 'b', 'c', 'c', 'd', 'e'].map((prompt, line) => ({
    prompt,
    chosen: 'x',
    rejected: 'y',
    line,
  }));
  const one = splitByPrompt(pairs, 0.4, 1);
  const again = splitByPrompt(pairs, 0.4, 1);
  assert.deepEqual(one, again);
  const held = new Set(one.heldOut.map((p) => p.prompt));
  assert.equal(held.size, 2, '40% of 5 prompts');
  assert.ok(
    one.train.every((p) => !held.has(p.prompt)),
    'no prompt on both sides',
  );
  assert.equal(one.train.length + one.heldOut.length, pairs.length);
  assert.equal(splitByPrompt(pairs, 0, 1).heldOut.length, 0);
  assert.equal(splitByPrompt(pairs.slice(0, 2), 0.9, 1).train.length, 2, 'one prompt is never all held out');
});

test('a reward-model checkpoint round-trips its scores and is not mistaken for a policy (or the reverse)', async () => {
  const rm = tinyRm(5);
  const dir = path.join(tmp, 'rm');
  await saveRewardModel(dir, rm, tok, state(3));
  const loaded = loadRewardModel(dir);
  const rows = [[tok.id('<|user|>'), 50, 51, tok.eos]];
  assert.ok(Math.abs((await rm.score(rows, tok.pad))[0] - (await loaded.model.score(rows, tok.pad))[0]) < 1e-6);
  assert.equal(loaded.state.step, 3);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(config.kind, 'reward-model');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.ok(manifest.weightsManifest[0].weights.some((w: { name: string }) => w.name === 'rm.head'));
  assert.throws(() => loadCheckpoint(dir), /reward-model checkpoint/);
  const policy = path.join(tmp, 'policy');
  await saveCheckpoint(policy, rm.gpt, tok, state());
  assert.throws(() => loadRewardModel(policy), /not a reward-model checkpoint/);
  rm.dispose();
  loaded.model.dispose();
});

test('the preference reward scores general records only, batched, and only in its active steps', async () => {
  const rm = tinyRm(6);
  const fn = preferenceReward(rm, tok);
  const general: RlExample = { prompt: 'Write one sentence about the sea.', answer: '', task: 'general', line: 1 };
  const math: RlExample = { prompt: 'What is 1 + 2?', answer: '3', task: 'math', line: 2 };
  const completion = (text: string) => ({
    text,
    ids: tok.encode(text),
    truncated: false,
    scores: { rewards: { format: 0 }, total: 0.5 },
  });
  const groups: Group[] = [
    { example: general, promptIds: [], completions: [completion('The sea is wide.'), completion('sea')] },
    { example: math, promptIds: [], completions: [completion('<answer>3</answer>')] },
  ];
  const extra = {
    name: 'preference',
    weight: 2,
    fn,
    applies: (ex: RlExample, step: number) => ex.task === 'general' && preferenceActive(step, 10, 4),
  };
  await scoreExtraRewards(groups, [extra], 5);
  assert.ok(
    groups.flatMap((g) => g.completions).every((c) => !('preference' in c.scores.rewards)),
    'off before the last 4 of 10 steps',
  );
  const score = rm.score.bind(rm);
  let calls = 0;
  rm.score = (rows, pad, size) => (calls++, score(rows, pad, size));
  await scoreExtraRewards(groups, [extra], 6);
  assert.equal(calls, 1, 'both completions scored in one batch');
  rm.score = score;
  const expected = await rm.score(
    ['The sea is wide.', 'sea'].map((c) => RewardModel.encode(tok, general.prompt, c, 96)),
    tok.pad,
  );
  groups[0].completions.forEach((c, i) => {
    assert.ok(Math.abs(c.scores.rewards.preference - expected[i]) < 1e-5);
    assert.ok(Math.abs(c.scores.total - (0.5 + 2 * expected[i])) < 1e-5, 'weighted into the total');
  });
  assert.ok(!('preference' in groups[1].completions[0].scores.rewards), 'a math record has no preference reward');
  assert.equal(preferenceActive(0, 10, 0), true, '0 = every step');
  await assert.rejects(async () => fn({ completion: 'x' }), /needs the record's prompt/);
  rm.dispose();
});
