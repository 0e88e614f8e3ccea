// Architecture config and the named size presets.

/**
 * DeepSeekMoE-style feed-forward: fine-grained routed experts, of which each token uses `topK`,
 * plus always-on shared experts. Routing is the auxiliary-loss-free scheme of DeepSeek-V3.
 */
export interface MoeConfig {
  /** Routed experts per MoE layer (E). */
  routedExperts: number;
  /** Always-on shared experts; run as one MLP of width sharedExperts * expertHidden. */
  sharedExperts: number;
  /** Routed experts each token uses (K). */
  topK: number;
  /** Hidden width of each expert's MLP. */
  expertHidden: number;
  /** Training capacity per expert = ceil(capacityFactor * tokens * topK / E); the rest are dropped. */
  capacityFactor: number;
  /**
   * Step of the per-expert balance bias (gamma): added to under-loaded experts' selection scores.
   * DeepSeek-V3 used 0.001 over a long pretraining; our runs are hundreds of steps, and 0.01
   * took small-moe from 4.9x to 1.5x the mean load on its busiest expert within 60 steps.
   */
  biasUpdateRate: number;
  /** Weight (alpha) of the sequence-wise balance loss; 0 turns it off. */
  balanceLossWeight: number;
}

export interface ModelConfig {
  /** Tokens in the vocabulary (set from the tokenizer). */
  vocabSize: number;
  /** Width of the residual stream (C). */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads; dModel must divide evenly. */
  nHeads: number;
  /** Hidden width of each MLP (usually 4 * dModel); unused by MoE layers. */
  dFF: number;
  /** Longest sequence (prompt + completion) the model is trained and sampled on. */
  contextLength: number;
  /** RoPE base frequency; rotary positions are what let the small model learn the working layout. */
  ropeBase: number;
  /** Present: every block's feed-forward is a Mixture-of-Experts layer. */
  moe?: MoeConfig;
}

export const PRESET_NAMES = ['tiny', 'small', 'base', 'tiny-moe', 'small-moe'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const MOE_DEFAULTS: Pick<MoeConfig, 'capacityFactor' | 'biasUpdateRate' | 'balanceLossWeight'> = {
  capacityFactor: 1.25,
  biasUpdateRate: 0.01,
  balanceLossWeight: 0.0001,
};

/**
 * `tiny` is for tests; `small` is the default that learns the sample task on 2 CPU cores.
 * `small-moe` has the active parameters of `small` (1 shared + 3 of 24 routed experts of width
 * 128 = the dense MLP's 512) and about 4x its total parameters.
 */
export const PRESETS: Record<PresetName, Omit<ModelConfig, 'vocabSize'>> = {
  tiny: { dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, contextLength: 96, ropeBase: 10000 },
  small: { dModel: 128, nLayers: 2, nHeads: 4, dFF: 512, contextLength: 96, ropeBase: 10000 },
  base: { dModel: 256, nLayers: 4, nHeads: 8, dFF: 1024, contextLength: 128, ropeBase: 10000 },
  'tiny-moe': {
    dModel: 32,
    nLayers: 1,
    nHeads: 2,
    dFF: 64,
    contextLength: 96,
    ropeBase: 10000,
    moe: { routedExperts: 4, sharedExperts: 1, topK: 2, expertHidden: 16, ...MOE_DEFAULTS },
  },
  'small-moe': {
    dModel: 128,
    nLayers: 2,
    nHeads: 4,
    dFF: 512,
    contextLength: 96,
    ropeBase: 10000,
    moe: { routedExperts: 24, sharedExperts: 1, topK: 3, expertHidden: 128, ...MOE_DEFAULTS },
  },
};

export function presetConfig(name: string, vocabSize: number): ModelConfig {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name as PresetName] : undefined;
  if (!preset) throw new Error(`unknown preset "${name}" (expected one of: ${PRESET_NAMES.join(', ')})`);
  return { vocabSize, ...preset, ...(preset.moe ? { moe: { ...preset.moe } } : {}) };
}

/** A config's `model`: a preset name or an architecture (MoE settings left out take their defaults). */
export function resolveModelConfig(model: string | Omit<ModelConfig, 'vocabSize'>, vocabSize: number): ModelConfig {
  if (typeof model === 'string') return presetConfig(model, vocabSize);
  return { ...model, vocabSize, ...(model.moe ? { moe: { ...MOE_DEFAULTS, ...model.moe } } : {}) };
}

export function validateModelConfig(c: ModelConfig): void {
  if (c.dModel % c.nHeads !== 0) throw new Error(`dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  if ((c.dModel / c.nHeads) % 2 !== 0) throw new Error('head size must be even for rotary embeddings');
  const m = c.moe;
  if (!m) return;
  if (!(m.topK >= 1 && m.topK <= m.routedExperts)) {
    throw new Error(`moe.topK ${m.topK} must be between 1 and moe.routedExperts ${m.routedExperts}`);
  }
  if (!(m.capacityFactor > 0)) throw new Error(`moe.capacityFactor ${m.capacityFactor} must be positive`);
  if (m.sharedExperts < 0 || m.expertHidden < 1)
    throw new Error('moe.sharedExperts must be >= 0 and moe.expertHidden >= 1');
}

/** Weights per token: all of them for a dense model; for MoE, only topK of the routed experts count. */
export function parameterCounts(c: ModelConfig): { total: number; activePerToken: number } {
  const C = c.dModel;
  const attn = 4 * C * C + 4 * C; // q, k, v, o + two layer norms
  let mlpTotal = 2 * C * c.dFF + c.dFF + C;
  let mlpActive = mlpTotal;
  if (c.moe) {
    const m = c.moe;
    const expert = 2 * C * m.expertHidden;
    const shared = m.sharedExperts > 0 ? 2 * C * m.sharedExperts * m.expertHidden : 0;
    const router = C * m.routedExperts;
    mlpTotal = router + shared + m.routedExperts * expert;
    mlpActive = router + shared + m.topK * expert;
  }
  const outer = 2 * c.vocabSize * C + 2 * C; // embedding, head, final norm
  return {
    total: outer + c.nLayers * (attn + mlpTotal),
    activePerToken: outer + c.nLayers * (attn + mlpActive),
  };
}

/** "1,844,736 parameters, 468,480 active per token (MoE: 3 of 24 routed + 1 shared experts)". */
export function describeParameters(c: ModelConfig): string {
  const { total, activePerToken } = parameterCounts(c);
  if (!c.moe) return `${total.toLocaleString('en-US')} parameters`;
  const m = c.moe;
  return (
    `${total.toLocaleString('en-US')} parameters, ${activePerToken.toLocaleString('en-US')} active per token ` +
    `(MoE: ${m.topK} of ${m.routedExperts} routed + ${m.sharedExperts} shared experts)`
  );
}
