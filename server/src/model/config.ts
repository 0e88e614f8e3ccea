// Architecture config and the named size presets.

export interface ModelConfig {
  /** Tokens in the vocabulary (set from the tokenizer). */
  vocabSize: number;
  /** Width of the residual stream (C). */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads; dModel must divide evenly. */
  nHeads: number;
  /** Hidden width of each MLP (usually 4 * dModel). */
  dFF: number;
  /** Longest sequence (prompt + completion) the model is trained and sampled on. */
  contextLength: number;
  /** RoPE base frequency; rotary positions are what let the small model learn the working layout. */
  ropeBase: number;
}

export type PresetName = 'tiny' | 'small' | 'base';

/** `tiny` is for tests; `small` is the default that learns the sample task on 2 CPU cores. */
export const PRESETS: Record<PresetName, Omit<ModelConfig, 'vocabSize'>> = {
  tiny: { dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, contextLength: 96, ropeBase: 10000 },
  small: { dModel: 128, nLayers: 2, nHeads: 4, dFF: 512, contextLength: 96, ropeBase: 10000 },
  base: { dModel: 256, nLayers: 4, nHeads: 8, dFF: 1024, contextLength: 128, ropeBase: 10000 },
};

export function presetConfig(name: string, vocabSize: number): ModelConfig {
  const preset = PRESETS[name as PresetName];
  if (!preset) throw new Error(`unknown preset "${name}" (expected one of: ${Object.keys(PRESETS).join(', ')})`);
  return { vocabSize, ...preset };
}

export function validateModelConfig(c: ModelConfig): void {
  if (c.dModel % c.nHeads !== 0) throw new Error(`dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  if ((c.dModel / c.nHeads) % 2 !== 0) throw new Error('head size must be even for rotary embeddings');
}
