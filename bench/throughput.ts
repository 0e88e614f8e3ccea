// Training and sampling throughput of our own code paths: `trainStep` (server/src/train/lmStep.ts,
// what the pretrain/SFT stages call each step, with AdamW and global-norm clipping) on random
// windows of the sample corpus, and batched KV-cache `generate` (server/src/model/sampling.ts).
// bench/torch/reference.py times the same model, batch and lengths in PyTorch.
//
// Run: node --import tsx bench/throughput.ts [--json] [--preset small] [--backend wasm]
//        [--batch 16] [--seq 0 (= context length)] [--sample-batch 16] [--prompt-len 16]
//        [--new-tokens 64] [--train-steps 15] [--sample-reps 3] [--max-seconds 20]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { presetConfig } from '../server/src/model/config';
import { GPT } from '../server/src/model/gpt';
import { generate } from '../server/src/model/sampling';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { streamBatch } from '../server/src/train/batches';
import { trainStep } from '../server/src/train/lmStep';
import { AdamW, DEFAULT_ADAMW } from '../server/src/train/optimizer';
import { Rng } from '../server/src/util/rng';
import { median, peakRssMb, round, timeCalls } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '16' },
    seq: { type: 'string', default: '0' },
    'sample-batch': { type: 'string', default: '16' },
    'prompt-len': { type: 'string', default: '16' },
    'new-tokens': { type: 'string', default: '64' },
    'train-steps': { type: 'string', default: '15' },
    'sample-reps': { type: 'string', default: '3' },
    'max-seconds': { type: 'string', default: '20' },
  },
});

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendName);
  const tok = new Tokenizer();
  const config = presetConfig(args.preset!, tok.vocabSize);
  const model = new GPT(config, 1);
  const opt = new AdamW(model.params, DEFAULT_ADAMW);
  const B = Number(args.batch);
  const T = Number(args.seq) || config.contextLength;
  const maxSeconds = Number(args['max-seconds']);
  // Only the first 200 kB: enough distinct windows, and tokenizing stays out of the figures.
  const text = fs.readFileSync(path.join(__dirname, '..', 'samples', 'corpus.txt'), 'utf8').slice(0, 200_000);
  const stream = Int32Array.from(tok.encode(text));
  const rng = new Rng(1);

  // Batch building is inside the timed call, as in lmStage's step time.
  const train = await timeCalls(() => trainStep(model, opt, streamBatch(stream, B, T, rng), 1e-3, 1), {
    warmup: 3,
    count: Number(args['train-steps']),
    maxSeconds,
  });

  const SB = Number(args['sample-batch']);
  const P = Number(args['prompt-len']);
  const N = Number(args['new-tokens']);
  const prompts = Array.from({ length: SB }, () => Array.from({ length: P }, () => rng.int(0, 255)));
  let produced = 0;
  // No stop tokens: every row yields exactly N tokens, as in the PyTorch reference.
  const sample = await timeCalls(
    async () => {
      // await: generate (like trainStep) may be async, for backends without synchronous reads.
      const r = await generate(model, prompts, { maxNewTokens: N, temperature: 1, stopIds: [], padId: tok.pad, rng });
      produced = r.tokens.reduce((a, row) => a + row.length, 0);
    },
    { warmup: 1, count: Number(args['sample-reps']), maxSeconds },
  );

  const summary = {
    backend,
    preset: args.preset,
    parameters: model.parameterCount(),
    config,
    train_batch: B,
    train_seq: T,
    train_step_ms: round(median(train.wallMs)),
    train_tokens_per_second: round((B * T) / (median(train.wallMs) / 1000)),
    train_tokens_per_cpu_second: round((B * T) / (median(train.cpuMs) / 1000)),
    train_steps_timed: train.wallMs.length,
    sample_batch: SB,
    sample_prompt_len: P,
    sample_new_tokens: N,
    sample_ms: round(median(sample.wallMs)),
    sample_tokens_per_second: round(produced / (median(sample.wallMs) / 1000)),
    sample_tokens_per_cpu_second: round(produced / (median(sample.cpuMs) / 1000)),
    sample_runs_timed: sample.wallMs.length,
    tensors: tf.memory().numTensors,
    peak_rss_mb: peakRssMb(),
  };
  model.dispose();
  opt.dispose();
  process.stdout.write(
    `ours (${backend}, ${args.preset}, ${summary.parameters} parameters): ` +
      `train ${summary.train_tokens_per_second} tok/s (${summary.train_step_ms} ms/step, B=${B} T=${T}), ` +
      `sample ${summary.sample_tokens_per_second} tok/s (B=${SB}, ${N} new tokens)\n`,
  );
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`throughput bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
