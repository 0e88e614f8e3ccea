// Decoder-only transformer: token embedding, pre-norm blocks with causal multi-head attention
// (rotary positions) and a GELU MLP, final norm, output head. Shapes: B batch, T time,
// C dModel, H heads, hs head size, V vocab.
import * as tf from '@tensorflow/tfjs';
import { ModelConfig, validateModelConfig } from './config';
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

export class GPT {
  readonly config: ModelConfig;
  /** Every trainable weight by name; names are stable across save/load. */
  readonly params: Map<string, tf.Variable>;

  constructor(config: ModelConfig, seed = 0, params?: Map<string, tf.Variable>) {
    validateModelConfig(config);
    this.config = config;
    this.params = params ?? GPT.initParams(config, seed);
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
      add(`h${l}.mlp.w1`, normal([c.dModel, c.dFF], 0.02));
      add(`h${l}.mlp.b1`, tf.zeros([c.dFF]));
      add(`h${l}.mlp.w2`, normal([c.dFF, c.dModel], residStd));
      add(`h${l}.mlp.b2`, tf.zeros([c.dModel]));
    }
    add('ln_f.g', tf.ones([c.dModel]));
    add('ln_f.b', tf.zeros([c.dModel]));
    add('head', normal([c.dModel, c.vocabSize], 0.02));
    return p;
  }

  /** Every parameter name for a config, in creation order. */
  static paramNames(c: ModelConfig): string[] {
    const names = ['tok_emb'];
    for (let l = 0; l < c.nLayers; l++) {
      for (const n of [
        'ln1.g',
        'ln1.b',
        'attn.wq',
        'attn.wk',
        'attn.wv',
        'attn.wo',
        'ln2.g',
        'ln2.b',
        'mlp.w1',
        'mlp.b1',
        'mlp.w2',
        'mlp.b2',
      ]) {
        names.push(`h${l}.${n}`);
      }
    }
    return [...names, 'ln_f.g', 'ln_f.b', 'head'];
  }

  private w(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`missing weight ${name}`);
    return v;
  }

  /**
   * Gradients of `loss` w.r.t. every parameter, keyed by parameter name. Call outside tf.tidy;
   * the caller disposes the returned tensors.
   */
  gradients(loss: () => tf.Scalar): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const { value, grads } = tf.variableGrads(loss, [...this.params.values()]);
    const byName: Record<string, tf.Tensor> = {};
    for (const [name, v] of this.params) if (grads[v.name]) byName[name] = grads[v.name];
    return { value, grads: byName };
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
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
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), bias); // (B, H, T, Tk)
      const y = tf
        .matMul(tf.softmax(scores), v) // (B, H, T, hs)
        .transpose([0, 2, 1, 3])
        .reshape([B * T, c.dModel]) as tf.Tensor2D;
      x = tf.add(x, matMul2d(y, this.w(`h${l}.attn.wo`) as tf.Tensor2D));
      const h2 = layerNorm(x, this.w(`h${l}.ln2.g`) as tf.Tensor1D, this.w(`h${l}.ln2.b`) as tf.Tensor1D);
      const m = gelu(
        tf.add(matMul2d(h2, this.w(`h${l}.mlp.w1`) as tf.Tensor2D), this.w(`h${l}.mlp.b1`)),
      ) as tf.Tensor2D;
      x = tf.add(x, tf.add(matMul2d(m, this.w(`h${l}.mlp.w2`) as tf.Tensor2D), this.w(`h${l}.mlp.b2`)));
    }
    const hidden = layerNorm(x, this.w('ln_f.g') as tf.Tensor1D, this.w('ln_f.b') as tf.Tensor1D);
    return { hidden, cache: opts.returnCache ? newCache : undefined };
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
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
