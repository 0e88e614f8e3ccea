// Turns tokenized data into LmBatches: random windows of a token stream for pretraining,
// prompt+completion pairs (loss on completion tokens only) for SFT.
import { Rng } from '../util/rng';
import { LmBatch } from './lmStep';

/** A random window of `length + 1` tokens per row from one long stream of documents. */
export function streamBatch(stream: Int32Array, batchSize: number, length: number, rng: Rng): LmBatch {
  if (stream.length < length + 2)
    throw new Error(`the corpus has only ${stream.length} tokens; need more than ${length + 1}`);
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let b = 0; b < batchSize; b++) {
    const start = rng.int(0, stream.length - length - 1);
    const window = Array.from(stream.subarray(start, start + length + 1));
    inputs.push(window.slice(0, -1));
    targets.push(window.slice(1));
  }
  return { inputs, targets, mask: inputs.map((row) => row.map(() => 1)) };
}

export interface TokenizedPair {
  prompt: number[];
  completion: number[];
}

/**
 * Rows of prompt + completion, right-padded to the longest row in the batch (not to the
 * context length: short batches cost less). Loss only on completion tokens.
 */
export function pairBatch(pairs: TokenizedPair[], padId: number, maxLength: number): LmBatch {
  const seqs = pairs.map((p) => [...p.prompt, ...p.completion].slice(0, maxLength + 1));
  const T = Math.max(...seqs.map((s) => s.length)) - 1;
  const inputs: number[][] = [];
  const targets: number[][] = [];
  const mask: number[][] = [];
  seqs.forEach((seq, i) => {
    const promptLen = pairs[i].prompt.length;
    const row: number[] = [];
    const tgt: number[] = [];
    const m: number[] = [];
    for (let t = 0; t < T; t++) {
      const real = t + 1 < seq.length;
      row.push(t < seq.length ? seq[t] : padId);
      tgt.push(real ? seq[t + 1] : padId);
      m.push(real && t + 1 >= promptLen ? 1 : 0);
    }
    inputs.push(row);
    targets.push(tgt);
    mask.push(m);
  });
  return { inputs, targets, mask };
}

/** Draws batches without replacement, reshuffling each epoch (the order follows the RNG). */
export class EpochSampler<T> {
  private order: number[] = [];
  private pos = 0;
  constructor(
    private readonly items: T[],
    private readonly rng: Rng,
  ) {
    if (!items.length) throw new Error('no training examples');
  }

  next(count: number): T[] {
    const out: T[] = [];
    while (out.length < count) {
      if (this.pos >= this.order.length) {
        this.order = this.rng.shuffle(this.items.map((_, i) => i));
        this.pos = 0;
      }
      out.push(this.items[this.order[this.pos++]]);
    }
    return out;
  }
}

/**
 * Rows per forward/backward pass of the GRPO update and its frozen log-probs. Activation memory
 * grows with rows (wasm heap, measured for `small`: 32 rows ~0.9 GB, 128 rows ~2.9 GB, and an MoE
 * model at 128 rows passed wasm's 4 GB), so larger batches go through in chunks of this many rows.
 */
export const MICRO_BATCH_ROWS = 32;

/** Rows [start, end) of a batch. */
export function batchRows(batch: LmBatch, start: number, end: number): LmBatch {
  return {
    inputs: batch.inputs.slice(start, end),
    targets: batch.targets.slice(start, end),
    mask: batch.mask.slice(start, end),
  };
}

/** Tokens that carry loss (sum of the mask). */
export function maskedTokenCount(batch: LmBatch): number {
  return batch.mask.reduce((a, row) => a + row.reduce((b, x) => b + x, 0), 0);
}
