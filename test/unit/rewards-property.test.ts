import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  answersMatch,
  builtinRewards,
  extractAnswer,
  parseReferenceAnswer,
  RewardContext,
  strictFormat,
  tagCountFormat,
} from '../../server/src/rewards';

// Completions are built from units that hit the parsers' edge cases: the template's tags, LaTeX
// braces, GSM8K markers, code fences, text in several scripts, lone surrogates and arbitrary
// code points. fc.string with an arbitrary unit concatenates them in random order.
const TAGS = [
  '<think>',
  '</think>',
  '<answer>',
  '</answer>',
  '\\boxed{',
  '\\boxed',
  '{',
  '}',
  '\\{',
  '####',
  '```js\n',
  '```',
  '\n',
  ' ',
  '1,000',
  '-3.0',
  '1/0',
  '$',
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TAGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom('七', 'すし', '안녕', 'мир', 'नमस्ते', 'مرحبا', 'ー', '\u0301') },
  { weight: 1, arbitrary: loneSurrogate },
);
const text = fc.string({ unit, maxLength: 40 });
const context = fc.record(
  {
    completion: text,
    answer: fc.oneof(text, fc.integer().map(String)),
    language: fc.constantFrom(
      'en',
      'zh',
      'ja',
      'ko',
      'ru',
      'ar',
      'hi',
      'latin',
      'han',
      'kana',
      'cyrillic',
      'arabic',
      'devanagari',
      'hangul',
      'japanese',
    ),
    length: fc.nat({ max: 5000 }),
    truncated: fc.boolean(),
  },
  { requiredKeys: ['completion'] },
) as fc.Arbitrary<RewardContext>;

const rewards = builtinRewards();
// Each builtin (code excepted: it runs a process) with its documented range for these options.
const CASES: [string, Record<string, unknown> | undefined, number, number][] = [
  ['accuracy', undefined, 0, 1],
  ['format', undefined, 0, 1],
  ['format', { partial: true }, 0, 1],
  ['language', undefined, 0, 1],
  ['language', { target: 'han' }, 0, 1],
  ['cosine', undefined, -1, 1],
  ['cosine', { minValueWrong: -2, maxValueWrong: -1, minValueCorrect: 1, maxValueCorrect: 3, maxLen: 50 }, -2, 3],
  ['repetition', undefined, -1, 0],
  ['repetition', { ngramSize: 1, maxPenalty: -0.5 }, -0.5, 0],
  ['overlong', { maxLen: 300, cache: 100 }, -1, 0],
];

for (const [name, options, lo, hi] of CASES) {
  test(`property: ${name}${options ? ` ${JSON.stringify(options)}` : ''} is a finite number in [${lo}, ${hi}] for any input`, () => {
    const fn = rewards[name](options);
    fc.assert(
      fc.property(context, (ctx) => {
        const v = fn(ctx);
        return typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
      }),
      { numRuns: 300 },
    );
  });
}

test('property: format rewards are on their grid and partial credit never undercuts strict', () => {
  fc.assert(
    fc.property(text, (s) => {
      const strict = strictFormat(s);
      const tags = tagCountFormat(s);
      return (strict === 0 || strict === 1) && [0, 0.25, 0.5, 0.75, 1].includes(tags) && (strict === 0 || tags === 1);
    }),
    { numRuns: 500 },
  );
});

test('property: extraction and matching never throw; the answer is trimmed text of the completion', () => {
  fc.assert(
    fc.property(text, text, (a, b) => {
      const x = extractAnswer(a);
      if (x !== undefined && (x !== x.trim() || !a.includes(x))) return false;
      const ref = parseReferenceAnswer(b);
      return typeof answersMatch(a, b) === 'boolean' && ref === ref.trim() && answersMatch(ref, ref);
    }),
    { numRuns: 500 },
  );
});

test('property: a correct integer answer in the R1 template always scores accuracy 1', () => {
  const accuracy = rewards.accuracy();
  fc.assert(
    fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.boolean(), (n, grouped) => {
      // The model may write 1,234 or 1234; GSM8K references may too.
      const shown = grouped ? n.toLocaleString('en-US') : String(n);
      const ctx = { completion: `<think>\nwork\n</think>\n<answer>${shown}</answer>`, answer: `steps\n#### ${n}` };
      return accuracy(ctx) === 1 && accuracy({ ...ctx, answer: `#### ${n + 1}` }) === 0;
    }),
  );
});

test('property: text without letters is consistent with every target language', () => {
  const language = rewards.language({ target: 'han' });
  const noLetters = fc.string({
    unit: fc.constantFrom('0', '7', '+', '=', '\n', ' ', '(', ')', '.', '-', '*', '٣', '²'),
  });
  fc.assert(fc.property(noLetters, (s) => language({ completion: `<think>${s}</think>` }) === 1));
});

test('huge and adversarial inputs stay fast and in range', () => {
  const inputs = [
    '\\boxed{'.repeat(100_000),
    '{'.repeat(500_000) + '\\boxed{1}',
    '<think>'.repeat(100_000) + '</answer>'.repeat(100_000),
    '<answer>'.repeat(100_000) + '```js\n'.repeat(50_000),
    '\\text{'.repeat(50_000) + '1' + '}'.repeat(50_000),
    'ab '.repeat(300_000),
    '七'.repeat(300_000),
    '\ud800'.repeat(200_000),
  ];
  const started = Date.now();
  for (const completion of inputs) {
    const ctx = { completion, answer: completion.slice(0, 1000) };
    for (const [name, options, lo, hi] of CASES) {
      const v = rewards[name](options)(ctx) as number;
      assert.ok(Number.isFinite(v) && v >= lo && v <= hi, `${name} gave ${v}`);
    }
    assert.equal(typeof answersMatch(completion, completion), 'boolean');
  }
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});
