// Decoder-only transformer: token embedding, pre-norm blocks with causal multi-head attention
// (rotary positions) and a GELU MLP or a Mixture-of-Experts layer (moe.ts), final norm, output
// head. Shapes: B batch, T time, C dModel, H heads, hs head size, V vocab.
import * as tf from '@tensorflow/tfjs';
import { attention } from './attention';
import { ModelConfig, validateModelConfig } from './config';
import { capacityFor, MoeRouting, moeFeedForward, MoeWeights, nudgeBias } from './moe';
import { applyRope, embed, gelu, layerNorm, matMul2d, ropeTables } from './ops';

/** Keys and values of one layer for the positions seen so far: (B, H, Tpast, hs). */
export interface LayerCache {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

export interface ForwardOptions {
  /** Absolute position of ids[:, 0] (non-zero when continuing from a cache). */
  startPos?: number;
  /** Cached keys/values of earlier positions, one per layer. */
  cache?: LayerCache[];
  /** (B, Tpast + T): 1 where a key position holds a real token, 0 for left padding. */
  keyMask?: tf.Tensor2D;
  /** Return the updated cache (sampling); training leaves it off. */
  returnCache?: boolean;
}

export interface ForwardResult {
  /** (B * T, V) next-token logits for every input position. */
  logits: tf.Tensor2D;
  cache?: LayerCache[];
}

const NEG_INF = -1e9;

/** One training step's Mixture-of-Experts figures (after the balance bias moved). */
export interface MoeStepStats {
  /** Per layer, each expert's share of the routed assignments (sums to 1). */
  load: number[][];
  /** Per layer, the balance bias after this step's nudge. */
  bias: number[][];
  /** Mean over layers of the per-token routing entropy (nats; ln E is uniform). */
  routerEntropy: number;
  /** Assignments dropped for capacity / all assignments. */
  droppedRatio: number;
  /** Busiest expert's load / mean load, worst layer (1 = perfectly balanced). */
  maxLoadRatio: number;
  /** Sequence-wise balance loss summed over layers, before its weight. */
  balanceLoss?: number;
}

export interface TrainingOptions {
  /** This micro-batch's share of the step's batch (rows / all rows): scales the balance loss. */
  batchShare?: number;
}

/** What the forward passes of one training step recorded; see GPT.trainingGradients. */
interface RoutingLog {
  layers: MoeRouting[];
  balance: tf.Scalar[];
}

function disposeRoutingLog(log: RoutingLog): void {
  tf.dispose(log.layers.flatMap((r) => [r.load, r.dropped, r.entropy]));
  tf.dispose(log.balance);
}

/** Trainable-parameter suffixes of one block, dense or MoE, in creation order. */
function blockParamSuffixes(c: ModelConfig): string[] {
  const attn = ['ln1.g', 'ln1.b', 'attn.wq', 'attn.wk', 'attn.wv', 'attn.wo', 'ln2.g', 'ln2.b'];
  if (!c.moe) return [...attn, 'mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'];
  const shared = c.moe.sharedExperts > 0 ? ['moe.shared.w1', 'moe.shared.w2'] : [];
  return [...attn, 'moe.router', 'moe.w1', 'moe.w2', ...shared, 'moe.bias'];
}

export class GPT {
  readonly config: ModelConfig;
  /** Every trainable weight by name; names are stable across save/load. */
  readonly params: Map<string, tf.Variable>;

  /** Last training step's MoE figures; undefined for a dense model or before the first step. */
  lastMoeStats?: MoeStepStats;
  private routingLog: RoutingLog | null = null;
  /** What the last trainingGradients routed, until finishTrainingStep reads it back. */
  private pendingRouting: RoutingLog | null = null;

  constructor(config: ModelConfig, seed = 0, params?: Map<string, tf.Variable>) {
    validateModelConfig(config);
    this.config = config;
    this.params = params ?? GPT.initParams(config, seed);
    // The balance bias is state, not a weight: no gradient, no optimizer update.
    for (const [name, v] of this.params) if (name.endsWith('.moe.bias')) v.trainable = false;
  }

  static initParams(c: ModelConfig, seed: number): Map<string, tf.Variable> {
    const p = new Map<string, tf.Variable>();
    let s = seed * 1000 + 1;
    const normal = (shape: number[], std: number) => tf.tidy(() => tf.randomNormal(shape, 0, std, 'float32', s++));
    // tfjs variable names are global, so they stay auto-generated; `params` keys are the stable names.
    const add = (name: string, t: tf.Tensor) => p.set(name, tf.variable(t, true));
    const residStd = 0.02 / Math.sqrt(2 * c.nLayers);
    add('tok_emb', normal([c.vocabSize, c.dModel], 0.02));
    for (let l = 0; l < c.nLayers; l++) {
      add(`h${l}.ln1.g`, tf.ones([c.dModel]));
      add(`h${l}.ln1.b`, tf.zeros([c.dModel]));
      add(`h${l}.attn.wq`, normal([c.dModel, c.dModel], 0.02));
      add(`h${l}.attn.wk`, normal([c.dModel, c.dModel], 0.02));
      add(`h${l}.attn.wv`, normal([c.dModel, c.dModel], 0.02));
      add(`h${l}.attn.wo`, normal([c.dModel, c.dModel], residStd));
      add(`h${l}.ln2.g`, tf.ones([c.dModel]));
      add(`h${l}.ln2.b`, tf.zeros([c.dModel]));
      const m = c.moe;
      if (m) {
        const sharedWidth = m.sharedExperts * m.expertHidden;
        add(`h${l}.moe.router`, normal([c.dModel, m.routedExperts], 0.02));
        add(`h${l}.moe.w1`, normal([m.routedExperts, c.dModel, m.expertHidden], 0.02));
        add(`h${l}.moe.w2`, normal([m.routedExperts, m.expertHidden, c.dModel], residStd));
        if (sharedWidth > 0) {
          add(`h${l}.moe.shared.w1`, normal([c.dModel, sharedWidth], 0.02));
          add(`h${l}.moe.shared.w2`, normal([sharedWidth, c.dModel], residStd));
        }
        add(`h${l}.moe.bias`, tf.zeros([m.routedExperts]));
      } else {
        add(`h${l}.mlp.w1`, normal([c.dModel, c.dFF], 0.02));
        add(`h${l}.mlp.b1`, tf.zeros([c.dFF]));
        add(`h${l}.mlp.w2`, normal([c.dFF, c.dModel], residStd));
        add(`h${l}.mlp.b2`, tf.zeros([c.dModel]));
      }
    }
    add('ln_f.g', tf.ones([c.dModel]));
    add('ln_f.b', tf.zeros([c.dModel]));
    add('head', normal([c.dModel, c.vocabSize], 0.02));
    return p;
  }

  /** Every parameter name for a config, in creation order. */
  static paramNames(c: ModelConfig): string[] {
    const names = ['tok_emb'];
    for (let l = 0; l < c.nLayers; l++) for (const n of blockParamSuffixes(c)) names.push(`h${l}.${n}`);
    return [...names, 'ln_f.g', 'ln_f.b', 'head'];
  }

  private w(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`missing weight ${name}`);
    return v;
  }

  /**
   * Gradients of `loss` w.r.t. every parameter, keyed by parameter name. Call outside tf.tidy;
   * the caller disposes the returned tensors and then awaits `finishTrainingStep()`.
   */
  gradients(loss: () => tf.Scalar, opts: TrainingOptions = {}): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
    return this.trainingGradients(loss, this.params, opts);
  }

  /**
   * Gradients of `loss` w.r.t. `params` (any map of variables, e.g. a reward model's) with the
   * forward passes inside in training mode. For MoE that means: expert capacity applies, the
   * weighted balance loss joins the objective, and the routing the step saw is recorded for
   * `finishTrainingStep()`, which the caller awaits once per optimizer step (it reads the record
   * back, nudges each layer's balance bias and sets `lastMoeStats`); micro-batches of one step
   * add to the same record. `value` is `loss` alone.
   */
  trainingGradients(
    loss: () => tf.Scalar,
    params: Map<string, tf.Variable>,
    opts: TrainingOptions = {},
  ): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const vars = [...params.values()].filter((v) => v.trainable);
    const moe = this.config.moe;
    if (!moe) return byName(tf.variableGrads(loss, vars), params);
    // Unread routing of earlier calls (gradient accumulation over micro-batches) adds up.
    const log: RoutingLog = this.pendingRouting ?? { layers: [], balance: [] };
    const firstBalance = log.balance.length;
    const balanceWeight = moe.balanceLossWeight * (opts.batchShare ?? 1);
    this.routingLog = log;
    let plain: tf.Scalar | undefined;
    let result: { value: tf.Scalar; grads: Record<string, tf.Tensor> };
    try {
      result = tf.variableGrads(() => {
        const l = loss();
        const mine = log.balance.slice(firstBalance); // this call's forward passes only
        if (mine.length === 0 || balanceWeight === 0) return l;
        plain = tf.keep(tf.clone(l));
        return tf.add(l, tf.mul(tf.addN(mine), balanceWeight)) as tf.Scalar;
      }, vars);
    } finally {
      this.routingLog = null;
    }
    this.pendingRouting = log;
    if (plain) {
      result.value.dispose();
      result = { ...result, value: plain };
    }
    return byName(result, params);
  }

  /**
   * Completes a training step after `gradients`/`trainingGradients`: for MoE, reads back what the
   * step's forward passes routed (asynchronously: the webgpu backend has no synchronous read in
   * Node), nudges the balance biases and sets `lastMoeStats`. A no-op for a dense model.
   */
  async finishTrainingStep(): Promise<void> {
    const log = this.pendingRouting;
    if (!log) return;
    this.pendingRouting = null;
    this.lastMoeStats = await this.finishRouting(log);
  }

  /** Reads what the step's forward passes routed, nudges the balance biases, frees the record. */
  private async finishRouting(log: RoutingLog): Promise<MoeStepStats | undefined> {
    const moe = this.config.moe!;
    const L = this.config.nLayers;
    if (log.layers.length === 0) {
      disposeRoutingLog(log);
      return undefined;
    }
    let layers: { counts: ArrayLike<number>; dropped: number; entropy: number }[];
    let balance: number[];
    let biases: Float32Array[];
    try {
      // All reads at once: one wait for the device instead of one per tensor.
      const biasVars = Array.from({ length: L }, (_, l) => this.w(`h${l}.moe.bias`));
      [layers, balance, biases] = await Promise.all([
        Promise.all(
          log.layers.map(async (r) => {
            const [counts, dropped, entropy] = await Promise.all([r.load.data(), r.dropped.data(), r.entropy.data()]);
            return { counts, dropped: dropped[0], entropy: entropy[0] };
          }),
        ),
        Promise.all(log.balance.map(async (b) => (await b.data())[0])),
        Promise.all(biasVars.map(async (v) => (await v.data()) as Float32Array)),
      ]);
    } finally {
      disposeRoutingLog(log);
    }
    // Several forward passes per step (e.g. chosen and rejected) add up per layer.
    const load = Array.from({ length: L }, () => new Array<number>(moe.routedExperts).fill(0));
    let dropped = 0;
    let entropy = 0;
    layers.forEach((r, i) => {
      for (let e = 0; e < r.counts.length; e++) load[i % L][e] += r.counts[e];
      dropped += r.dropped;
      entropy += r.entropy;
    });
    const balanceLoss = balance.length ? balance.reduce((a, b) => a + b, 0) : undefined;
    const assignments = load.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
    const bias: number[][] = [];
    for (let l = 0; l < L; l++) {
      const v = this.w(`h${l}.moe.bias`);
      const next = nudgeBias(Array.from(biases[l]), load[l], moe.biasUpdateRate);
      tf.tidy(() => v.assign(tf.tensor1d(next)));
      bias.push(next);
    }
    const share = load.map((row) => {
      const sum = row.reduce((a, b) => a + b, 0) || 1;
      return row.map((x) => x / sum);
    });
    return {
      load: share,
      bias,
      routerEntropy: entropy / log.layers.length,
      droppedRatio: assignments > 0 ? dropped / assignments : 0,
      maxLoadRatio: Math.max(...share.map((row) => Math.max(...row) * row.length)),
      balanceLoss: balanceLoss === undefined ? undefined : balanceLoss / (log.balance.length / L),
    };
  }

  /** Trainable weights (the MoE balance bias is state, not counted). */
  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) if (v.trainable) n += v.size;
    return n;
  }

  /** ids (B, T) -> logits (B * T, V). Call inside tf.tidy; cached tensors are returned un-kept. */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    const { hidden, cache } = this.forwardHidden(ids, opts);
    return { logits: matMul2d(hidden, this.w('head') as tf.Tensor2D), cache };
  }

  /**
   * ids (B, T) -> final-norm hidden states (B * T, C), before the output head: what `forward`
   * turns into logits and what a scalar head (the reward model) reads. Call inside tf.tidy.
   */
  forwardHidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): { hidden: tf.Tensor2D; cache?: LayerCache[] } {
    const c = this.config;
    const [B, T] = ids.shape;
    const H = c.nHeads;
    const hs = c.dModel / H;
    const start = opts.startPos ?? 0;
    const past = opts.cache ? opts.cache[0].k.shape[2] : 0;
    const Tk = past + T;
    if (start + T > c.contextLength) {
      throw new Error(`sequence of ${start + T} tokens exceeds the context length ${c.contextLength}`);
    }

    const bias = attentionBias(T, Tk, past, opts.keyMask);
    const { cos, sin } = ropeTables(start, T, hs, c.ropeBase);
    let x = embed(ids.reshape([B * T]) as tf.Tensor1D, this.w('tok_emb') as tf.Tensor2D); // (B*T, C)
    const newCache: LayerCache[] = [];

    const heads = (t: tf.Tensor2D) => t.reshape([B, T, H, hs]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // (B, H, T, hs)
    for (let l = 0; l < c.nLayers; l++) {
      const h = layerNorm(x, this.w(`h${l}.ln1.g`) as tf.Tensor1D, this.w(`h${l}.ln1.b`) as tf.Tensor1D);
      const q = applyRope(heads(matMul2d(h, this.w(`h${l}.attn.wq`) as tf.Tensor2D)), cos, sin);
      let k = applyRope(heads(matMul2d(h, this.w(`h${l}.attn.wk`) as tf.Tensor2D)), cos, sin);
      let v = heads(matMul2d(h, this.w(`h${l}.attn.wv`) as tf.Tensor2D));
      if (opts.cache) {
        k = tf.concat([opts.cache[l].k, k], 2);
        v = tf.concat([opts.cache[l].v, v], 2);
      }
      if (opts.returnCache) newCache.push({ k, v });
      const y = attention(q, k, v, bias) // (B, H, T, hs)
        .transpose([0, 2, 1, 3])
        .reshape([B * T, c.dModel]) as tf.Tensor2D;
      x = tf.add(x, matMul2d(y, this.w(`h${l}.attn.wo`) as tf.Tensor2D));
      const h2 = layerNorm(x, this.w(`h${l}.ln2.g`) as tf.Tensor1D, this.w(`h${l}.ln2.b`) as tf.Tensor1D);
      x = tf.add(x, c.moe ? this.moeBlock(l, h2, B, T) : this.mlpBlock(l, h2));
    }
    const hidden = layerNorm(x, this.w('ln_f.g') as tf.Tensor1D, this.w('ln_f.b') as tf.Tensor1D);
    return { hidden, cache: opts.returnCache ? newCache : undefined };
  }

  private mlpBlock(l: number, h: tf.Tensor2D): tf.Tensor2D {
    const m = gelu(tf.add(matMul2d(h, this.w(`h${l}.mlp.w1`) as tf.Tensor2D), this.w(`h${l}.mlp.b1`))) as tf.Tensor2D;
    return tf.add(matMul2d(m, this.w(`h${l}.mlp.w2`) as tf.Tensor2D), this.w(`h${l}.mlp.b2`)) as tf.Tensor2D;
  }

  /**
   * Training (inside trainingGradients) drops tokens over capacity and records the routing;
   * inference sizes the capacity to the busiest expert's load, so no token is ever dropped and
   * cached sampling matches a full recompute.
   */
  private moeBlock(l: number, h: tf.Tensor2D, B: number, T: number): tf.Tensor2D {
    const moe = this.config.moe!;
    const log = this.routingLog;
    const opt = (name: string) => this.params.get(`h${l}.moe.${name}`) as tf.Tensor2D | undefined;
    const weights: MoeWeights = {
      router: this.w(`h${l}.moe.router`) as tf.Tensor2D,
      w1: this.w(`h${l}.moe.w1`) as tf.Tensor3D,
      w2: this.w(`h${l}.moe.w2`) as tf.Tensor3D,
      sharedW1: opt('shared.w1'),
      sharedW2: opt('shared.w2'),
      bias: this.w(`h${l}.moe.bias`) as tf.Tensor1D,
    };
    const out = moeFeedForward(h, weights, moe, {
      capacity: log ? capacityFor(moe, B * T) : 'dropless',
      sequences: log && moe.balanceLossWeight > 0 ? { batch: B, length: T } : undefined,
    });
    if (log) {
      const r = out.routing;
      log.layers.push({ load: tf.keep(r.load), dropped: tf.keep(r.dropped), entropy: tf.keep(r.entropy) });
      // Kept so its value outlives the gradient scope; still on the tape for the objective.
      if (out.balanceLoss) log.balance.push(tf.keep(out.balanceLoss));
    }
    return out.y;
  }

  dispose(): void {
    if (this.pendingRouting) disposeRoutingLog(this.pendingRouting);
    this.pendingRouting = null;
    for (const v of this.params.values()) v.dispose();
  }
}

function byName(
  result: { value: tf.Scalar; grads: tf.NamedTensorMap },
  params: Map<string, tf.Variable>,
): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const grads: Record<string, tf.Tensor> = {};
  for (const [name, v] of params) if (result.grads[v.name]) grads[name] = result.grads[v.name];
  return { value: result.value, grads };
}

/**
 * Additive attention bias (B or 1, 1, T, Tk): query i (absolute index past + i) sees key j
 * when j <= past + i and key j is not padding.
 */
function attentionBias(T: number, Tk: number, past: number, keyMask?: tf.Tensor2D): tf.Tensor {
  const causal = new Float32Array(T * Tk);
  for (let i = 0; i < T; i++) for (let j = past + i + 1; j < Tk; j++) causal[i * Tk + j] = NEG_INF;
  const causalT = tf.tensor4d(causal, [1, 1, T, Tk]);
  if (!keyMask) return causalT;
  const pad = tf.mul(tf.sub(1, keyMask), NEG_INF).reshape([keyMask.shape[0], 1, 1, Tk]);
  return tf.add(causalT, pad);
}
