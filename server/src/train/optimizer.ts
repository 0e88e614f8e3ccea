// AdamW with decoupled weight decay (matrices only) and global-norm gradient clipping. Written
// out rather than tf.train.adam so its moments can be checkpointed by parameter name.
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 };

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Updates applied so far (for bias correction). */
  t = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly cfg: AdamWConfig = DEFAULT_ADAMW,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Applies one update; grads are keyed by parameter name. Does not dispose the grads. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const c1 = 1 - Math.pow(beta1, this.t);
    const c2 = 1 - Math.pow(beta2, this.t);
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.mul(g, g), 1 - beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const decayed = p.rank >= 2 && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
    });
  }

  /** Moments by name (`m/<param>`, `v/<param>`) for checkpointing. */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, m] of this.m) out.set(`m/${name}`, m);
    for (const [name, v] of this.v) out.set(`v/${name}`, v);
    return out;
  }

  loadState(tensors: Map<string, tf.Tensor>, t: number): void {
    const targets: [string, tf.Variable][] = [...this.m].map(([n, m]) => [`m/${n}`, m]);
    for (const [n, v] of this.v) targets.push([`v/${n}`, v]);
    for (const [key, target] of targets) {
      const src = tensors.get(key);
      if (!src) throw new Error(`optimizer state is missing ${key}`);
      target.assign(src);
    }
    this.t = t;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

/**
 * Scales grads so their global L2 norm is at most maxNorm; returns the norm before clipping.
 * Reads the norm back asynchronously (the webgpu backend has no synchronous read in Node).
 */
export async function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): Promise<{ grads: Record<string, tf.Tensor>; norm: number }> {
  const normT = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.mul(g, g))))));
  let norm: number;
  try {
    norm = (await normT.data())[0];
  } finally {
    normT.dispose();
  }
  if (!(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm)) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const clipped: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) {
    clipped[k] = tf.mul(g, scale);
    g.dispose();
  }
  return { grads: clipped, norm };
}

/** Linear warmup, then cosine decay to minRatio * peak. */
export function learningRate(step: number, total: number, peak: number, warmup: number, minRatio = 0.1): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
