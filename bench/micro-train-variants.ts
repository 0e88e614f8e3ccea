// What would two changes to gpt.ts's forward pass buy on the real training step? This bench
// subclasses GPT (server/src/model is not edited) with a copy of the dense forwardHidden in which
//   attention: 'batched'  4-D tf.matMul, as gpt.ts does (wasm's slow batched loop), or
//              'perHead'  one 2-D matMul2d per (batch row, head) on the XNNPACK fast path;
//   rope:      'split'    applyRope (split into halves + concat, as gpt.ts), or
//              'matmul'   x*cos + (x R)*sin with R the fixed "rotate half" matrix as one 2-D matmul.
// and times trainStep (lmStep.ts) for each, round robin so load bursts hit all alike. Outputs are
// checked against the stock model first (same weights, same loss and gradient norm).
//
// Run: node --import tsx bench/micro-train-variants.ts [--preset small] [--batch 16] [--rounds 5]
//        [--profile (top kernels of one step of each variant, ms)]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { ModelConfig, presetConfig } from '../server/src/model/config';
import { ForwardOptions, GPT, LayerCache } from '../server/src/model/gpt';
import { applyRope, embed, gelu, layerNorm, matMul2d, ropeTables } from '../server/src/model/ops';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { LmBatch, trainStep } from '../server/src/train/lmStep';
import { AdamW } from '../server/src/train/optimizer';
import { Rng } from '../server/src/util/rng';
import { formatTable, median, round, timeCalls } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' },
    profile: { type: 'boolean', default: false },
  },
});

interface Variant {
  attention: 'batched' | 'perHead';
  rope: 'split' | 'matmul';
}

/** Dense GPT with a choice of attention and RoPE implementation; training path only (no cache). */
class VariantGPT extends GPT {
  constructor(
    config: ModelConfig,
    private readonly variant: Variant,
  ) {
    super(config, 1);
    if (config.moe) throw new Error('micro-train-variants covers the dense presets only');
  }

  private p(name: string): tf.Tensor2D {
    return this.params.get(name) as unknown as tf.Tensor2D;
  }

  override forwardHidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): { hidden: tf.Tensor2D; cache?: LayerCache[] } {
    if (opts.cache || opts.keyMask || opts.startPos) throw new Error('training path only');
    const c = this.config;
    const [B, T] = ids.shape;
    const H = c.nHeads;
    const hs = c.dModel / H;
    const causal = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) causal[i * T + j] = -1e9;
    const bias = tf.tensor2d(causal, [T, T]);
    const { cos, sin } = ropeTables(0, T, hs, c.ropeBase);
    const rope = this.variant.rope === 'split' ? (x: tf.Tensor4D) => applyRope(x, cos, sin) : ropeByMatmul(cos, sin);
    const heads = (t: tf.Tensor2D) => t.reshape([B, T, H, hs]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    let x = embed(ids.reshape([B * T]) as tf.Tensor1D, this.p('tok_emb'));
    for (let l = 0; l < c.nLayers; l++) {
      const h = layerNorm(
        x,
        this.p(`h${l}.ln1.g`) as unknown as tf.Tensor1D,
        this.p(`h${l}.ln1.b`) as unknown as tf.Tensor1D,
      );
      const q = rope(heads(matMul2d(h, this.p(`h${l}.attn.wq`))));
      const k = rope(heads(matMul2d(h, this.p(`h${l}.attn.wk`))));
      const v = heads(matMul2d(h, this.p(`h${l}.attn.wv`)));
      const att =
        this.variant.attention === 'batched' ? batchedAttention(q, k, v, bias) : perHeadAttention(q, k, v, bias);
      const y = att.transpose([0, 2, 1, 3]).reshape([B * T, c.dModel]) as tf.Tensor2D;
      x = tf.add(x, matMul2d(y, this.p(`h${l}.attn.wo`)));
      const h2 = layerNorm(
        x,
        this.p(`h${l}.ln2.g`) as unknown as tf.Tensor1D,
        this.p(`h${l}.ln2.b`) as unknown as tf.Tensor1D,
      );
      const m = gelu(tf.add(matMul2d(h2, this.p(`h${l}.mlp.w1`)), this.p(`h${l}.mlp.b1`))) as tf.Tensor2D;
      x = tf.add(x, tf.add(matMul2d(m, this.p(`h${l}.mlp.w2`)), this.p(`h${l}.mlp.b2`)));
    }
    return {
      hidden: layerNorm(x, this.p('ln_f.g') as unknown as tf.Tensor1D, this.p('ln_f.b') as unknown as tf.Tensor1D),
    };
  }
}

function batchedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor2D): tf.Tensor4D {
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(q.shape[3])), bias);
  return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
}

/**
 * One 2-D matMul2d per (batch row, head). Taking the heads apart with unstack is cheap since
 * server/src/backend/wasmSlice.ts (tfjs-wasm's own Slice/Unpack copied the whole input per piece;
 * bench/micro-attention.ts has a split-tree variant for that case).
 */
function perHeadAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor2D): tf.Tensor4D {
  const [B, H, T, hs] = q.shape;
  const pieces = (x: tf.Tensor, r: number, c: number) => tf.unstack(x.reshape([B * H, r, c])) as tf.Tensor2D[];
  const qs = pieces(q, T, hs);
  const kTs = pieces(tf.transpose(k, [0, 1, 3, 2]), hs, T);
  const vs = pieces(v, T, hs);
  const scores = tf.stack(qs.map((qi, i) => matMul2d(qi, kTs[i])));
  const probs = pieces(tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(hs)), bias)), T, T);
  return tf.stack(probs.map((pi, i) => matMul2d(pi, vs[i]))).reshape([B, H, T, hs]) as tf.Tensor4D;
}

/** RoPE as x * [cos, cos] + (x R) * [sin, sin], R (hs, hs) mapping [x1, x2] to [-x2, x1]. */
function ropeByMatmul(cos: tf.Tensor2D, sin: tf.Tensor2D): (x: tf.Tensor4D) => tf.Tensor4D {
  const half = cos.shape[1];
  const hs = 2 * half;
  const r = new Float32Array(hs * hs);
  for (let i = 0; i < half; i++) {
    r[(i + half) * hs + i] = -1; // out[i] = -x2[i]
    r[i * hs + i + half] = 1; // out[half + i] = x1[i]
  }
  const R = tf.tensor2d(r, [hs, hs]);
  const cosF = tf.concat([cos, cos], 1);
  const sinF = tf.concat([sin, sin], 1);
  return (x) => {
    const rotated = matMul2d(x.reshape([-1, hs]) as tf.Tensor2D, R).reshape(x.shape);
    return tf.add(tf.mul(x, cosF), tf.mul(rotated, sinF)) as tf.Tensor4D;
  };
}

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendName);
  const tok = new Tokenizer();
  const config = presetConfig(args.preset!, tok.vocabSize);
  const B = Number(args.batch);
  const T = config.contextLength;
  const rng = new Rng(5);
  const batch = (): LmBatch => {
    const inputs = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(0, 255)));
    const targets = inputs.map((row) => [...row.slice(1), rng.int(0, 255)]);
    return { inputs, targets, mask: inputs.map((row) => row.map(() => 1)) };
  };
  const variants: Record<string, Variant> = {
    'gpt.ts as is (batched, split)': { attention: 'batched', rope: 'split' },
    'perHead attention': { attention: 'perHead', rope: 'split' },
    'matmul RoPE': { attention: 'batched', rope: 'matmul' },
    'perHead + matmul RoPE': { attention: 'perHead', rope: 'matmul' },
  };
  const stock = new GPT(config, 1);
  const models = Object.fromEntries(Object.entries(variants).map(([n, v]) => [n, new VariantGPT(config, v)]));

  // Same weights (seed 1) and same batch: the logits must match the stock GPT's.
  const check = batch();
  const logits = (m: GPT) =>
    tf.tidy(() => m.forward(tf.tensor2d(check.inputs, [B, T], 'int32')).logits.dataSync() as Float32Array);
  const stockLogits = logits(stock);
  const logitDiff = Object.fromEntries(
    Object.entries(models).map(([n, m]) => {
      const got = logits(m);
      return [n, got.reduce((d, x, i) => Math.max(d, Math.abs(x - stockLogits[i])), 0)];
    }),
  );
  stock.dispose();

  const opts = Object.fromEntries(Object.entries(models).map(([n, m]) => [n, new AdamW(m.params)]));
  const cpu = new Map<string, number[]>(Object.keys(models).map((n) => [n, []]));
  const wall = new Map<string, number[]>(Object.keys(models).map((n) => [n, []]));
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const [name, m] of Object.entries(models)) {
      const t = await timeCalls(() => trainStep(m, opts[name], batch(), 1e-3, 1), {
        warmup: r === 0 ? 2 : 0,
        count: 2,
        maxSeconds: 0,
      });
      cpu.get(name)!.push(...t.cpuMs);
      wall.get(name)!.push(...t.wallMs);
    }
  }
  const base = median(cpu.get('gpt.ts as is (batched, split)')!);
  const rows = Object.keys(models).map((name) => {
    const c = median(cpu.get(name)!);
    return [
      name,
      round(median(wall.get(name)!)).toFixed(0),
      round(c).toFixed(0),
      round((B * T) / (c / 1000)).toFixed(0),
      (base / c).toFixed(2),
      logitDiff[name].toExponential(1),
    ];
  });
  if (args.profile) {
    // Kernel time by kernel name per variant (wrappers such as customGrad's `forward` include their inner kernels).
    for (const [name, m] of Object.entries(models)) {
      const prof = await tf.profile(async () => {
        await trainStep(m, opts[name], batch(), 1e-3, 1);
      });
      const by = new Map<string, number>();
      for (const k of prof.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (Number(k.kernelTimeMs) || 0));
      const top = [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
      process.stdout.write(`${name}: ${top.map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', ')}\n`);
    }
  }
  process.stdout.write(
    `trainStep variants (${backend}, ${args.preset}, B=${B} T=${T}; medians of ${2 * Number(args.rounds)} steps each)\n` +
      formatTable(['variant', 'wall ms', 'cpu ms', 'tok per cpu-s', 'speed-up (cpu)', 'max |logit - stock|'], rows) +
      '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`micro-train-variants failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
