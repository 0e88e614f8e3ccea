// Reward breakdown of one completion with the default rule rewards (accuracy, format,
// language; the weights of the shipped reasoning-rl config), plus its length in tokens.
import type { ScoreResult } from '../protocol/messages';
import { RewardSet, type RewardSpec } from '../rewards';
import { Tokenizer } from '../tokenizer/tokenizer';
import { rewardContext } from './records';

/** The rewards the editor scores with; the GRPO stages use their config's list instead. */
export const DEFAULT_REWARDS: RewardSpec[] = [
  { name: 'accuracy', weight: 1 },
  { name: 'format', weight: 0.1 },
  { name: 'language', weight: 0.1 },
];

let rewards: RewardSet | undefined;
const tokenizer = new Tokenizer();

/** Token count of a text with the byte-level tokenizer every checkpoint uses. */
export function tokenCount(text: string): number {
  return tokenizer.encode(text).length;
}

/** Scores `completion` against the record's columns (answer, task, language). */
export async function scoreCompletion(completion: string, record: Record<string, unknown> = {}): Promise<ScoreResult> {
  rewards ??= new RewardSet(DEFAULT_REWARDS);
  const { rewards: values, total } = await rewards.score(rewardContext(record, completion));
  return { rewards: values, total, tokens: tokenCount(completion) };
}
