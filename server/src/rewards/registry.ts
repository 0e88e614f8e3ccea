// Reward functions by name, and the weighted set a GRPO stage scores with (spec §4: total
// `reward` = weighted sum, weights from the config).
import { UserError } from '../util/errors';
import { accuracyReward } from './accuracy';
import { codeReward } from './code';
import { thinkText } from './extract';
import { strictFormat, tagCountFormat } from './format';
import { languageShare, targetScripts } from './language';
import { readOptions } from './options';
import { SANDBOX_DEFAULTS } from './sandbox/run';
import {
  COSINE_DEFAULTS,
  cosineReward,
  OVERLONG_DEFAULTS,
  overlongReward,
  REPETITION_DEFAULTS,
  repetitionReward,
} from './shaping';
import {
  checkContext,
  describe,
  hasReference,
  RewardBreakdown,
  RewardContext,
  RewardFn,
  RewardSpec,
  taskOf,
} from './types';

/** Builds a reward function from its config options; throws a UserError on bad options. */
export type RewardFactory = (options?: Record<string, unknown>) => RewardFn;

/**
 * The builtin rewards by config name. Ranges: accuracy {0, 1}; format {0, 1} (`partial: true`:
 * multiples of 0.25 in [0, 1]); language [0, 1] (`target`, default latin; a record's own
 * `language` wins); cosine between its four values; repetition [maxPenalty, 0]; overlong
 * [-1, 0]; code [0, 1] (async). All but code are synchronous, and none throws on any
 * completion string; a malformed context throws a UserError.
 */
export function builtinRewards(): Record<string, RewardFactory> {
  return {
    accuracy: (options) => {
      readOptions('accuracy', options, {});
      return accuracyReward;
    },
    format: (options) => {
      const { partial } = readOptions('format', options, { partial: false });
      return (ctx) => {
        checkContext(ctx);
        return partial
          ? Math.max(strictFormat(ctx.completion), tagCountFormat(ctx.completion))
          : strictFormat(ctx.completion);
      };
    },
    language: (options) => {
      const { target } = readOptions('language', options, { target: 'latin' });
      const configured = targetScripts(target); // fail at config time, not mid-run
      return (ctx) => {
        checkContext(ctx);
        const scripts = ctx.language !== undefined ? recordScripts(ctx.language) : configured;
        return languageShare(thinkText(ctx.completion), scripts);
      };
    },
    cosine: (options) => cosineReward(readOptions('cosine', options, COSINE_DEFAULTS)),
    repetition: (options) => repetitionReward(readOptions('repetition', options, REPETITION_DEFAULTS)),
    overlong: (options) => overlongReward(readOptions('overlong', options, OVERLONG_DEFAULTS)),
    code: (options) => {
      const limits = readOptions('code', options, SANDBOX_DEFAULTS);
      return async (ctx) => {
        checkContext(ctx);
        if (!ctx.tests || ctx.tests.length === 0) return 0;
        return (await codeReward(ctx.completion, ctx.tests, limits)).score;
      };
    },
  };
}

/** A record's own target language; an unknown one is an error that names the field. */
function recordScripts(language: string): ReturnType<typeof targetScripts> {
  try {
    return targetScripts(language);
  } catch (err) {
    throw new UserError(`reward context: "language": ${(err as Error).message}`);
  }
}

// Which records a builtin scores. Skipped rewards are left out of the breakdown and the total,
// as TRL does with a reward function that returns None: a general prompt has no answer to be
// wrong about, and only code tasks have tests.
const gradable = (ctx: RewardContext) => hasReference(ctx) && taskOf(ctx) !== 'code';
const APPLIES: Record<string, (ctx: RewardContext) => boolean> = {
  accuracy: gradable,
  cosine: gradable,
  code: (ctx) => taskOf(ctx) === 'code' && (ctx.tests?.length ?? 0) > 0,
};

interface Entry {
  name: string;
  weight: number;
  fn: RewardFn;
  custom: boolean;
  applies: (ctx: RewardContext) => boolean;
}

/**
 * The weighted reward functions of one stage. Construction validates the whole config (names,
 * weights, options), so a typo fails before any generation happens.
 */
export class RewardSet {
  /** Reward names in config order: the keys of `RewardBreakdown.rewards` and of the `rewards/<fn>` metrics. */
  readonly names: string[];
  private readonly entries: Entry[];

  /**
   * @param specs the config's reward list, e.g. `[{name: 'accuracy', weight: 1}, {name: 'format', weight: 0.2}]`
   * @param custom user reward functions by name (see `loadRewardModule`); they may not reuse a builtin name
   */
  constructor(specs: RewardSpec[], custom: Record<string, RewardFn> = {}) {
    const builtins = builtinRewards();
    for (const [name, fn] of Object.entries(custom)) {
      if (typeof fn !== 'function') {
        throw new UserError(`custom reward "${name}" must be a function, got ${describe(fn)}`);
      }
      if (Object.hasOwn(builtins, name)) {
        throw new UserError(`custom reward "${name}" has the name of a builtin reward; rename it`);
      }
    }
    if (!Array.isArray(specs) || specs.length === 0) {
      throw new UserError('rewards: the config must list at least one reward function');
    }
    const valid = [...Object.keys(builtins), ...Object.keys(custom)];
    this.entries = specs.map((spec, i) => {
      if (typeof spec !== 'object' || spec === null) {
        throw new UserError(`rewards[${i}] must be an object, got ${describe(spec)}`);
      }
      const { name, weight, options } = spec;
      if (typeof name !== 'string' || !valid.includes(name)) {
        throw new UserError(`rewards[${i}]: unknown reward ${describe(name)}; valid rewards: ${valid.join(', ')}`);
      }
      if (typeof weight !== 'number' || !Number.isFinite(weight)) {
        throw new UserError(`rewards[${i}] ("${name}"): weight must be a finite number, got ${describe(weight)}`);
      }
      if (Object.hasOwn(custom, name)) {
        if (options !== undefined) {
          throw new UserError(
            `rewards[${i}] ("${name}"): options are only for builtin rewards; a custom reward reads what it needs from its own module`,
          );
        }
        return { name, weight, fn: custom[name], custom: true, applies: () => true };
      }
      return {
        name,
        weight,
        fn: builtins[name](options),
        custom: false,
        applies: Object.hasOwn(APPLIES, name) ? APPLIES[name] : () => true,
      };
    });
    const seen = new Set<string>();
    for (const e of this.entries) {
      if (seen.has(e.name)) throw new UserError(`rewards: "${e.name}" is listed twice`);
      seen.add(e.name);
    }
    this.names = this.entries.map((e) => e.name);
  }

  /** Scores one completion: every applicable reward, and their weighted sum. */
  async score(ctx: RewardContext): Promise<RewardBreakdown> {
    checkContext(ctx);
    const rewards: Record<string, number> = {};
    let total = 0;
    for (const e of this.entries) {
      if (!e.applies(ctx)) continue;
      const value = e.custom ? await callCustom(e, ctx) : await e.fn(ctx);
      rewards[e.name] = value;
      total += e.weight * value;
    }
    // Finite weights and rewards can still overflow; one Infinity would make a GRPO batch NaN.
    if (!Number.isFinite(total)) {
      const terms = this.entries.filter((e) => e.name in rewards).map((e) => `${e.weight} * ${rewards[e.name]}`);
      throw new UserError(`rewards: the weighted total overflowed (${terms.join(' + ')}); use smaller weights`);
    }
    return { rewards, total };
  }

  /** Scores a batch (e.g. a GRPO step's G completions per prompt), concurrently. */
  scoreMany(ctxs: RewardContext[]): Promise<RewardBreakdown[]> {
    return Promise.all(ctxs.map((ctx) => this.score(ctx)));
  }
}

async function callCustom(e: Entry, ctx: RewardContext): Promise<number> {
  let value: unknown;
  try {
    // A copy, so one function cannot change what the next one sees.
    value = await e.fn({ ...ctx, tests: ctx.tests && [...ctx.tests] });
  } catch (err) {
    throw new UserError(`custom reward "${e.name}" threw: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new UserError(
      `custom reward "${e.name}" returned ${describe(value)}; a reward function must return a finite number`,
    );
  }
  return value;
}
