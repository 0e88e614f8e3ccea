// Microbenchmark: the attention core of gpt.ts (softmax(q k^T / sqrt(hs) + causal) v) forward +
// backward on the preset's training shapes, written three ways:
//   batched   what gpt.ts does: 4-D tf.matMul (transposeB for q k^T); on wasm a batch > 1 or a
//             transposed operand takes the slow loop (platform-notes.md section 1, fix 3)
//   batchedT  the same with k transposed explicitly (no transposeB): is the batch alone the slow part?
//   perHead   B*H separate 2-D matMul2d calls (XNNPACK fast path, explicit-transpose gradient),
//             the scores stacked for one softmax; heads taken apart with one 64-way unstack
//   perHeadTree  the same, heads taken apart by a tree of 4-way splits (see splitTree)
//   perPiece  perHeadTree with scale, mask and softmax per (batch row, head) as well
// Each variant's output and gradients are checked against `batched`.
//
// Run: node --import tsx bench/micro-attention.ts [--preset small] [--batch 16] [--reps 5] [--backend wasm]
//        [--profile (kernel times of each variant)]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../server/src/backend/backend';
import { presetConfig } from '../server/src/model/config';
import { matMul2d } from '../server/src/model/ops';
import { formatTable, median, round, timeCalls } from './lib/measure';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    batch: { type: 'string', default: '16' },
    reps: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    profile: { type: 'boolean', default: false },
  },
});

type Attention = (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor) => tf.Tensor4D;

const batched: Attention = (q, k, v, bias) => {
  const hs = q.shape[3];
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), bias);
  return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
};

const batchedT: Attention = (q, k, v, bias) => {
  const hs = q.shape[3];
  const scores = tf.add(tf.mul(tf.matMul(q, tf.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(hs)), bias);
  return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
};

const perHead: Attention = (q, k, v, bias) => {
  const [B, H, T, hs] = q.shape;
  const split = (x: tf.Tensor4D) => tf.unstack(x.reshape([B * H, T, hs])) as tf.Tensor2D[];
  const qs = split(q);
  const ks = split(k);
  const vs = split(v);
  const scores = tf.stack(qs.map((qi, i) => matMul2d(qi, tf.transpose(ks[i])))).reshape([B, H, T, T]);
  const p = tf.unstack(tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(hs)), bias)).reshape([B * H, T, T]));
  return tf.stack(p.map((pi, i) => matMul2d(pi as tf.Tensor2D, vs[i]))).reshape([B, H, T, hs]) as tf.Tensor4D;
};

/**
 * (N, r, c) -> N tensors (r, c) through a tree of splits. On wasm every Slice/SplitV/Unpack reads
 * its whole input back from the heap (readSync), so one 64-way unstack copies the input 64 times;
 * splitting 4 ways per level copies it only log4(N) times. Gradients are concat/stack (cheap).
 */
function splitTree(x: tf.Tensor3D, fan = 4): tf.Tensor2D[] {
  if (x.shape[0] <= fan || x.shape[0] % fan) return tf.unstack(x) as tf.Tensor2D[];
  return (tf.split(x, fan, 0) as tf.Tensor3D[]).flatMap((part) => splitTree(part, fan));
}

/** The inverse of splitTree: stacks of `fan` pieces, concatenated level by level, so the gradient is splitTree-like too. */
function stackTree(xs: tf.Tensor2D[], fan = 4): tf.Tensor3D {
  if (xs.length <= fan || xs.length % fan) return tf.stack(xs) as tf.Tensor3D;
  const per = xs.length / fan;
  const groups = Array.from({ length: fan }, (_, g) => stackTree(xs.slice(g * per, (g + 1) * per), fan));
  return tf.concat(groups, 0);
}

const perHeadTree: Attention = (q, k, v, bias) => {
  const [B, H, T, hs] = q.shape;
  const qs = splitTree(q.reshape([B * H, T, hs]));
  const kTs = splitTree(tf.transpose(k, [0, 1, 3, 2]).reshape([B * H, hs, T]));
  const vs = splitTree(v.reshape([B * H, T, hs]));
  const scores = stackTree(qs.map((qi, i) => matMul2d(qi, kTs[i]))).reshape([B, H, T, T]);
  const p = splitTree(
    tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(hs)), bias)).reshape([B * H, T, T]) as tf.Tensor3D,
  );
  return stackTree(p.map((pi, i) => matMul2d(pi, vs[i]))).reshape([B, H, T, hs]) as tf.Tensor4D;
};

/** perHeadTree with the scale, mask and softmax per piece too: no split of the (B*H, T, T) probabilities. */
const perPiece: Attention = (q, k, v, bias) => {
  const [B, H, T, hs] = q.shape;
  const qs = splitTree(q.reshape([B * H, T, hs]));
  const kTs = splitTree(tf.transpose(k, [0, 1, 3, 2]).reshape([B * H, hs, T]));
  const vs = splitTree(v.reshape([B * H, T, hs]));
  const mask = bias.reshape([T, T]);
  const ys = qs.map((qi, i) =>
    matMul2d(tf.softmax(tf.add(tf.mul(matMul2d(qi, kTs[i]), 1 / Math.sqrt(hs)), mask)) as tf.Tensor2D, vs[i]),
  );
  return stackTree(ys).reshape([B, H, T, hs]) as tf.Tensor4D;
};

const VARIANTS: Record<string, Attention> = { batched, batchedT, perHead, perHeadTree, perPiece };

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendName);
  const c = presetConfig(args.preset!, 265);
  const B = Number(args.batch);
  const H = c.nHeads;
  const T = c.contextLength;
  const hs = c.dModel / H;
  const q = tf.randomNormal([B, H, T, hs], 0, 1, 'float32', 1) as tf.Tensor4D;
  const k = tf.randomNormal([B, H, T, hs], 0, 1, 'float32', 2) as tf.Tensor4D;
  const v = tf.randomNormal([B, H, T, hs], 0, 1, 'float32', 3) as tf.Tensor4D;
  const dy = tf.randomNormal([B, H, T, hs], 0, 1, 'float32', 4) as tf.Tensor4D;
  const causal = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) causal[i * T + j] = -1e9;
  const bias = tf.tensor4d(causal, [1, 1, T, T]);

  /** Output and the gradients w.r.t. q, k, v for upstream gradient dy. */
  const run = (f: Attention) =>
    tf.tidy(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
        f(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor4D, bias),
      );
      const out = f(q, k, v, bias);
      return [out, ...g([q, k, v], dy)];
    });
  const reference = run(batched).map((t) => t.dataSync());
  const reps = Number(args.reps);
  const names = Object.keys(VARIANTS);
  const maxDiff = new Map<string, number>();
  for (const name of names) {
    const got = run(VARIANTS[name]);
    let d = 0;
    got.forEach((t, i) => {
      const x = t.dataSync();
      for (let j = 0; j < x.length; j++) d = Math.max(d, Math.abs(x[j] - reference[i][j]));
    });
    tf.dispose(got);
    maxDiff.set(name, d);
  }
  // Round robin, so a burst of load from other processes hits every variant alike.
  const wall = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < reps; r++) {
    for (const name of names) {
      const t = await timeCalls(
        () => {
          const out = run(VARIANTS[name]);
          out.forEach((x) => x.dataSync());
          tf.dispose(out);
        },
        { warmup: r === 0 ? 1 : 0, count: 1, maxSeconds: 0 },
      );
      wall.get(name)!.push(t.wallMs[0]);
      cpu.get(name)!.push(t.cpuMs[0]);
    }
  }
  const base = median(cpu.get('batched')!);
  const rows = names.map((name) => [
    name,
    round(median(wall.get(name)!)).toFixed(1),
    round(median(cpu.get(name)!)).toFixed(1),
    (base / median(cpu.get(name)!)).toFixed(2),
    maxDiff.get(name)!.toExponential(1),
  ]);
  if (args.profile) {
    for (const name of names) {
      const prof = await tf.profile(() => tf.dispose(run(VARIANTS[name])));
      const by = new Map<string, [number, number]>();
      for (const k of prof.kernels) {
        const e = by.get(k.name) ?? [0, 0];
        by.set(k.name, [e[0] + (Number(k.kernelTimeMs) || 0), e[1] + 1]);
      }
      const top = [...by.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 8);
      process.stdout.write(`${name}: ${top.map(([k, [ms, n]]) => `${k} ${ms.toFixed(1)} ms/${n}`).join(', ')}\n`);
    }
  }
  process.stdout.write(
    `attention core forward + backward (${backend}, B=${B} H=${H} T=${T} hs=${hs}; one layer)\n` +
      formatTable(['variant', 'wall ms', 'cpu ms', 'speed-up (cpu)', 'max |diff|'], rows) +
      '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`micro-attention failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
