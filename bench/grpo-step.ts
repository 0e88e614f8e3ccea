// Where a GRPO step's time goes: rollout (batched KV-cache sampling + rewards), reference
// log-probs, policy update, with the real pieces of server/src/grpo/ on a freshly initialised
// model of the preset; plus the process's peak RSS and the tensor count growth between the end
// of step 1 and the end of the last step (0 when nothing leaks).
//
// Defaults follow GRPO_DEFAULTS (16 prompts x 8 completions, 64 new tokens) without the 2x
// oversampling of dynamic sampling; --beta 0.04 makes the reference log-probs count in the loss
// (the stage computes them only when beta > 0).
//
// Run: node --import tsx bench/grpo-step.ts [--json] [--preset small] [--backend wasm] [--steps 3]
//        [--prompts 16] [--generations 8] [--max-completion 64] [--beta 0.04] [--iterations 1]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { loadRl } from '../server/src/data/loaders';
import { GRPO_DEFAULTS } from '../server/src/grpo/config';
import { presetConfig } from '../server/src/model/config';
import { GPT } from '../server/src/model/gpt';
import { RewardSet } from '../server/src/rewards';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { EpochSampler } from '../server/src/train/batches';
import { AdamW, DEFAULT_ADAMW } from '../server/src/train/optimizer';
import { Rng } from '../server/src/util/rng';
import { grpoStep, GrpoStepTimes } from './lib/grpoStep';
import { median, peakRssMb, round } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '3' },
    prompts: { type: 'string', default: String(GRPO_DEFAULTS.promptsPerStep) },
    generations: { type: 'string', default: String(GRPO_DEFAULTS.numGenerations) },
    'max-completion': { type: 'string', default: String(GRPO_DEFAULTS.maxCompletionLength) },
    beta: { type: 'string', default: '0.04' },
    iterations: { type: 'string', default: '1' },
  },
});

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendName);
  const tok = new Tokenizer();
  const config = presetConfig(args.preset!, tok.vocabSize);
  const policy = new GPT(config, 1);
  const ref = new GPT(config, 1); // the same initial weights, as a reference model loaded from the start checkpoint
  const opt = new AdamW(policy.params, { ...DEFAULT_ADAMW, weightDecay: GRPO_DEFAULTS.weightDecay });
  const rng = new Rng(7);
  const examples = loadRl(path.join(__dirname, '..', 'samples', 'rl-prompts.jsonl'));
  const sampler = new EpochSampler(examples, rng);
  const rewards = new RewardSet(GRPO_DEFAULTS.rewards);
  const maxCompletionLength = Number(args['max-completion']);
  const setup = {
    policy,
    ref,
    opt,
    tok,
    rewards,
    rollout: {
      numGenerations: Number(args.generations),
      maxCompletionLength,
      temperature: GRPO_DEFAULTS.temperature,
      topK: GRPO_DEFAULTS.topK,
      topP: GRPO_DEFAULTS.topP,
    },
    update: {
      epsilonLow: GRPO_DEFAULTS.epsilon,
      epsilonHigh: GRPO_DEFAULTS.epsilonHigh,
      beta: Number(args.beta),
      lossType: GRPO_DEFAULTS.lossType,
      maxCompletionLength,
      maxGradNorm: GRPO_DEFAULTS.maxGradNorm,
    },
    numIterations: Number(args.iterations),
    lr: GRPO_DEFAULTS.lr,
    rng,
  };

  const steps: GrpoStepTimes[] = [];
  let tensorsAfterFirst = 0;
  const N = Math.max(2, Number(args.steps));
  for (let i = 0; i < N; i++) {
    steps.push(await grpoStep(setup, sampler.next(Number(args.prompts))));
    if (i === 0) tensorsAfterFirst = tf.memory().numTensors;
    const s = steps[i];
    process.stderr.write(
      `grpo step ${i + 1}/${N}: rollout ${s.rolloutMs.toFixed(0)} ms, ref log-probs ${s.refLogprobsMs.toFixed(0)} ms, ` +
        `update ${s.updateMs.toFixed(0)} ms\n`,
    );
  }
  const tensorsAfterLast = tf.memory().numTensors;
  // Step 1 pays one-off costs (wasm kernels' first calls, allocator growth): left out of the medians.
  const timed = steps.slice(1);
  const med = (f: (s: GrpoStepTimes) => number) => round(median(timed.map(f)));
  const summary = {
    backend,
    preset: args.preset,
    parameters: policy.parameterCount(),
    prompts: Number(args.prompts),
    generations: Number(args.generations),
    max_completion: maxCompletionLength,
    beta: Number(args.beta),
    iterations: Number(args.iterations),
    steps: N,
    grpo_rollout_ms: med((s) => s.rolloutMs),
    grpo_ref_logprobs_ms: med((s) => s.refLogprobsMs),
    grpo_update_ms: med((s) => s.updateMs),
    grpo_step_ms: med((s) => s.rolloutMs + s.refLogprobsMs + s.updateMs),
    grpo_sample_tokens_per_second: med((s) => s.sampledTokens / (s.rolloutMs / 1000)),
    grpo_update_tokens_per_second: med((s) => s.trainTokens / (s.updateMs / 1000)),
    first_step_ms: round(steps[0].rolloutMs + steps[0].refLogprobsMs + steps[0].updateMs),
    peak_rss_mb: peakRssMb(),
    // The wasm heap only grows: its size is the high-water mark of live tensor memory (plus fragmentation).
    wasm_heap_mb: wasmHeapMb(),
    tensors_after_step_1: tensorsAfterFirst,
    tensors_after_last_step: tensorsAfterLast,
    tensor_count_growth: tensorsAfterLast - tensorsAfterFirst,
  };
  policy.dispose();
  ref.dispose();
  opt.dispose();
  process.stdout.write(
    `grpo (${backend}, ${args.preset}, ${summary.prompts}x${summary.generations} completions of <= ${maxCompletionLength} tokens): ` +
      `rollout ${summary.grpo_rollout_ms} ms, ref log-probs ${summary.grpo_ref_logprobs_ms} ms, update ${summary.grpo_update_ms} ms; ` +
      `peak RSS ${summary.peak_rss_mb} MB (wasm heap ${summary.wasm_heap_mb} MB); tensors ${tensorsAfterFirst} -> ${tensorsAfterLast}\n`,
  );
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

function wasmHeapMb(): number | null {
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? round(heap.byteLength / 2 ** 20) : null;
}

main().catch((err: unknown) => {
  process.stderr.write(`grpo bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
