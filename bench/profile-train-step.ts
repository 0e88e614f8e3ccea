// Kernel profile of the real training step (trainStep from server/src/train/lmStep.ts: forward,
// gradients, global-norm clipping, AdamW) on the active backend: the kernels that take the time,
// by name and by name + input shapes, summed over `--steps` profiled steps.
//
// Run: node --import tsx bench/profile-train-step.ts [--preset small] [--backend wasm]
//        [--batch 16] [--steps 3] [--top 25] [--json]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { presetConfig } from '../server/src/model/config';
import { GPT } from '../server/src/model/gpt';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { streamBatch } from '../server/src/train/batches';
import { trainStep } from '../server/src/train/lmStep';
import { AdamW } from '../server/src/train/optimizer';
import { Rng } from '../server/src/util/rng';
import { formatTable, round } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '3' },
    top: { type: 'string', default: '25' },
  },
});

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendName);
  const tok = new Tokenizer();
  const config = presetConfig(args.preset!, tok.vocabSize);
  const model = new GPT(config, 1);
  const opt = new AdamW(model.params);
  const text = fs.readFileSync(path.join(__dirname, '..', 'samples', 'corpus.txt'), 'utf8').slice(0, 100_000);
  const stream = Int32Array.from(tok.encode(text));
  const rng = new Rng(1);
  const B = Number(args.batch);
  const T = config.contextLength;
  const step = () => trainStep(model, opt, streamBatch(stream, B, T, rng), 1e-3, 1);
  for (let i = 0; i < 3; i++) await step(); // warm-up

  const steps = Number(args.steps);
  const byName = new Map<string, { ms: number; calls: number }>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  let wallMs = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const prof = await tf.profile(async () => {
      await step();
    });
    wallMs += performance.now() - t0;
    for (const k of prof.kernels) {
      // Only registered kernels: wrappers (customGrad's `forward`, op scopes such as logSoftmax__op)
      // are timed around their inner kernels, which would count twice.
      if (!tf.getKernel(k.name, tf.getBackend())) continue;
      const ms = Number(k.kernelTimeMs) || 0;
      for (const [map, key] of [
        [byName, k.name],
        [byShape, `${k.name} ${JSON.stringify(k.inputShapes)}`],
      ] as const) {
        const e = map.get(key) ?? { ms: 0, calls: 0 };
        e.ms += ms;
        e.calls++;
        map.set(key, e);
      }
    }
  }
  const kernelMs = [...byName.values()].reduce((a, e) => a + e.ms, 0) / steps;
  const top = Number(args.top);
  const rows = (map: Map<string, { ms: number; calls: number }>) =>
    [...map.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([k, e]) => ({ kernel: k, ms_per_step: round(e.ms / steps, 2), calls_per_step: e.calls / steps }));
  const names = rows(byName);
  const shapes = rows(byShape);
  const pct = (ms: number) => ((100 * ms) / kernelMs).toFixed(1);
  const out = process.stdout;
  out.write(
    `trainStep profile (${backend}, ${args.preset}, B=${B} T=${T}): ${round(wallMs / steps)} ms/step under the profiler, ` +
      `${round(kernelMs)} ms in kernels\n\nby kernel:\n`,
  );
  out.write(
    formatTable(
      ['kernel', 'ms/step', '%', 'calls/step'],
      names.map((r) => [r.kernel, r.ms_per_step.toFixed(1), pct(r.ms_per_step), String(r.calls_per_step)]),
    ) + '\n\nby kernel and input shapes:\n',
  );
  out.write(
    formatTable(
      ['kernel [input shapes]', 'ms/step', '%', 'calls/step'],
      shapes.map((r) => [r.kernel, r.ms_per_step.toFixed(1), pct(r.ms_per_step), String(r.calls_per_step)]),
    ) + '\n',
  );
  if (args.json)
    out.write(
      JSON.stringify({ backend, preset: args.preset, batch: B, seq: T, kernel_ms: round(kernelMs), names, shapes }) +
        '\n',
    );
  model.dispose();
  opt.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`profile failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
