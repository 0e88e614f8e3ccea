// Gradient accumulation over micro-batches must give the very update one pass over the whole
// batch gives, for every loss type (the per-chunk scaling is what this checks).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { frozenLogProbs } from '../../server/src/grpo/logprobs';
import { LossType } from '../../server/src/grpo/loss';
import { grpoUpdate } from '../../server/src/grpo/update';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { pairBatch } from '../../server/src/train/batches';
import { AdamW } from '../../server/src/train/optimizer';
import { testBackend } from '../helpers/backend';

before(testBackend);
const tok = new Tokenizer();

const batch = pairBatch(
  ['1+1', '22+3', '9*9', '100-1', '7+70', '8'].map((p, i) => ({
    prompt: tok.encode(`What is ${p}?`),
    completion: tok.encode('<think>x</think><answer>'.slice(0, 6 + 3 * i)),
  })),
  tok.pad,
  64,
);
const advantages = [1, -0.5, 0.25, 0, -1, 0.75];

async function update(preset: string, lossType: LossType, microBatchRows: number) {
  const config = presetConfig(preset, tok.vocabSize);
  // MoE capacity depends on how many tokens a pass routes; with room for all, chunks drop nothing
  // and must match exactly (with drops they legitimately differ).
  if (config.moe) config.moe.capacityFactor = 100;
  const model = new GPT(config, 3);
  const opt = new AdamW(model.params);
  const ref = frozenLogProbs(model, batch, 4);
  const old = tf.tidy(() => tf.add(ref, 0.05) as tf.Tensor2D); // rho != 1, so clipping can happen
  const cfg = { epsilonLow: 0.02, epsilonHigh: 0.03, beta: 0.04, lossType, maxCompletionLength: 20, maxGradNorm: 1e9 };
  const r = await grpoUpdate(model, opt, batch, advantages, { ...cfg, microBatchRows }, 1e-2, old, ref);
  const params = Object.fromEntries([...model.params].map(([n, v]) => [n, Array.from(v.dataSync())]));
  tf.dispose([ref, old]);
  model.dispose();
  opt.dispose();
  return { r, params };
}

for (const preset of ['tiny', 'tiny-moe'])
  for (const lossType of ['grpo', 'dr_grpo', 'dapo'] as const) {
    test(`${lossType} (${preset}): micro-batches of 4 and 1 rows give the single pass's update`, async () => {
      const whole = await update(preset, lossType, 6);
      for (const rows of [4, 1]) {
        const split = await update(preset, lossType, rows);
        for (const k of ['loss', 'kl', 'entropy', 'clipLow', 'clipHigh', 'gradNorm'] as const)
          assert.ok(
            Math.abs(split.r[k] - whole.r[k]) < 1e-5 * Math.max(1, Math.abs(whole.r[k])),
            `${k}: ${split.r[k]} vs ${whole.r[k]}`,
          );
        for (const [name, values] of Object.entries(whole.params)) {
          const diff = values.reduce((d, v, i) => Math.max(d, Math.abs(v - split.params[name][i])), 0);
          assert.ok(diff < 1e-5, `${name} differs by ${diff} with ${rows}-row chunks`);
        }
      }
      assert.ok(whole.r.clipLow + whole.r.clipHigh > 0, 'some tokens were clipped: the clip figures are exercised');
    });
  }
