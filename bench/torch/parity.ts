// Is bench/torch/gpt_reference.py the same function as our GPT? Writes our weights, a batch of
// ids and our logits to a temp file, loads them into the PyTorch model (parity.py) and compares
// the logits. Prints the JSON line of parity.py (max_abs_logit_diff); exit 1 above --tol.
//
// Run: node --import tsx bench/torch/parity.ts [--preset small] [--backend wasm] [--tol 1e-4]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../../server/src/backend/backend';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { findTorchPython, TORCH_INSTALL_HINT } from '../lib/children';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    tol: { type: 'string', default: '1e-4' },
    json: { type: 'boolean', default: true }, // always: the last line is JSON
  },
});

async function main(): Promise<void> {
  await initBackend(args.backend as BackendName);
  const config = presetConfig(args.preset!, new Tokenizer().vocabSize);
  if (config.moe) throw new Error('the PyTorch reference covers the dense presets only');
  const py = findTorchPython();
  if (!py) throw new Error(TORCH_INSTALL_HINT);
  // Seed 1 init, then a nudge to every weight so LayerNorm gains and biases are not all 1 and 0.
  const model = new GPT(config, 1);
  for (const v of model.params.values())
    v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 9))));
  const B = 3;
  const T = Math.min(20, config.contextLength);
  const ids = Array.from({ length: B }, (_, b) =>
    Array.from({ length: T }, (_, t) => (b * 31 + t * 7) % config.vocabSize),
  );
  const logits = tf.tidy(() => model.forward(tf.tensor2d(ids, [B, T], 'int32')).logits.dataSync());
  const params = Object.fromEntries(
    [...model.params].map(([name, v]) => [name, { shape: v.shape, data: Array.from(v.dataSync()) }]),
  );
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'r1-parity-')), 'dump.json');
  fs.writeFileSync(file, JSON.stringify({ config, params, ids, logits: Array.from(logits) }));
  const r = spawnSync(py, [path.join(__dirname, 'parity.py'), file], { encoding: 'utf8' });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  model.dispose();
  if (r.status !== 0) throw new Error(`parity.py failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  const out = JSON.parse(line) as { max_abs_logit_diff: number };
  process.stdout.write(`${line}\n`);
  if (!(out.max_abs_logit_diff <= Number(args.tol))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`parity check failed: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
