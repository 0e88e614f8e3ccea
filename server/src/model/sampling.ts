// Batched autoregressive sampling with a KV cache. Prompts are left-padded to a common length
// and padding is masked out of attention; rotary positions make the padding offset harmless.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { GPT, LayerCache } from './gpt';

export interface SampleOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK?: number;
  /** Nucleus sampling: keep the smallest set with this much probability (1 = off). */
  topP?: number;
  /** Token ids that end a sequence (included in the output). */
  stopIds: number[];
  padId: number;
  rng?: Rng;
  /** Called with (row, token) as each token is chosen, for streaming. */
  onToken?: (row: number, token: number) => void;
  /** Recompute the whole sequence each step instead of using the cache (reference path for tests). */
  noCache?: boolean;
}

export interface SampleResult {
  /** Generated ids per prompt, including the stop token when one was produced. */
  tokens: number[][];
  /** True where the row hit maxNewTokens or the context length without a stop token. */
  truncated: boolean[];
}

/**
 * Samples continuations of `prompts` (batched, one device read per generated token for the whole
 * batch). Async because the webgpu backend can only read tensors back asynchronously in Node.
 */
export async function generate(model: GPT, prompts: number[][], opts: SampleOptions): Promise<SampleResult> {
  const B = prompts.length;
  const P = Math.max(...prompts.map((p) => p.length));
  const budget = Math.min(opts.maxNewTokens, model.config.contextLength - P);
  if (budget <= 0)
    throw new Error(`prompt of ${P} tokens leaves no room in the context length ${model.config.contextLength}`);
  const rng = opts.rng ?? new Rng(0);
  const rows = prompts.map((p) => [...new Array(P - p.length).fill(opts.padId), ...p]);
  const mask = prompts.map((p) => [...new Array(P - p.length).fill(0), ...new Array(p.length).fill(1)]);
  const out: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);

  let cache: LayerCache[] | undefined;
  let lastLogits: Float32Array;
  // Prefill: all prompt positions at once.
  ({ cache, lastLogits } = await step(model, rows, mask, 0, undefined, !opts.noCache));

  for (let t = 0; t < budget; t++) {
    const next: number[] = [];
    for (let b = 0; b < B; b++) {
      const tok = done[b]
        ? opts.padId
        : pickToken(lastLogits.subarray(b * model.config.vocabSize, (b + 1) * model.config.vocabSize), opts, rng);
      next.push(tok);
      if (done[b]) continue;
      out[b].push(tok);
      opts.onToken?.(b, tok);
      if (opts.stopIds.includes(tok)) done[b] = true;
    }
    if (done.every(Boolean) || t === budget - 1) break;
    for (let b = 0; b < B; b++) {
      rows[b].push(next[b]);
      mask[b].push(1);
    }
    if (opts.noCache) {
      ({ lastLogits } = await step(model, rows, mask, 0, undefined, false));
    } else {
      const prev = cache;
      ({ cache, lastLogits } = await step(
        model,
        rows.map((r) => [r[r.length - 1]]),
        mask,
        P + t,
        prev,
        true,
      ));
      prev?.forEach((c) => (c.k.dispose(), c.v.dispose()));
    }
  }
  cache?.forEach((c) => (c.k.dispose(), c.v.dispose()));
  return { tokens: out, truncated: out.map((o) => !opts.stopIds.includes(o[o.length - 1])) };
}

/** Runs the model on `ids` and returns the logits of each row's last position, (B * V). */
async function step(
  model: GPT,
  ids: number[][],
  mask: number[][],
  startPos: number,
  cache: LayerCache[] | undefined,
  returnCache: boolean,
): Promise<{ cache?: LayerCache[]; lastLogits: Float32Array }> {
  const B = ids.length;
  const T = ids[0].length;
  const V = model.config.vocabSize;
  // tf.tidy keeps tensors returned inside plain objects/arrays; cast for its container type.
  const result = tf.tidy(() => {
    const { logits, cache: next } = model.forward(tf.tensor2d(ids, [B, T], 'int32'), {
      startPos,
      cache,
      keyMask: tf.tensor2d(mask, [B, mask[0].length]),
      returnCache,
    });
    const last = logits
      .reshape([B, T, V])
      .slice([0, T - 1, 0], [B, 1, V])
      .reshape([B * V]);
    return { last, cache: next } as unknown as tf.TensorContainer;
  }) as unknown as { last: tf.Tensor; cache?: LayerCache[] };
  let lastLogits: Float32Array;
  try {
    lastLogits = (await result.last.data()) as Float32Array;
  } finally {
    result.last.dispose();
  }
  return { cache: result.cache as LayerCache[] | undefined, lastLogits };
}

/** Chooses one token from a row of logits: argmax at temperature 0, else top-k/top-p sampling. */
export function pickToken(
  logits: Float32Array,
  opts: Pick<SampleOptions, 'temperature' | 'topK' | 'topP'>,
  rng: Rng,
): number {
  if (opts.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (opts.topK && opts.topK > 0) order = order.slice(0, opts.topK);
  const maxLogit = logits[order[0]];
  let probs = order.map((i) => Math.exp((logits[i] - maxLogit) / opts.temperature));
  let sum = probs.reduce((a, b) => a + b, 0);
  const topP = opts.topP ?? 1;
  if (topP < 1) {
    let cumulative = 0;
    let keep = 0;
    while (keep < probs.length && cumulative < topP * sum) cumulative += probs[keep++];
    order = order.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = cumulative;
  }
  let u = rng.next() * sum;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u <= 0) return order[i];
  }
  return order[order.length - 1];
}
