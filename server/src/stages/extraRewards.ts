// Rewards a GRPO stage scores beside its RewardSet, for records they apply to: `rl-all`'s
// `preference`, the reward model's score for general prompts. Like a builtin that does not
// apply, an extra reward that skips a record is left out of that record's breakdown and total.
import { Prompt, RlExample } from '../data/records';
import { Group } from '../grpo/rollout';
import { RewardModel } from '../model/rewardModel';
import { checkContext, RewardContext, RewardFn } from '../rewards';
import { Tokenizer } from '../tokenizer/tokenizer';
import { UserError } from '../util/errors';

/** A reward context with the record's prompt, which a reward model needs (TRL passes every column). */
export type PromptedContext = RewardContext & { prompt?: Prompt };

export interface ExtraReward {
  /** Metric name: `rewards/<name>/mean`. */
  name: string;
  weight: number;
  /** Whether it scores `example` at `step` (0-based index of the step being taken). */
  applies: (example: RlExample, step: number) => boolean;
  fn: RewardFn;
}

/**
 * Adds each extra reward to the breakdown and total of every completion it applies to. All calls
 * of a step are issued together, so a batching reward (see `preferenceReward`) scores them at once.
 */
export async function scoreExtraRewards(groups: Group[], extras: ExtraReward[], step: number): Promise<void> {
  for (const extra of extras) {
    const jobs = groups
      .filter((g) => extra.applies(g.example, step))
      .flatMap((g) => g.completions.map((c) => ({ g, c })));
    const values = await Promise.all(
      jobs.map(({ g, c }) =>
        extra.fn({
          completion: c.text,
          answer: g.example.answer,
          task: g.example.task,
          language: g.example.language,
          length: c.ids.length,
          truncated: c.truncated,
          prompt: g.example.prompt,
        } as PromptedContext),
      ),
    );
    jobs.forEach(({ c }, i) => {
      const v = values[i];
      if (!Number.isFinite(v)) throw new Error(`reward "${extra.name}" returned ${v}`);
      c.scores.rewards[extra.name] = v;
      c.scores.total += extra.weight * v;
    });
  }
}

/**
 * The reward model's score as a reward function of a completion and its record's prompt. Calls
 * made in the same turn of the event loop are scored in one batched forward pass.
 */
export function preferenceReward(rm: RewardModel, tok: Tokenizer, batchSize = 64): RewardFn {
  let pending: { row: number[]; resolve: (v: number) => void; reject: (e: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const scores = await rm.score(
        batch.map((p) => p.row),
        tok.pad,
        batchSize,
      );
      batch.forEach((p, i) => p.resolve(scores[i]));
    } catch (err) {
      batch.forEach((p) => p.reject(err));
    }
  };
  return (ctx) => {
    checkContext(ctx);
    const prompt = (ctx as PromptedContext).prompt;
    if (prompt === undefined) throw new UserError('reward "preference" needs the record\'s prompt in its context');
    const row = RewardModel.encode(tok, prompt, ctx.completion, rm.gpt.config.contextLength);
    return new Promise<number>((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => void flush());
      pending.push({ row, resolve, reject });
    });
  };
}
