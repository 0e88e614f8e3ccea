// The reward API, shaped like TRL's: a reward function is a plain function of one completion and
// its dataset record's columns. Everything here is pure data; the functions live beside it.
import { UserError } from '../util/errors';

/** One completion to score, with the columns of the record it answers (spec §3). */
export interface RewardContext {
  /** The generated text, in R1's template when the model follows it. */
  completion: string;
  /** Reference answer; GSM8K style (`... #### 42`) is accepted. Blank or absent: nothing to grade. */
  answer?: string;
  /** Task family; when absent it is inferred: `code` with tests, else `math` with an answer, else `general`. */
  task?: 'math' | 'code' | 'general';
  /** Test snippets for code tasks (format: see `sandbox/run.ts`). */
  tests?: string[];
  /** Target language (or script) of the chain of thought, e.g. `en`, `zh`, `latin`, `han`. */
  language?: string;
  /** Completion length in tokens; length-based rewards fall back to code points without it. */
  length?: number;
  /** True when generation stopped at the token limit. */
  truncated?: boolean;
}

/** A reward function: any finite number; may be async (the code reward is). */
export type RewardFn = (ctx: RewardContext) => number | Promise<number>;

/** One entry of a stage config's `rewards` list, e.g. `{ "name": "format", "weight": 0.2 }`. */
export interface RewardSpec {
  name: string;
  weight: number;
  /** Builtin options (camelCase or TRL's snake_case), e.g. `{ "partial": true }` for format. */
  options?: Record<string, unknown>;
}

/** Per-function rewards (keys = spec names; skipped functions are absent) and their weighted sum. */
export interface RewardBreakdown {
  rewards: Record<string, number>;
  total: number;
}

const TASKS = ['math', 'code', 'general'];

/**
 * Throws a UserError naming the field when `ctx` is not a well-formed RewardContext. Reward
 * functions call it first so a bad record fails loudly instead of scoring silently as 0.
 */
export function checkContext(ctx: unknown): asserts ctx is RewardContext {
  if (typeof ctx !== 'object' || ctx === null) {
    throw new UserError(`reward context must be an object, got ${describe(ctx)}`);
  }
  const c = ctx as Record<string, unknown>;
  if (typeof c.completion !== 'string') {
    throw new UserError(`reward context: "completion" must be a string, got ${describe(c.completion)}`);
  }
  if (c.answer !== undefined && typeof c.answer !== 'string') {
    throw new UserError(`reward context: "answer" must be a string, got ${describe(c.answer)}`);
  }
  if (c.task !== undefined && !TASKS.includes(c.task as string)) {
    throw new UserError(`reward context: "task" must be one of ${TASKS.join(', ')}, got ${describe(c.task)}`);
  }
  if (c.tests !== undefined && (!Array.isArray(c.tests) || !c.tests.every((t) => typeof t === 'string'))) {
    throw new UserError(`reward context: "tests" must be an array of strings, got ${describe(c.tests)}`);
  }
  if (c.language !== undefined && typeof c.language !== 'string') {
    throw new UserError(`reward context: "language" must be a string, got ${describe(c.language)}`);
  }
  if (c.length !== undefined && !(typeof c.length === 'number' && Number.isFinite(c.length) && c.length >= 0)) {
    throw new UserError(`reward context: "length" must be a finite number >= 0, got ${describe(c.length)}`);
  }
  if (c.truncated !== undefined && typeof c.truncated !== 'boolean') {
    throw new UserError(`reward context: "truncated" must be a boolean, got ${describe(c.truncated)}`);
  }
}

/** The record's task, inferred from its columns when the record does not say. */
export function taskOf(ctx: RewardContext): 'math' | 'code' | 'general' {
  if (ctx.task) return ctx.task;
  if (ctx.tests && ctx.tests.length > 0) return 'code';
  return hasReference(ctx) ? 'math' : 'general';
}

/** Whether the record has a reference answer to grade against (general records carry ''). */
export function hasReference(ctx: RewardContext): boolean {
  return ctx.answer !== undefined && ctx.answer.trim() !== '';
}

/** Short description of a bad value for error messages (never the whole of a huge string). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}
