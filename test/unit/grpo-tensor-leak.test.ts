// 200 GRPO steps with the real pieces of server/src/grpo/ (rollout with KV-cache sampling and
// rewards, frozen log-probs of pi_old and of a reference model, clipped update with KL) must
// leave the tfjs tensor count where it was after the first step: a per-step leak of even one
// tensor would grow without bound over a long RL run.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadRl } from '../../server/src/data/loaders';
import { groupAdvantages } from '../../server/src/grpo/advantages';
import { GRPO_DEFAULTS } from '../../server/src/grpo/config';
import { frozenLogProbs } from '../../server/src/grpo/logprobs';
import { rollout } from '../../server/src/grpo/rollout';
import { grpoUpdate } from '../../server/src/grpo/update';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { RewardSet } from '../../server/src/rewards';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { EpochSampler, pairBatch } from '../../server/src/train/batches';
import { AdamW } from '../../server/src/train/optimizer';
import { Rng } from '../../server/src/util/rng';
import { testBackend } from '../helpers/backend';

before(testBackend);

const STEPS = 200;

test(`tensor count is flat over ${STEPS} GRPO steps (tiny preset)`, { timeout: 120_000 }, async () => {
  const tok = new Tokenizer();
  const config = presetConfig('tiny', tok.vocabSize);
  const policy = new GPT(config, 1);
  const ref = new GPT(config, 2);
  const opt = new AdamW(policy.params);
  const rng = new Rng(3);
  const sampler = new EpochSampler(loadRl(path.join(__dirname, '..', '..', 'samples', 'rl-prompts.jsonl')), rng);
  const rewards = new RewardSet(GRPO_DEFAULTS.rewards);
  const G = 2;
  const maxCompletionLength = 6;
  const update = {
    epsilonLow: 0.2,
    epsilonHigh: 0.28,
    beta: 0.04, // > 0 so the reference log-probs and the KL term are part of every step
    lossType: GRPO_DEFAULTS.lossType,
    maxCompletionLength,
    maxGradNorm: 1,
  };

  let afterFirst = 0;
  for (let step = 1; step <= STEPS; step++) {
    const groups = await rollout(
      policy,
      tok,
      rewards,
      sampler.next(2),
      { numGenerations: G, maxCompletionLength, temperature: 1, topK: 0, topP: 1 },
      rng,
    );
    const batch = pairBatch(
      groups.flatMap((g) => g.completions.map((c) => ({ prompt: g.promptIds, completion: c.ids }))),
      tok.pad,
      config.contextLength,
    );
    // Random rewards would be all-zero on an untrained model; fixed non-zero advantages keep the
    // loss (and its gradient) non-trivial.
    const advantages = groupAdvantages(
      groups.map((g) => g.completions.map((_, j) => j)),
      'group',
    ).flat();
    // Two iterations, the second with rho != 1 against pi_old, as with numIterations = 2.
    const oldLogp = frozenLogProbs(policy, batch);
    const refLogp = frozenLogProbs(ref, batch);
    await grpoUpdate(policy, opt, batch, advantages, update, 1e-3, undefined, refLogp);
    const r = await grpoUpdate(policy, opt, batch, advantages, update, 1e-3, oldLogp, refLogp);
    tf.dispose([oldLogp, refLogp]);
    assert.ok(Number.isFinite(r.loss), `loss at step ${step} is ${r.loss}`);
    if (step === 1) afterFirst = tf.memory().numTensors;
  }
  const afterLast = tf.memory().numTensors;
  assert.equal(afterLast, afterFirst, `tensors after step 1: ${afterFirst}, after step ${STEPS}: ${afterLast}`);
  policy.dispose();
  ref.dispose();
  opt.dispose();
});
