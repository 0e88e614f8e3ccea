// The rules of rejection sampling (R1 §2.3.3), as pure functions: a sampled trace is kept when it
// finished within the length bounds, follows the template, is correct, stays in one language,
// does not repeat itself, is not a duplicate, and its prompt has not had its share yet.
import { checkReasoningTags } from '../data/reasoning';

/** Thresholds of the rules; a trace must reach each `min*` reward to be kept. */
export interface TraceRules {
  /** `rewards/accuracy`; a record without a reference answer cannot be verified and fails when this is > 0. */
  minAccuracy: number;
  /** `rewards/format` (1 = exactly R1's template). */
  minFormat: number;
  /** `rewards/language`: share of the reasoning's words in the target script. */
  minLanguage: number;
  /** `rewards/repetition`, a penalty in [-1, 0]: 0 is no repeated n-gram. */
  minRepetition: number;
  /** Completion length bounds in tokens (end-of-sequence not counted). */
  minTokens: number;
  maxTokens: number;
  /** Traces kept per prompt at most (the first ones that pass). */
  maxPerPrompt: number;
}

/** One sampled completion with its scores. */
export interface Candidate {
  /** Identifies the prompt (e.g. its JSON): traces are deduplicated and capped per prompt. */
  promptKey: string;
  completion: string;
  /** Completion tokens without the end-of-sequence token. */
  tokens: number;
  /** Generation hit the token limit before an end-of-sequence token. */
  truncated: boolean;
  /** Reward values by function name (absent = the function did not apply). */
  rewards: Record<string, number>;
}

/** Why a trace was dropped, in the order the rules are checked; each trace counts under its first failed rule. */
export const REJECT_RULES = [
  'truncated',
  'length',
  'template',
  'format',
  'accuracy',
  'language',
  'repetition',
  'duplicate',
  'per_prompt_cap',
] as const;
export type RejectRule = (typeof REJECT_RULES)[number];

/**
 * The first rule a trace fails on its own (without looking at other traces), or undefined.
 * `template` is checked whatever `minFormat` says: a kept trace goes into a review file, and a
 * review file with broken `<think>`/`<answer>` tags in a pending or accepted trace does not validate.
 */
export function failedRule(c: Candidate, rules: TraceRules): RejectRule | undefined {
  if (c.truncated) return 'truncated';
  if (c.tokens < rules.minTokens || c.tokens > rules.maxTokens) return 'length';
  if (checkReasoningTags(c.completion).length > 0) return 'template';
  const below = (name: string, min: number) => (c.rewards[name] ?? (min > 0 ? -Infinity : 0)) < min;
  if (below('format', rules.minFormat)) return 'format';
  if (below('accuracy', rules.minAccuracy)) return 'accuracy';
  if (below('language', rules.minLanguage)) return 'language';
  if ((c.rewards.repetition ?? 0) < rules.minRepetition) return 'repetition';
  return undefined;
}

/**
 * Applies the rules to traces as they arrive, remembering what it kept (for deduplication and
 * the per-prompt cap) and counting rejections per rule.
 */
export class TraceFilter {
  readonly rejected: Record<RejectRule, number> = Object.fromEntries(REJECT_RULES.map((r) => [r, 0])) as Record<
    RejectRule,
    number
  >;
  sampled = 0;
  kept = 0;
  private readonly seen = new Set<string>();
  private readonly perPrompt = new Map<string, number>();

  constructor(private readonly rules: TraceRules) {}

  /** Undefined when `c` is kept, else the rule it failed. */
  consider(c: Candidate): RejectRule | undefined {
    this.sampled++;
    const key = JSON.stringify([c.promptKey, c.completion]);
    let why = failedRule(c, this.rules);
    if (!why && this.seen.has(key)) why = 'duplicate';
    if (!why && (this.perPrompt.get(c.promptKey) ?? 0) >= this.rules.maxPerPrompt) why = 'per_prompt_cap';
    if (why) {
      this.rejected[why]++;
      return why;
    }
    this.seen.add(key);
    this.perPrompt.set(c.promptKey, (this.perPrompt.get(c.promptKey) ?? 0) + 1);
    this.kept++;
    return undefined;
  }

  /** Kept / sampled (0 before any sample). */
  get acceptanceRate(): number {
    return this.sampled ? this.kept / this.sampled : 0;
  }

  /** Prompts with at least one kept trace. */
  get promptsKept(): number {
    return this.perPrompt.size;
  }
}
