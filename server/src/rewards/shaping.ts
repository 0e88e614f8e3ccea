// Optional shaping rewards (spec §4): length (cosine), n-gram repetition, soft overlong
// punishment. Each is a factory over validated options, like open-r1's `get_*_reward` helpers.
import { UserError } from '../util/errors';
import { isCorrect } from './accuracy';
import { checkContext, hasReference, RewardContext } from './types';

/** Options of the cosine length reward (open-r1's `get_cosine_scaled_reward`, same defaults). */
export interface CosineOptions {
  minValueWrong: number;
  maxValueWrong: number;
  minValueCorrect: number;
  maxValueCorrect: number;
  /** Length at which the schedule reaches its end (tokens, or code points without `ctx.length`). */
  maxLen: number;
}

export const COSINE_DEFAULTS: CosineOptions = {
  minValueWrong: -1,
  maxValueWrong: -0.5,
  minValueCorrect: 0.5,
  maxValueCorrect: 1,
  maxLen: 1000,
};

/**
 * Cosine-scaled length reward (Yeo et al. 2025, "Demystifying Long Chain-of-Thought"): a correct
 * answer earns from maxValueCorrect (length 0) down to minValueCorrect (length maxLen); a wrong
 * one from minValueWrong (length 0) up to maxValueWrong (length maxLen), so short correct beats
 * long correct and long wrong beats short wrong. Unlike open-r1 the progress is clamped at
 * maxLen: past it the cosine would turn back up and reward rambling. Range: between the four
 * values. Records without a reference score as wrong here; `RewardSet` skips them.
 */
export function cosineReward(options: CosineOptions): (ctx: RewardContext) => number {
  if (!(options.maxLen > 0)) throw new UserError(`reward "cosine": maxLen must be > 0, got ${options.maxLen}`);
  return (ctx) => {
    checkContext(ctx);
    const correct = hasReference(ctx) && isCorrect(ctx.completion, ctx.answer!);
    const progress = Math.min(1, completionLength(ctx) / options.maxLen);
    const cosine = Math.cos(progress * Math.PI);
    // open-r1 swaps min and max for wrong answers so the same formula rises with length.
    const [lo, hi] = correct
      ? [options.minValueCorrect, options.maxValueCorrect]
      : [options.maxValueWrong, options.minValueWrong];
    // A weighted mean of lo and hi rather than lo + w * (hi - lo): the difference of two large
    // finite options can overflow to Infinity, the mean cannot.
    const w = 0.5 * (1 + cosine);
    return lo * (1 - w) + hi * w;
  };
}

/** Options of the repetition penalty (open-r1's `get_repetition_penalty_reward`). */
export interface RepetitionOptions {
  ngramSize: number;
  /** Penalty for a completion made of one repeated n-gram; must be <= 0. */
  maxPenalty: number;
}

export const REPETITION_DEFAULTS: RepetitionOptions = { ngramSize: 3, maxPenalty: -1 };

/**
 * N-gram repetition penalty (Demystifying Long CoT, appendix C.2): (1 - unique / total) *
 * maxPenalty over the lower-cased, whitespace-split words' n-grams. Range [maxPenalty, 0];
 * 0 for completions shorter than one n-gram.
 */
export function repetitionReward(options: RepetitionOptions): (ctx: RewardContext) => number {
  const { ngramSize, maxPenalty } = options;
  if (!Number.isInteger(ngramSize) || ngramSize < 1) {
    throw new UserError(`reward "repetition": ngramSize must be an integer >= 1, got ${ngramSize}`);
  }
  if (maxPenalty > 0) throw new UserError(`reward "repetition": maxPenalty must be <= 0, got ${maxPenalty}`);
  return (ctx) => {
    checkContext(ctx);
    const words = ctx.completion
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w !== '');
    const total = words.length - ngramSize + 1;
    if (total <= 0) return 0;
    const seen = new Set<string>();
    // NUL as the joiner: model text practically never contains it, so distinct n-grams stay distinct.
    for (let i = 0; i < total; i++) seen.add(words.slice(i, i + ngramSize).join('\u0000'));
    const repeated = 1 - seen.size / total;
    return repeated === 0 ? 0 : repeated * maxPenalty; // no -0 in logs
  };
}

/** Options of the soft overlong punishment (DAPO). */
export interface OverlongOptions {
  /** L_max: set it to the generation limit (max completion tokens). */
  maxLen: number;
  /** L_cache: the punishment ramps over the last `cache` tokens before maxLen. */
  cache: number;
}

export const OVERLONG_DEFAULTS: OverlongOptions = { maxLen: 1024, cache: 256 };

/**
 * DAPO's soft overlong punishment: 0 up to maxLen - cache, then linear down to -1 at maxLen,
 * and -1 beyond it or when the completion was truncated. Range [-1, 0]. Lengths are
 * `ctx.length` (tokens) when given, else the completion's code points.
 */
export function overlongReward(options: OverlongOptions): (ctx: RewardContext) => number {
  const { maxLen, cache } = options;
  if (!(maxLen > 0)) throw new UserError(`reward "overlong": maxLen must be > 0, got ${maxLen}`);
  if (!(cache > 0 && cache <= maxLen)) {
    throw new UserError(`reward "overlong": cache must be in (0, maxLen], got ${cache}`);
  }
  return (ctx) => {
    checkContext(ctx);
    if (ctx.truncated) return -1;
    const length = completionLength(ctx);
    const free = maxLen - cache;
    if (length <= free) return 0;
    return length >= maxLen ? -1 : (free - length) / cache;
  };
}

/** Tokens when the caller knows them, else code points (a surrogate pair is one). */
export function completionLength(ctx: RewardContext): number {
  if (ctx.length !== undefined) return ctx.length;
  const s = ctx.completion;
  let pairs = 0;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return s.length - pairs;
}
