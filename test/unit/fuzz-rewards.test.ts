// Fuzzing the reward functions with what configs and records really hold when hand-edited:
// contexts with wrong types per field, options of any type and extreme values, reward lists of
// any shape, and arbitrary code for the sandboxed code reward. A reward must return a finite
// number or throw a UserError naming the problem; never another exception, never NaN/Infinity
// (one non-finite reward turns a whole GRPO batch's advantages into NaN).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { builtinRewards, codeReward, RewardSet } from '../../server/src/rewards';
import { UserError } from '../../server/src/util/errors';

const counts = new Map<string, number>();
const count = (target: string) => counts.set(target, (counts.get(target) ?? 0) + 1);
after(() => {
  for (const [target, n] of counts) console.log(`fuzz ${target}: ${n} cases`);
});

/** Runs `f`; a UserError is a clean refusal, anything else fails the test. */
function clean<T>(what: string, f: () => T): { value?: T; error?: UserError } {
  try {
    return { value: f() };
  } catch (err) {
    assert.ok(err instanceof UserError, `${what}: expected a UserError, got ${(err as Error)?.stack ?? err}`);
    assert.ok(err.message.length > 0 && err.message.length < 1000);
    return { error: err };
  }
}

/** JSON for messages; bigints, symbols and functions (which JSON.stringify rejects or drops) by name. */
function show(v: unknown): string {
  return (
    JSON.stringify(v, (_, x: unknown) =>
      typeof x === 'bigint' || typeof x === 'symbol' || typeof x === 'function' ? String(x) : x,
    ) ?? String(v)
  );
}

const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
  fc.constant(1n as unknown),
  fc.constant(Symbol('s') as unknown),
  fc.constant(() => 1),
);

const FIELDS = ['completion', 'answer', 'task', 'tests', 'language', 'length', 'truncated'];
const VALID_CONTEXT = {
  completion: '<think>\n1 + 1 = 2\n</think>\n<answer>2</answer>',
  answer: '2',
  task: 'math',
  language: 'en',
  length: 20,
  truncated: false,
};
const SYNC_REWARDS = ['accuracy', 'format', 'language', 'cosine', 'repetition', 'overlong'];

test('fuzz rewards: contexts with a wrong type in any field give a number or a UserError naming the field', () => {
  const rewards = builtinRewards();
  const fns = SYNC_REWARDS.map((name) => [name, rewards[name]()] as const);
  fc.assert(
    fc.property(fc.constantFrom(...FIELDS), anyValue, fc.boolean(), (field, value, whole) => {
      count('rewards (wrong-typed contexts)');
      // Either one bad field in a good context, or a value where the whole context should be.
      const ctx = whole ? value : { ...VALID_CONTEXT, [field]: value };
      for (const [name, fn] of fns) {
        const { value: v, error } = clean(name, () => fn(ctx as never));
        if (error) assert.match(error.message, whole ? /context/ : new RegExp(`"${field}"`), error.message);
        else assert.ok(typeof v === 'number' && Number.isFinite(v), `${name} gave ${String(v)}`);
      }
    }),
    { numRuns: 300, seed: 31 },
  );
});

// Option values a config can hold: any JSON, with extreme but finite numbers.
const extreme = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, -1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, 0.5),
  fc.integer({ min: -5, max: 2000 }),
);
const optionValue = fc.oneof({ weight: 4, arbitrary: extreme }, { weight: 1, arbitrary: anyValue });
const OPTION_KEYS: Record<string, string[]> = {
  accuracy: [],
  format: ['partial'],
  language: ['target'],
  cosine: ['minValueWrong', 'maxValueWrong', 'minValueCorrect', 'maxValueCorrect', 'maxLen', 'max_len'],
  repetition: ['ngramSize', 'ngram_size', 'maxPenalty'],
  overlong: ['maxLen', 'cache'],
};
const completion = fc.oneof(
  fc.constantFrom(VALID_CONTEXT.completion, '<answer>3</answer>', '', 'a a a a a a', 'x'.repeat(5000)),
  fc.string({ maxLength: 200 }),
);

test('fuzz rewards: any options give a UserError at config time, or finite rewards for any completion', () => {
  const rewards = builtinRewards();
  const options = fc
    .constantFrom(...Object.keys(OPTION_KEYS))
    .chain((name) =>
      fc.tuple(
        fc.constant(name),
        fc.oneof(
          anyValue,
          fc.dictionary(fc.constantFrom(...OPTION_KEYS[name], 'typo', '__proto__'), optionValue, { maxKeys: 4 }),
        ),
      ),
    );
  fc.assert(
    fc.property(
      options,
      fc.array(completion, { minLength: 1, maxLength: 4 }),
      fc.nat({ max: 3000 }),
      ([name, opts], texts, length) => {
        count('rewards (options)');
        const { value: fn } = clean(`${name} options ${show(opts)}`, () => rewards[name](opts as never));
        if (!fn) return;
        for (const text of texts) {
          for (const ctx of [
            { completion: text, answer: '3' },
            { completion: text, answer: '2', length },
          ]) {
            const v = fn(ctx);
            assert.ok(
              typeof v === 'number' && Number.isFinite(v),
              `${name} ${show(opts)} on ${JSON.stringify(text.slice(0, 50))} gave ${String(v)}`,
            );
          }
        }
      },
    ),
    { numRuns: 400, seed: 32 },
  );
});

test('fuzz rewards: a reward list of any shape builds a RewardSet or throws a UserError; totals stay finite', async () => {
  const spec = fc.oneof(
    { weight: 1, arbitrary: anyValue },
    {
      weight: 4,
      arbitrary: fc.record(
        {
          name: fc.oneof(
            fc.constantFrom(...SYNC_REWARDS, 'code', 'preference', 'mine', '__proto__', 'constructor'),
            anyValue,
          ),
          weight: fc.oneof(extreme, anyValue),
          options: fc.oneof(anyValue, fc.dictionary(fc.constantFrom('partial', 'maxLen', 'target', 'x'), optionValue)),
        },
        { requiredKeys: [] },
      ),
    },
  );
  const specs = fc.oneof(anyValue, fc.array(spec, { maxLength: 4 }));
  const custom = { mine: () => 0.5 };
  await fc.assert(
    fc.asyncProperty(specs, completion, async (list, text) => {
      count('rewards (RewardSet specs)');
      const { value: set } = clean('RewardSet', () => new RewardSet(list as never, custom));
      if (!set) return;
      const b = await set.score({ completion: text, answer: '2' }).catch((err: unknown) => {
        assert.ok(err instanceof UserError, `score: ${(err as Error)?.stack ?? err}`);
        return undefined;
      });
      if (b) assert.ok(Number.isFinite(b.total), `total ${b.total} for ${show(list)}`);
    }),
    { numRuns: 300, seed: 33 },
  );
  // The overflow the generator rarely reaches by chance: two huge finite weights.
  count('rewards (RewardSet specs)');
  const huge = new RewardSet([
    { name: 'format', weight: 1e308 },
    { name: 'language', weight: 1e308 },
  ]);
  await assert.rejects(huge.score({ completion: VALID_CONTEXT.completion }), (err: unknown) => {
    return err instanceof UserError && /overflowed/.test(err.message);
  });
});

test('fuzz rewards: the code reward scores arbitrary code and tests in [0, 1] without throwing', async () => {
  const snippet = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '```js\n',
      '```',
      '<answer>',
      '</answer>',
      'function f() { return 1; }',
      'while (true) {}',
      'throw 1',
      'process.exit(3)',
      '})',
      '`',
      '${',
      '\\u0000',
      'require("fs")',
      'f() === 1',
      'await 1',
      'return 2',
    ),
  );
  const code = fc.array(snippet, { maxLength: 6 }).map((parts) => parts.join(''));
  const runs = fc.tuple(
    code,
    fc.array(fc.oneof(snippet, fc.string({ maxLength: 10 })), { minLength: 1, maxLength: 3 }),
  );
  // Each case starts a Node process: few cases, short limits.
  await fc.assert(
    fc.asyncProperty(runs, fc.boolean(), async ([body, tests], fenced) => {
      count('rewards (code reward, arbitrary code)');
      const text = fenced ? `<answer>\n\`\`\`js\n${body}\n\`\`\`\n</answer>` : body;
      const r = await codeReward(text, tests, { timeoutMs: 1500, testTimeoutMs: 300, memoryMb: 64 });
      assert.ok(r.score >= 0 && r.score <= 1 && r.passed <= r.total && r.total === tests.length, JSON.stringify(r));
    }),
    { numRuns: 12, seed: 34 },
  );
});
