import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from '../../server/src/checkpoint/checkpoint';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { generate } from '../../server/src/model/sampling';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { pairBatch } from '../../server/src/train/batches';
import { trainStep } from '../../server/src/train/lmStep';
import { AdamW } from '../../server/src/train/optimizer';
import { Rng } from '../../server/src/util/rng';
import { testBackend } from '../helpers/backend';

const tok = new Tokenizer();
// Dense and Mixture-of-Experts models must behave the same in everything but the feed-forward.
const PRESETS_UNDER_TEST = ['tiny', 'tiny-moe'];
before(testBackend);

test('forward gives (B*T, V) logits and the preset sizes', () => {
  const model = new GPT(presetConfig('tiny', tok.vocabSize), 1);
  const logits = tf.tidy(
    () =>
      model.forward(
        tf.tensor2d(
          [
            [1, 2, 3, 4, 5],
            [6, 7, 8, 9, 10],
          ],
          [2, 5],
          'int32',
        ),
      ).logits,
  );
  assert.deepEqual(logits.shape, [10, tok.vocabSize]);
  assert.ok(logits.dataSync().every(Number.isFinite));
  logits.dispose();
  const small = new GPT(presetConfig('small', tok.vocabSize), 1);
  assert.ok(
    small.parameterCount() > 400_000 && small.parameterCount() < 600_000,
    `small has ${small.parameterCount()}`,
  );
  model.dispose();
  small.dispose();
});

for (const preset of PRESETS_UNDER_TEST)
  test(`causal: a later token does not change earlier logits (${preset})`, () => {
    const model = new GPT(presetConfig(preset, tok.vocabSize), 2);
    const [a, b] = tf.tidy(() => [
      model.forward(tf.tensor2d([[5, 6, 7, 8]], [1, 4], 'int32')).logits.slice([0, 0], [3, -1]),
      model.forward(tf.tensor2d([[5, 6, 7, 99]], [1, 4], 'int32')).logits.slice([0, 0], [3, -1]),
    ]);
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-5);
    tf.dispose([a, b]);
    model.dispose();
  });

for (const preset of PRESETS_UNDER_TEST)
  test(`KV-cache sampling matches full recomputation token for token (greedy and sampled, ragged prompts) (${preset})`, async () => {
    const model = new GPT(presetConfig(preset, tok.vocabSize), 3);
    const prompts = [tok.encode('What is 1 + 2?'), tok.encode('Hi'), tok.encode('What is 347 * 6?')];
    for (const temperature of [0, 1]) {
      const opts = { maxNewTokens: 30, temperature, topK: temperature ? 20 : 0, stopIds: [tok.eos], padId: tok.pad };
      const cached = await generate(model, prompts, { ...opts, rng: new Rng(7) });
      const full = await generate(model, prompts, { ...opts, rng: new Rng(7), noCache: true });
      assert.deepEqual(cached.tokens, full.tokens);
      assert.ok(cached.tokens.every((t) => t.length > 0));
    }
    model.dispose();
  });

for (const preset of PRESETS_UNDER_TEST)
  test(`a left-padded prompt samples the same as the same prompt alone (${preset})`, async () => {
    const model = new GPT(presetConfig(preset, tok.vocabSize), 4);
    const opts = { maxNewTokens: 12, temperature: 0, stopIds: [tok.eos], padId: tok.pad };
    const alone = await generate(model, [tok.encode('ab')], opts);
    const batched = await generate(model, [tok.encode('a much longer prompt'), tok.encode('ab')], opts);
    assert.deepEqual(batched.tokens[1], alone.tokens[0]);
    model.dispose();
  });

for (const preset of PRESETS_UNDER_TEST)
  test(`checkpoint round-trip gives the same logits and restores the optimizer (${preset})`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-ckpt-'));
    const model = new GPT(presetConfig(preset, tok.vocabSize), 5);
    const opt = new AdamW(model.params);
    const batch = pairBatch([{ prompt: tok.encode('x'), completion: tok.encode('yz') }], tok.pad, 90);
    await trainStep(model, opt, batch, 1e-3, 1);
    const state = {
      stage: 'test',
      step: 1,
      totalSteps: 2,
      done: false,
      seed: 1,
      rngState: 42,
      optimizer: null,
      optimizerStep: 0,
    };
    await saveCheckpoint(path.join(dir, 'ckpt'), model, tok, state, opt);
    for (const f of ['model.json', 'weights.bin', 'tokenizer.json', 'config.json', 'state.json'])
      assert.ok(fs.existsSync(path.join(dir, 'ckpt', f)), f);
    const loaded = loadCheckpoint(path.join(dir, 'ckpt'));
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(model.forward(ids).logits, loaded.model.forward(ids).logits))).dataSync()[0],
    );
    assert.equal(diff, 0);
    assert.equal(loaded.state.rngState, 42);
    assert.equal(loaded.state.optimizerStep, 1);
    const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'ckpt', 'model.json'), 'utf8'));
    assert.equal(modelJson.weightsManifest[0].weights.length, model.params.size);
    assert.deepEqual(loaded.model.config, model.config);
    ids.dispose();
    model.dispose();
    loaded.model.dispose();
    opt.dispose();
    assert.throws(() => loadCheckpoint(dir), /not a checkpoint folder/);
  });

for (const preset of PRESETS_UNDER_TEST)
  test(`tensor count does not grow over 50 training steps (${preset})`, async () => {
    const model = new GPT(presetConfig(preset, tok.vocabSize), 6);
    const opt = new AdamW(model.params);
    const rng = new Rng(1);
    const batch = () =>
      pairBatch(
        [0, 1, 2, 3].map(() => ({
          prompt: tok.encode(`q${rng.int(0, 99)}`),
          completion: tok.encode(`a${rng.int(0, 999)}`),
        })),
        tok.pad,
        90,
      );
    await trainStep(model, opt, batch(), 1e-3, 1);
    const before = tf.memory().numTensors;
    let first = Infinity;
    let last = 0;
    for (let i = 0; i < 50; i++) {
      const r = await trainStep(model, opt, batch(), 3e-3, 1);
      if (i === 0) first = r.loss;
      last = r.loss;
    }
    assert.equal(tf.memory().numTensors, before);
    assert.ok(last < first, `loss should fall: ${first} -> ${last}`);
    model.dispose();
    opt.dispose();
  });
