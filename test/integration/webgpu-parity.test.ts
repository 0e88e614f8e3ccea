// The WebGPU backend (Dawn) against the pure-JS cpu backend on the tiny GPT: same weights, same
// batch; forward logits, every gradient, and the losses of a few AdamW steps must agree. End to
// end: the real `trainStep` (dense and MoE) gives the same losses and gradient norms without
// leaking tensors, `generate` with the KV cache gives the same greedy tokens, and
// `r1 run pretrain --backend webgpu` trains a few steps through the built CLI.
//
// No GPU is needed: by default it runs on Dawn's OpenGL ES backend over Mesa's llvmpipe (CI's
// apt packages: libegl-dev libegl-mesa0 libgl1-mesa-dri). R1_WEBGPU_BACKEND=vulkan (or
// any Dawn backend) runs it on a real GPU instead. Without an adapter the test FAILS; it is
// skipped only when R1_SKIP_WEBGPU=1 says so.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../server/src/backend/backend';
import { adapterName } from '../../server/src/backend/select';
import { webgpuAdapter } from '../../server/src/backend/webgpu';
import { ModelConfig, presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { generate } from '../../server/src/model/sampling';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { evalLoss, LmBatch, lmLoss, trainStep } from '../../server/src/train/lmStep';
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

/** What the real training and sampling entry points give on one backend. */
interface EndToEnd {
  /** trainStep's loss and gradient norm per step (the first step clips: its norm is above MAX_NORM). */
  losses: number[];
  gradNorms: number[];
  /** evalLoss after the steps. */
  evalLoss: number;
  /** Tensors alive after the first step and after the last (flat = no leak). */
  tensors: [number, number];
  /** MoE: each layer's load share after the last step. */
  moeLoad?: number[][];
  /** Greedy tokens of `generate` (KV cache) from the starting weights. */
  greedy: number[][];
}

const E2E_STEPS = 5;
const MAX_NORM = 0.85;
const PROMPTS = ['What is 12 + 7?', 'Hi', 'What is 347 * 6? Think it through.'];
const NEW_TOKENS = 24;

async function snapshot(model: GPT): Promise<Map<string, Snapshot>> {
  const out = new Map<string, Snapshot>();
  for (const [name, v] of model.params) out.set(name, { shape: v.shape, values: (await v.data()) as Float32Array });
  return out;
}

function modelFrom(c: ModelConfig, w: Map<string, Snapshot>): GPT {
  const params = new Map<string, tf.Variable>();
  for (const [name, x] of w) params.set(name, tf.variable(tf.tensor(x.values, x.shape, 'float32'), true));
  return new GPT(c, 0, params);
}

/** Greedy KV-cache sampling, then E2E_STEPS real trainSteps and evalLoss, on the current backend. */
async function endToEndOnCurrentBackend(c: ModelConfig, w: Map<string, Snapshot>, b: LmBatch): Promise<EndToEnd> {
  const model = modelFrom(c, w);
  const opt = new AdamW(model.params);
  try {
    const { tokens: greedy } = await generate(
      model,
      PROMPTS.map((p) => tok.encode(p)),
      { maxNewTokens: NEW_TOKENS, temperature: 0, stopIds: [], padId: tok.pad },
    );
    const losses: number[] = [];
    const gradNorms: number[] = [];
    let afterFirst = 0;
    for (let step = 0; step < E2E_STEPS; step++) {
      const r = await trainStep(model, opt, b, LR, MAX_NORM);
      losses.push(r.loss);
      gradNorms.push(r.gradNorm);
      if (step === 0) afterFirst = tf.memory().numTensors;
    }
    const tensors: [number, number] = [afterFirst, tf.memory().numTensors];
    return {
      losses,
      gradNorms,
      evalLoss: await evalLoss(model, b),
      tensors,
      moeLoad: model.lastMoeStats?.load,
      greedy,
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}

let cpu: RunResult;
let gpu: RunResult;
let weights: Map<string, Snapshot>;
const batch = makeBatch(11, 4, 24);
const moeConfig = presetConfig('tiny-moe', tok.vocabSize);
const e2e: Record<'dense' | 'moe', { cpu: EndToEnd; gpu: EndToEnd }> = {} as never;

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

  // End to end through trainStep / evalLoss / generate, dense (the same weights) and MoE.
  await tf.setBackend('cpu');
  const moeInit = new GPT(moeConfig, 6);
  const moeWeights = await snapshot(moeInit);
  moeInit.dispose();
  for (const [kind, c, w] of [
    ['dense', config, weights],
    ['moe', moeConfig, moeWeights],
  ] as const) {
    const e0 = Date.now();
    await tf.setBackend('cpu');
    const onCpu = await endToEndOnCurrentBackend(c, w, batch);
    const e1 = Date.now();
    await tf.setBackend('webgpu');
    const onGpu = await endToEndOnCurrentBackend(c, w, batch);
    e2e[kind] = { cpu: onCpu, gpu: onGpu };
    console.log(`# end to end (${kind}): cpu ${e1 - e0} ms, webgpu ${Date.now() - e1} ms`);
  }
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

// MoE on webgpu: tfjs-backend-webgpu 4.22 emits invalid WGSL ("expected 'f32', got 'i32'") when an
// int32 one-hot cast to float is reduced over a middle axis, so moe.ts builds its one-hots as float32.

for (const kind of ['dense', 'moe'] as const) {
  test(
    `webgpu: ${E2E_STEPS} real trainSteps (${kind}) give the cpu backend's losses and gradient norms, without leaking`,
    { skip: SKIP && 'R1_SKIP_WEBGPU=1' },
    () => {
      const { cpu: c, gpu: g } = e2e[kind];
      const loss = relDiff(c.losses, g.losses);
      const norm = relDiff(c.gradNorms, g.gradNorms);
      const ev = relDiff([c.evalLoss], [g.evalLoss]);
      console.log(`# trainStep ${kind} losses cpu ${c.losses.map((l) => l.toFixed(6)).join(' ')}`);
      console.log(
        `# trainStep ${kind} losses gpu ${g.losses.map((l) => l.toFixed(6)).join(' ')} (max rel diff ${loss.rel.toExponential(2)})`,
      );
      console.log(
        `# trainStep ${kind} grad norms cpu ${c.gradNorms.map((l) => l.toFixed(5)).join(' ')}, max rel diff ${norm.rel.toExponential(2)}; ` +
          `evalLoss cpu ${c.evalLoss.toFixed(6)} gpu ${g.evalLoss.toFixed(6)} (rel ${ev.rel.toExponential(2)})`,
      );
      assert.ok(c.gradNorms[0] > MAX_NORM, 'the first step clips');
      assert.ok(c.losses[E2E_STEPS - 1] < c.losses[0], 'the steps lower the loss');
      assert.ok(loss.rel <= REL_TOL, `trainStep losses differ by ${loss.rel} relative`);
      assert.ok(norm.rel <= REL_TOL, `gradient norms differ by ${norm.rel} relative`);
      assert.ok(ev.rel <= REL_TOL, `evalLoss differs by ${ev.rel} relative`);
      assert.equal(
        g.tensors[1],
        g.tensors[0],
        `webgpu tensors after step 1: ${g.tensors[0]}, after the last: ${g.tensors[1]}`,
      );
      if (kind === 'moe') {
        // The MoE routing figures are read back asynchronously after each step (finishTrainingStep).
        assert.ok(g.moeLoad && c.moeLoad, 'lastMoeStats is set on both backends');
        const load = relDiff(c.moeLoad.flat(), g.moeLoad.flat());
        console.log(`# trainStep moe load per expert: max abs diff ${load.abs.toExponential(2)}`);
        assert.ok(load.abs <= 1e-6, `MoE load shares differ by ${load.abs}`);
      }
    },
  );

  test(
    `webgpu: generate (KV cache, greedy, ragged batch) gives the cpu backend's tokens (${kind})`,
    { skip: SKIP && 'R1_SKIP_WEBGPU=1' },
    () => {
      const { cpu: c, gpu: g } = e2e[kind];
      assert.ok(c.greedy.every((row) => row.length === NEW_TOKENS));
      const same = c.greedy.flat().filter((t, i) => g.greedy.flat()[i] === t).length;
      console.log(`# generate ${kind}: ${same}/${c.greedy.flat().length} greedy tokens equal`);
      assert.deepEqual(g.greedy, c.greedy);
    },
  );
}

// `r1 run pretrain --backend webgpu`: the built CLI trains a few steps of the tiny preset,
// evaluates (generate) and saves a checkpoint on the webgpu backend.
const CLI = path.join(__dirname, '..', '..', 'server', 'out', 'cli.js');
const ROOT = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-webgpu-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('webgpu: r1 run pretrain --backend webgpu trains the tiny preset', { skip: SKIP && 'R1_SKIP_WEBGPU=1' }, () => {
  assert.ok(fs.existsSync(CLI), 'build first: npm run build');
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'samples', 'r1.config.json'), 'utf8'));
  config.presets.tiny.stages.pretrain = { steps: 3, batchSize: 2, checkpointEvery: 0, logEvery: 1 };
  config.presets.tiny.eval = { limit: 2, maxNewTokens: 4 };
  // Beside the shipped config: its data paths are relative to the config file.
  const cfgFile = path.join(ROOT, 'samples', `.test-webgpu-${process.pid}.json`);
  fs.writeFileSync(cfgFile, JSON.stringify(config));
  try {
    const out = path.join(tmp, 'run');
    const t0 = Date.now();
    const r = spawnSync(
      process.execPath,
      [CLI, 'run', 'pretrain', '--config', cfgFile, '--preset', 'tiny', '--backend', 'webgpu', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    console.log(`# r1 run pretrain --backend webgpu: exit ${r.status} in ${Date.now() - t0} ms`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /backend: webgpu/);
    const metrics = fs
      .readFileSync(path.join(out, 'pretrain', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const steps = metrics.filter((m) => typeof m.loss === 'number');
    assert.ok(steps.length >= 3 && steps.every((m) => Number.isFinite(m.loss) && m.loss > 0), JSON.stringify(metrics));
    assert.ok(fs.existsSync(path.join(out, 'pretrain', 'checkpoint', 'weights.bin')));
  } finally {
    fs.rmSync(cfgFile, { force: true });
  }
});
