// Dense vs Mixture-of-Experts at equal active parameters: trains `small` and `small-moe` (about 4x
// the total parameters, the same per token) on the same corpus batches for the same number of
// steps, interleaving their steps so both see the same machine load, and reports training tokens/s,
// their ratio, and the final training and held-out losses side by side.
//
// Run: node --import tsx bench/moe-vs-dense.ts [--steps 60] [--batch 16] [--json]
//        [--dense small] [--moe small-moe]
// Backend: R1_BENCH_BACKEND (default wasm).
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { loadCorpus } from '../server/src/data/corpus';
import { parameterCounts, presetConfig } from '../server/src/model/config';
import { GPT } from '../server/src/model/gpt';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { streamBatch } from '../server/src/train/batches';
import { evalLoss, LmBatch, trainStep } from '../server/src/train/lmStep';
import { AdamW, learningRate } from '../server/src/train/optimizer';
import { Rng } from '../server/src/util/rng';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '60' },
    batch: { type: 'string', default: '16' },
    dense: { type: 'string', default: 'small' },
    moe: { type: 'string', default: 'small-moe' },
    json: { type: 'boolean', default: false },
  },
});

interface Contender {
  preset: string;
  model: GPT;
  opt: AdamW;
  seconds: number;
  tokens: number;
  losses: number[];
}

export interface MoeBenchResult {
  dense_preset: string;
  moe_preset: string;
  steps: number;
  dense_params_total: number;
  moe_params_total: number;
  moe_params_active_per_token: number;
  dense_train_tokens_per_second: number;
  moe_train_tokens_per_second: number;
  moe_throughput_ratio: number;
  dense_final_loss: number;
  moe_final_loss: number;
  dense_eval_loss: number;
  moe_eval_loss: number;
  moe_max_load_ratio: number;
  moe_dropped_ratio: number;
}

async function main(): Promise<void> {
  const backend = await initBackend((process.env.R1_BENCH_BACKEND as BackendName | undefined) ?? 'wasm');
  const steps = Number(args.steps);
  const batchSize = Number(args.batch);
  const tok = new Tokenizer();
  const docs = loadCorpus(path.join(__dirname, '..', 'samples', 'corpus.txt'));
  const encode = (ds: string[]) => Int32Array.from(ds.flatMap((d) => [...tok.encode(d), tok.eos]));
  const train = encode(docs.slice(0, -500));
  const heldOut = encode(docs.slice(-500));

  const contenders: Contender[] = [args.dense, args.moe].map((preset) => {
    const model = new GPT(presetConfig(preset, tok.vocabSize), 1);
    return { preset, model, opt: new AdamW(model.params), seconds: 0, tokens: 0, losses: [] };
  });
  const T = contenders[0].model.config.contextLength;
  const evalBatch = streamBatch(heldOut, 64, T, new Rng(99));
  const batches: LmBatch[] = [];
  const rng = new Rng(7);
  for (let i = 0; i < steps; i++) batches.push(streamBatch(train, batchSize, T, rng));

  // One warm-up step each (kernel compilation, allocation), not timed, on a batch outside the run.
  const warm = streamBatch(train, batchSize, T, new Rng(1));
  for (const c of contenders) {
    const m = new GPT(c.model.config, 2);
    const o = new AdamW(m.params);
    await trainStep(m, o, warm, 1e-3, 1);
    m.dispose();
    o.dispose();
  }
  for (let i = 0; i < steps; i++) {
    const lr = learningRate(i, steps, 2e-3, Math.min(20, steps / 5), 0.1);
    for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
      const t0 = performance.now();
      const r = await trainStep(c.model, c.opt, batches[i], lr, 1);
      c.seconds += (performance.now() - t0) / 1000;
      c.tokens += batchSize * T;
      c.losses.push(r.loss);
    }
    if (!args.json && (i + 1) % 10 === 0) {
      console.log(
        `step ${i + 1}/${steps}: ${contenders.map((c) => `${c.preset} ${c.losses.at(-1)!.toFixed(3)}`).join(', ')}`,
      );
    }
  }
  const [dense, moe] = contenders;
  const tail = (xs: number[]) => xs.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, xs.length);
  const stats = moe.model.lastMoeStats;
  const counts = contenders.map((c) => parameterCounts(c.model.config));
  const result: MoeBenchResult = {
    dense_preset: dense.preset,
    moe_preset: moe.preset,
    steps,
    dense_params_total: counts[0].total,
    moe_params_total: counts[1].total,
    moe_params_active_per_token: counts[1].activePerToken,
    dense_train_tokens_per_second: dense.tokens / dense.seconds,
    moe_train_tokens_per_second: moe.tokens / moe.seconds,
    moe_throughput_ratio: moe.tokens / moe.seconds / (dense.tokens / dense.seconds),
    dense_final_loss: tail(dense.losses),
    moe_final_loss: tail(moe.losses),
    dense_eval_loss: await evalLoss(dense.model, evalBatch),
    moe_eval_loss: await evalLoss(moe.model, evalBatch),
    moe_max_load_ratio: stats?.maxLoadRatio ?? NaN,
    moe_dropped_ratio: stats?.droppedRatio ?? NaN,
  };
  for (const c of contenders) {
    c.model.dispose();
    c.opt.dispose();
  }
  console.log(`\nDense vs MoE, ${steps} steps of ${batchSize}x${T} tokens on ${backend}`);
  console.table({
    [dense.preset]: {
      'params total': counts[0].total,
      'params active/token': counts[0].activePerToken,
      'train tok/s': Math.round(result.dense_train_tokens_per_second),
      'final loss (last 10)': result.dense_final_loss.toFixed(3),
      'held-out loss': result.dense_eval_loss.toFixed(3),
    },
    [moe.preset]: {
      'params total': counts[1].total,
      'params active/token': counts[1].activePerToken,
      'train tok/s': Math.round(result.moe_train_tokens_per_second),
      'final loss (last 10)': result.moe_final_loss.toFixed(3),
      'held-out loss': result.moe_eval_loss.toFixed(3),
    },
  });
  console.log(
    `MoE throughput = ${result.moe_throughput_ratio.toFixed(2)} x dense; busiest expert at ${result.moe_max_load_ratio.toFixed(2)} x mean load; ${(100 * result.moe_dropped_ratio).toFixed(1)}% of assignments dropped`,
  );
  if (args.json) console.log(JSON.stringify(result));
  tf.disposeVariables();
}

void main();
