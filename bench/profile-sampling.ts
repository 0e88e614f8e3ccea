// Kernel profile of batched KV-cache sampling (generate in server/src/model/sampling.ts): which
// kernels a generate() call spends its time in, and how much of the call is outside kernels (JS:
// building inputs, reading logits back, picking tokens).
//
// Run: node --import tsx bench/profile-sampling.ts [--preset small] [--backend wasm] [--batch 16]
//        [--prompt-len 16] [--new-tokens 64] [--top 15]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { presetConfig } from '../server/src/model/config';
import { GPT } from '../server/src/model/gpt';
import { generate } from '../server/src/model/sampling';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { Rng } from '../server/src/util/rng';
import { formatTable } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '16' },
    'prompt-len': { type: 'string', default: '16' },
    'new-tokens': { type: 'string', default: '64' },
    top: { type: 'string', default: '15' },
  },
});

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendName);
  const tok = new Tokenizer();
  const model = new GPT(presetConfig(args.preset!, tok.vocabSize), 1);
  const rng = new Rng(1);
  const B = Number(args.batch);
  const P = Number(args['prompt-len']);
  const N = Number(args['new-tokens']);
  const prompts = Array.from({ length: B }, () => Array.from({ length: P }, () => rng.int(0, 255)));
  const run = () => generate(model, prompts, { maxNewTokens: N, temperature: 1, stopIds: [], padId: tok.pad, rng });
  await run(); // warm-up
  const t0 = performance.now();
  await run();
  const plainMs = performance.now() - t0;
  const prof = await tf.profile(async () => {
    await run();
  });
  const by = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls++;
    by.set(k.name, e);
  }
  // Only registered kernels: wrappers (customGrad `forward`, op scopes) would count their inner kernels twice.
  const kernels = [...by.entries()].filter(([name]) => tf.getKernel(name, tf.getBackend()) !== undefined);
  const kernelMs = kernels.reduce((a, [, e]) => a + e.ms, 0);
  const calls = kernels.reduce((a, [, e]) => a + e.calls, 0);
  process.stdout.write(
    `generate profile (${backend}, ${args.preset}, B=${B}, prompt ${P}, ${N} new tokens): ${plainMs.toFixed(0)} ms ` +
      `unprofiled; ${kernelMs.toFixed(0)} ms in ${calls} kernel calls (${(calls / N).toFixed(0)} per token step)\n`,
  );
  const rows = kernels
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, Number(args.top))
    .map(([name, e]) => [name, e.ms.toFixed(1), ((100 * e.ms) / kernelMs).toFixed(1), String(e.calls)]);
  process.stdout.write(formatTable(['kernel', 'ms', '% of kernel time', 'calls'], rows) + '\n');
  model.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`profile failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
