// The WebGPU backend (Dawn) against the pure-JS cpu backend on the tiny GPT: same weights, same
// batch; forward logits, every gradient, and the losses of a few AdamW steps must agree.
//
// No GPU is needed: by default it runs on Dawn's OpenGL ES backend over Mesa's llvmpipe (CI's
// apt packages: libegl-dev libegl-mesa0 libgl1-mesa-dri). R1_WEBGPU_BACKEND=vulkan (or
// any Dawn backend) runs it on a real GPU instead. Without an adapter the test FAILS; it is
// skipped only when R1_SKIP_WEBGPU=1 says so.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../server/src/backend/backend';
import { adapterName } from '../../server/src/backend/select';
import { webgpuAdapter } from '../../server/src/backend/webgpu';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { LmBatch, lmLoss } from '../../server/src/train/lmStep';
import { AdamW } from '../../server/src/train/optimizer';
import { Rng } from '../../server/src/util/rng';

const SKIP = process.env.R1_SKIP_WEBGPU === '1';
if (SKIP) console.log('# webgpu parity: SKIPPED because R1_SKIP_WEBGPU=1');
// The CPU adapter that works on stock Debian Mesa, unless the caller picked a Dawn backend.
process.env.R1_WEBGPU_BACKEND ||= 'opengles';

const REL_TOL = 1e-4;
const STEPS = 4;
const LR = 3e-3;

interface Snapshot {
  shape: number[];
  values: Float32Array;
}

interface RunResult {
  logits: Float32Array;
  grads: Map<string, Float32Array>;
  /** Global gradient norm through one tf.addN over every parameter (as gradient clipping does). */
  gradNorm: number;
  losses: number[];
}

const tok = new Tokenizer();
const config = presetConfig('tiny', tok.vocabSize);

function makeBatch(seed: number, B: number, T: number): LmBatch {
  const rng = new Rng(seed);
  const rows = Array.from({ length: B }, () => Array.from({ length: T + 1 }, () => rng.int(0, tok.vocabSize - 1)));
  return {
    inputs: rows.map((r) => r.slice(0, -1)),
    targets: rows.map((r) => r.slice(1)),
    // Some masked positions, as in SFT (loss on completions only).
    mask: rows.map((r, b) => r.slice(1).map((_, t) => (t >= b ? 1 : 0))),
  };
}

/**
 * Runs on the current backend from the given weights: logits, gradients, then STEPS AdamW steps.
 * Reads only through `await data()` (the webgpu backend cannot read synchronously in Node).
 */
async function runOnCurrentBackend(weights: Map<string, Snapshot>, batch: LmBatch): Promise<RunResult> {
  const params = new Map<string, tf.Variable>();
  for (const [name, w] of weights) params.set(name, tf.variable(tf.tensor(w.values, w.shape, 'float32'), true));
  const model = new GPT(config, 0, params);
  try {
    const B = batch.inputs.length;
    const T = batch.inputs[0].length;
    const logitsT = tf.tidy(() => model.forward(tf.tensor2d(batch.inputs, [B, T], 'int32')).logits);
    const logits = (await logitsT.data()) as Float32Array;
    logitsT.dispose();

    const first = model.gradients(() => lmLoss(model, batch));
    const grads = new Map<string, Float32Array>();
    for (const [name, g] of Object.entries(first.grads)) grads.set(name, (await g.data()) as Float32Array);
    const normT = tf.tidy(() => tf.sqrt(tf.addN(Object.values(first.grads).map((g) => tf.sum(tf.mul(g, g))))));
    const gradNorm = (await normT.data())[0];
    normT.dispose();
    tf.dispose([first.value, ...Object.values(first.grads)]);

    const opt = new AdamW(model.params);
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const { value, grads: g } = model.gradients(() => lmLoss(model, batch));
      opt.apply(g, LR);
      losses.push((await value.data())[0]);
      tf.dispose([value, ...Object.values(g)]);
    }
    const after = tf.tidy(() => lmLoss(model, batch));
    losses.push((await after.data())[0]);
    after.dispose();
    opt.dispose();
    return { logits, grads, gradNorm, losses };
  } finally {
    model.dispose();
  }
}

/** max |a - b| / max |ref|, the error relative to the tensor's scale. */
function relDiff(ref: ArrayLike<number>, other: ArrayLike<number>): { rel: number; abs: number } {
  assert.equal(other.length, ref.length);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    abs = Math.max(abs, Math.abs(ref[i] - other[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return { rel: scale > 0 ? abs / scale : abs, abs };
}

let cpu: RunResult;
let gpu: RunResult;
let weights: Map<string, Snapshot>;
const batch = makeBatch(11, 4, 24);

before(async () => {
  if (SKIP) return;
  // Fails (does not skip) when Dawn has no adapter: the message names the packages to install.
  const started = Date.now();
  await initBackend('webgpu');
  const info = webgpuAdapter();
  console.log(
    `# webgpu adapter: ${info ? adapterName(info) : '?'} (${info?.description ?? ''}) via Dawn ${process.env.R1_WEBGPU_BACKEND}`,
  );

  await tf.setBackend('cpu');
  const init = new GPT(config, 5);
  weights = new Map();
  for (const [name, v] of init.params) weights.set(name, { shape: v.shape, values: (await v.data()) as Float32Array });
  init.dispose();
  const t0 = Date.now();
  cpu = await runOnCurrentBackend(weights, batch);
  const t1 = Date.now();

  await tf.setBackend('webgpu');
  gpu = await runOnCurrentBackend(weights, batch);
  console.log(`# cpu run ${t1 - t0} ms, webgpu run ${Date.now() - t1} ms, total ${Date.now() - started} ms`);
  await tf.setBackend('cpu');
});

test('webgpu: forward logits match the cpu backend', { skip: SKIP && 'R1_SKIP_WEBGPU=1' }, () => {
  assert.equal(cpu.logits.length, batch.inputs.length * batch.inputs[0].length * tok.vocabSize);
  const d = relDiff(cpu.logits, gpu.logits);
  console.log(`# logits: max abs diff ${d.abs.toExponential(2)}, relative ${d.rel.toExponential(2)}`);
  assert.ok(d.rel <= REL_TOL, `logits differ by ${d.rel} relative`);
});

test('webgpu: every gradient matches the cpu backend', { skip: SKIP && 'R1_SKIP_WEBGPU=1' }, () => {
  assert.deepEqual([...gpu.grads.keys()].sort(), [...cpu.grads.keys()].sort());
  assert.equal(cpu.grads.size, GPT.paramNames(config).length);
  let worst = { name: '', rel: 0, abs: 0 };
  for (const [name, ref] of cpu.grads) {
    const d = relDiff(ref, gpu.grads.get(name)!);
    if (d.rel >= worst.rel) worst = { name, ...d };
    assert.ok(d.rel <= REL_TOL, `gradient of ${name} differs by ${d.rel} relative (${d.abs} absolute)`);
  }
  console.log(
    `# gradients: worst ${worst.name}, max abs diff ${worst.abs.toExponential(2)}, relative ${worst.rel.toExponential(2)}`,
  );
});

test(
  'webgpu: the global gradient norm (tf.addN over every gradient) matches',
  { skip: SKIP && 'R1_SKIP_WEBGPU=1' },
  () => {
    // More inputs than a shader may bind storage buffers: the backend sums them in chunks.
    assert.ok(cpu.grads.size > 8);
    const d = relDiff([cpu.gradNorm], [gpu.gradNorm]);
    console.log(`# grad norm cpu ${cpu.gradNorm.toFixed(7)}, webgpu ${gpu.gradNorm.toFixed(7)}`);
    assert.ok(cpu.gradNorm > 0 && d.rel <= REL_TOL, `grad norms ${cpu.gradNorm} vs ${gpu.gradNorm}`);
  },
);

test(`webgpu: ${STEPS} AdamW steps give the same losses`, { skip: SKIP && 'R1_SKIP_WEBGPU=1' }, () => {
  assert.equal(gpu.losses.length, STEPS + 1);
  const d = relDiff(cpu.losses, gpu.losses);
  console.log(`# losses cpu ${cpu.losses.map((l) => l.toFixed(6)).join(' ')}`);
  console.log(`# losses gpu ${gpu.losses.map((l) => l.toFixed(6)).join(' ')} (max rel diff ${d.rel.toExponential(2)})`);
  assert.ok(cpu.losses[STEPS] < cpu.losses[0], 'the steps lower the loss');
  assert.ok(d.rel <= REL_TOL, `losses differ by ${d.rel} relative`);
});
