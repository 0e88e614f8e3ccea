// Accuracy (`rewards/accuracy`, spec §4): did the completion reach the reference answer?
import { answersMatch } from './answers';
import { extractAnswer, parseReferenceAnswer } from './extract';
import { checkContext, hasReference, RewardContext } from './types';

/** 1 if the completion's extracted answer equals the reference, else 0 (also 0 without one). */
export function isCorrect(completion: string, reference: string): boolean {
  const predicted = extractAnswer(completion);
  return predicted !== undefined && answersMatch(predicted, parseReferenceAnswer(reference));
}

/**
 * Accuracy reward, range {0, 1}. A record without a reference scores 0 here; `RewardSet` skips
 * it instead so general prompts do not drag the mean down.
 */
export function accuracyReward(ctx: RewardContext): number {
  checkContext(ctx);
  return hasReference(ctx) && isCorrect(ctx.completion, ctx.answer!) ? 1 : 0;
}
