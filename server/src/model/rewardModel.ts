// The reward model of stage `reward-model` (spec §1): the GPT trunk with a scalar head in place
// of the LM head. r(prompt, completion) = head · h, where h is the final-norm hidden state at the
// sequence's last real token (its end-of-sequence token, where the whole reply has been read).
// The position is picked with a one-hot mask multiply: tf.gather has no gradient on wasm.
import * as tf from '@tensorflow/tfjs';
import { ChatMessage, encodeCompletion, encodePrompt } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { GPT } from './gpt';
import { matMul2d } from './ops';

/** Name of the scalar head's (C, 1) weight in a reward-model checkpoint's manifest. */
export const RM_HEAD = 'rm.head';

export class RewardModel {
  readonly gpt: GPT;
  /** (C, 1): hidden state -> scalar reward. */
  readonly head: tf.Variable;

  /** Wraps a trunk (usually the base checkpoint's GPT); a fresh head is small and seeded. */
  constructor(gpt: GPT, head?: tf.Variable, seed = 0) {
    this.gpt = gpt;
    this.head =
      head ?? tf.variable(tf.tidy(() => tf.randomNormal([gpt.config.dModel, 1], 0, 0.02, 'float32', seed * 31 + 7)));
  }

  /**
   * Trainable weights by name: the trunk and the scalar head. The LM head is left out: the
   * reward never reads it, and it stays in the checkpoint unchanged so the trunk still loads as a GPT.
   */
  get params(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, v] of this.gpt.params) if (name !== 'head') out.set(name, v);
    out.set(RM_HEAD, this.head);
    return out;
  }

  /** The token row the model scores: prompt, completion and end-of-sequence, cut to the context length. */
  static encode(tok: Tokenizer, prompt: string | ChatMessage[], completion: string, contextLength: number): number[] {
    return [...encodePrompt(tok, prompt), ...encodeCompletion(tok, completion)].slice(0, contextLength);
  }

  /**
   * Rewards (B) for rows of token ids of any lengths (right-padded here; causal attention keeps
   * padding out of earlier positions). Call inside tf.tidy or a gradient function.
   */
  scores(rows: number[][], padId: number): tf.Tensor1D {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = rows.map((r) => [...r, ...new Array<number>(T - r.length).fill(padId)]);
    const last = new Float32Array(B * T);
    rows.forEach((r, b) => (last[b * T + r.length - 1] = 1));
    const { hidden } = this.gpt.forwardHidden(tf.tensor2d(ids, [B, T], 'int32')); // (B*T, C)
    const perPosition = matMul2d(hidden, this.head as tf.Tensor2D).reshape([B, T]); // (B, T)
    return tf.sum(tf.mul(perPosition, tf.tensor2d(last, [B, T])), 1) as tf.Tensor1D;
  }

  /** Rewards as numbers, in batches of `batchSize` rows (no gradients); read back asynchronously. */
  async score(rows: number[][], padId: number, batchSize = 64): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < rows.length; i += batchSize) {
      const s = tf.tidy(() => this.scores(rows.slice(i, i + batchSize), padId));
      try {
        out.push(...(await s.data()));
      } finally {
        s.dispose();
      }
    }
    return out;
  }

  /**
   * Gradients of `loss` w.r.t. `params`, by name. Call outside tf.tidy; the caller disposes them
   * and then awaits `finishTrainingStep()`.
   */
  gradients(loss: () => tf.Scalar): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
    // Through the GPT so that an MoE trunk trains as in every other stage (capacity, balance).
    return this.gpt.trainingGradients(loss, this.params);
  }

  /** Completes a training step after `gradients` (the MoE trunk's routing read-back). */
  finishTrainingStep(): Promise<void> {
    return this.gpt.finishTrainingStep();
  }

  dispose(): void {
    this.gpt.dispose();
    this.head.dispose();
  }
}

/**
 * Bradley–Terry loss, mean over pairs of -log σ(r_chosen - r_rejected) = softplus(r_rejected -
 * r_chosen). Not tf.logSigmoid: its custom gradient reads its input without saving it, which
 * fails once the input is an intermediate tensor that tidy has disposed.
 */
export function bradleyTerryLoss(chosen: tf.Tensor1D, rejected: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.softplus(tf.sub(rejected, chosen))) as tf.Scalar;
}

/** Share of pairs the model ranks right (chosen above rejected); a tie counts half. */
export function pairAccuracy(chosen: ArrayLike<number>, rejected: ArrayLike<number>): number {
  if (chosen.length === 0) return 0;
  let right = 0;
  for (let i = 0; i < chosen.length; i++) right += chosen[i] > rejected[i] ? 1 : chosen[i] === rejected[i] ? 0.5 : 0;
  return right / chosen.length;
}
