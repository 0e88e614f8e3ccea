// Microbenchmark: tfjs saves the inputs a gradient needs with clone(), i.e. the Identity kernel,
// and wasm 4.22's Identity copies the data (the cpu backend's shares it: incRef on the same
// dataId). This times the real trainStep with the stock wasm Identity and with a sharing one,
// switching the registered kernel between rounds, and checks the losses stay identical.
//
// Run: node --import tsx bench/micro-identity.ts [--preset small] [--batch 16] [--rounds 5]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../server/src/backend/backend';
import { presetConfig } from '../server/src/model/config';
import { GPT } from '../server/src/model/gpt';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { LmBatch, trainStep } from '../server/src/train/lmStep';
import { AdamW } from '../server/src/train/optimizer';
import { Rng } from '../server/src/util/rng';
import { formatTable, median, round, timeCalls } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' },
  },
});

interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

/** The stock wasm kernel, looked up once the wasm backend is loaded. */
let stockIdentity: tf.KernelConfig | undefined;

function useIdentity(kind: 'copy' | 'share'): void {
  tf.unregisterKernel('Identity', 'wasm');
  if (kind === 'copy') tf.registerKernel(stockIdentity!);
  else
    tf.registerKernel({
      kernelName: 'Identity',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const x = inputs.x as tf.TensorInfo;
        (backend as unknown as RefCounting).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
}

async function main(): Promise<void> {
  await initBackend('wasm');
  stockIdentity = tf.getKernel('Identity', 'wasm');
  if (!stockIdentity) throw new Error('no wasm Identity kernel registered');
  const tok = new Tokenizer();
  const config = presetConfig(args.preset!, tok.vocabSize);
  const B = Number(args.batch);
  const T = config.contextLength;
  const batches = (seed: number) => {
    const rng = new Rng(seed);
    return (): LmBatch => {
      const inputs = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(0, 255)));
      return { inputs, targets: inputs.map((r) => [...r.slice(1), 0]), mask: inputs.map((r) => r.map(() => 1)) };
    };
  };
  // Same seed, same batches: the two models must follow the same loss curve exactly.
  const kinds = ['copy', 'share'] as const;
  const runs = kinds.map((kind) => {
    const model = new GPT(config, 1);
    return { kind, model, opt: new AdamW(model.params), next: batches(3), losses: [] as number[], cpu: [] as number[] };
  });
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const run of runs) {
      useIdentity(run.kind);
      const t = await timeCalls(
        async () => run.losses.push((await trainStep(run.model, run.opt, run.next(), 1e-3, 1)).loss),
        { warmup: r === 0 ? 2 : 0, count: 2, maxSeconds: 0 },
      );
      run.cpu.push(...t.cpuMs);
    }
  }
  useIdentity('copy');
  const base = median(runs[0].cpu);
  const same = runs[0].losses.every((l, i) => l === runs[1].losses[i]);
  process.stdout.write(
    `trainStep with wasm Identity copying vs sharing (${args.preset}, B=${B} T=${T}); identical losses: ${same}\n` +
      formatTable(
        ['Identity', 'cpu ms/step', 'speed-up'],
        runs.map((r) => [r.kind, round(median(r.cpu)).toFixed(0), (base / median(r.cpu)).toFixed(2)]),
      ) +
      '\n',
  );
  if (!same) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`micro-identity failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
