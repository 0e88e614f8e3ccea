import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  answersMatch,
  builtinRewards,
  extractAnswer,
  extractCode,
  loadRewardModule,
  parseReferenceAnswer,
  RewardContext,
  RewardSet,
  targetScripts,
  thinkText,
  wordScripts,
} from '../../server/src/rewards';

const rewards = builtinRewards();
const accuracy = rewards.accuracy();
const format = rewards.format();
const partialFormat = rewards.format({ partial: true });
const language = rewards.language();
const han = rewards.language({ target: 'han' });

/** Sync builtins return plain numbers; this keeps the assertions short. */
const score = (fn: ReturnType<(typeof rewards)['accuracy']>, ctx: RewardContext): number => {
  const v = fn(ctx);
  assert.equal(typeof v, 'number', 'builtin returned a promise');
  return v as number;
};

// The arithmetic sample task's worked completion for 347 + 589 (spec §3, samples/).
const R1 = '<think>\n347+589\n7+9+0=16\n4+8+1=13\n3+5+1=09\n0936\n</think>\n<answer>936</answer>';

test('R1-template completion of the arithmetic task scores accuracy 1, format 1, language 1', () => {
  const ctx = { completion: R1, answer: '936' };
  assert.equal(extractAnswer(R1), '936');
  assert.equal(score(accuracy, ctx), 1);
  assert.equal(score(format, ctx), 1);
  assert.equal(score(language, ctx), 1);
});

test('a wrong answer scores accuracy 0 but keeps format', () => {
  const ctx = { completion: R1.replace('<answer>936', '<answer>946'), answer: '936' };
  assert.equal(score(accuracy, ctx), 0);
  assert.equal(score(format, ctx), 1);
});

test('extractAnswer: the last <answer> block wins, then the last balanced \\boxed{}', () => {
  assert.equal(extractAnswer('<answer>1</answer> then <answer> 2 </answer>'), '2');
  assert.equal(extractAnswer('so the result is \\boxed{42}.'), '42');
  assert.equal(extractAnswer('\\boxed{1} and finally \\boxed{\\frac{1}{2}}'), '\\frac{1}{2}');
  assert.equal(extractAnswer('\\boxed{7} but \\boxed{8 unbalanced'), '7');
  assert.equal(extractAnswer('<answer>The answer is \\boxed{5}</answer>'), '5');
  assert.equal(extractAnswer('\\boxed{\\{1, 2\\}}'), '\\{1, 2\\}');
  assert.equal(extractAnswer('<think>no answer yet</think>'), undefined);
  assert.equal(extractAnswer('<answer>unclosed 12'), undefined);
});

test('accuracy reads \\boxed{} without answer tags', () => {
  assert.equal(score(accuracy, { completion: 'Adding up gives \\boxed{42}', answer: '42' }), 1);
  assert.equal(score(accuracy, { completion: 'Adding up gives \\boxed{41}', answer: '42' }), 0);
});

test('GSM8K references: the text after the last ####, with thousands separators', () => {
  assert.equal(parseReferenceAnswer('She has 1000 + 234 = <<1000+234=1234>>1234 apples.\n#### 1,234'), '1,234');
  assert.equal(parseReferenceAnswer('  plain 7 '), 'plain 7');
  const ctx = { completion: '<think>1000+234</think><answer>1234</answer>', answer: 'so 1000 + 234\n#### 1,234' };
  assert.equal(score(accuracy, ctx), 1);
});

test('answersMatch: numbers compare as numbers, text up to whitespace and case', () => {
  const same: [string, string][] = [
    ['1,000', '1000'],
    ['-3', '-3.0'],
    ['$1,234.', '1234'],
    ['0.5', '1/2'],
    ['\\frac{1}{2}', '0.50'],
    ['1e3', '1000'],
    ['007', '7'],
    ['−5', '-5'], // U+2212 minus sign
    ['12345678901234567890', '12345678901234567890.000'],
    ['New   York', 'new york'],
  ];
  for (const [a, b] of same) assert.ok(answersMatch(a, b), `${a} should match ${b}`);
  const different: [string, string][] = [
    ['936', '963'],
    ['-0.5', '0.5'],
    ['1,2', '12'], // not a thousands grouping: compared as text
    ['12345678901234567890', '12345678901234567891'], // beyond float precision, still different
    ['1/3', '0.333333'],
    ['936 apples', '936'],
    ['Paris', 'London'],
  ];
  for (const [a, b] of different) assert.ok(!answersMatch(a, b), `${a} should not match ${b}`);
});

test('format: exactly one think block then one answer block, only whitespace around', () => {
  const f = (completion: string) => score(format, { completion });
  assert.equal(f('  <think>a</think>\n\n<answer>1</answer>\n'), 1);
  assert.equal(f('<think>a</think>1'), 0, 'missing answer tags');
  assert.equal(f('the answer is 1'), 0, 'no tags at all');
  assert.equal(f('<think>a</think><answer>1</answer> and more'), 0, 'text after </answer>');
  assert.equal(f('hello <think>a</think><answer>1</answer>'), 0, 'text before <think>');
  assert.equal(f('<think>a</think><think>b</think><answer>1</answer>'), 0, 'two think blocks');
  assert.equal(f('<think>a</think>so<answer>1</answer>'), 0, 'text between the blocks');
  assert.equal(f('<answer>1</answer><think>a</think>'), 0, 'wrong order');
  assert.equal(f('<think>a<answer>1</answer></think>'), 0, 'answer nested in think');
});

test('format partial credit: 0.25 per tag present exactly once', () => {
  const f = (completion: string) => score(partialFormat, { completion });
  assert.equal(f(R1), 1);
  assert.equal(f('<think>a</think> 42'), 0.5);
  assert.equal(f('<think>a</think><think>b</think><answer>1</answer>'), 0.5); // think tags twice: no credit for them
  assert.equal(f('<think>a'), 0.25);
  assert.equal(f('plain text'), 0);
});

test('language: Chinese chain of thought against latin and han targets', () => {
  const zh = '<think>三百四十七加五百八十九等于九百三十六</think><answer>936</answer>';
  assert.equal(score(language, { completion: zh }), 0);
  assert.equal(score(han, { completion: zh }), 1);
  // The record's own language wins over the configured target.
  assert.equal(score(language, { completion: zh, language: 'zh' }), 1);
  assert.equal(score(han, { completion: zh, language: 'en' }), 0);
});

test('language: mixed English and Chinese, hand-computed share', () => {
  // Words: First, 七, plus, 八, equals, 十, 五 -> 7 words, 3 latin, 4 han; "7", "+", "(" are not words.
  const completion = '<think>First 七 plus 八 (7 + 8) equals 十五</think><answer>15</answer>';
  assert.equal(score(language, { completion }), 3 / 7);
  assert.equal(score(han, { completion }), 4 / 7);
});

test('language: only the chain of thought counts; no words scores 1', () => {
  // A Cyrillic answer block must not lower a Latin chain of thought.
  assert.equal(score(language, { completion: '<think>carry the one</think><answer>ответ</answer>' }), 1);
  assert.equal(score(language, { completion: '<think>12 + 30 = 42</think><answer>42</answer>' }), 1);
  assert.equal(score(language, { completion: '' }), 1);
  // Without think tags the whole completion counts (tag names excluded): 2 latin of 3 words.
  assert.equal(score(language, { completion: 'sum is сорок <answer>40</answer>' }), 2 / 3);
  // Template where the prompt opened <think>: the text before </think> is the chain of thought.
  assert.equal(thinkText('step one</think><answer>1</answer>'), 'step one');
});

test('language: scripts and word rules', () => {
  assert.deepEqual(wordScripts('привет мир'), ['cyrillic', 'cyrillic']);
  assert.deepEqual(wordScripts('नमस्ते दुनिया'), ['devanagari', 'devanagari'], 'combining vowel signs stay in their word');
  assert.deepEqual(
    wordScripts('안녕 세상'),
    ['hangul', 'hangul', 'hangul', 'hangul'],
    'each Hangul syllable is a word',
  );
  assert.deepEqual(wordScripts('すし食べる'), ['hiragana', 'hiragana', 'han', 'hiragana', 'hiragana']);
  assert.deepEqual(wordScripts('مرحبا world'), ['arabic', 'latin']);
  assert.deepEqual(wordScripts('helloмир'), ['latin', 'cyrillic'], 'a script change splits a letter run');
  assert.deepEqual(targetScripts('ja'), ['han', 'hiragana', 'katakana']);
  assert.deepEqual(targetScripts('zh-CN'), ['han']);
  assert.deepEqual(targetScripts('kana'), ['hiragana', 'katakana']);
  const ja = rewards.language({ target: 'japanese' });
  assert.equal(score(ja, { completion: '<think>すしを食べる</think>' }), 1);
  assert.throws(() => rewards.language({ target: 'klingon' }), /unknown target language "klingon".*latin/);
  assert.throws(() => language({ completion: 'x', language: 'klingon' }), /klingon/);
});

test('cosine length reward: short correct > long correct, long wrong > short wrong', () => {
  const cosine = rewards.cosine({ maxLen: 100 });
  const at = (length: number, correct: boolean) =>
    score(cosine, { completion: `<answer>${correct ? 7 : 8}</answer>`, answer: '7', length });
  assert.equal(at(0, true), 1); // maxValueCorrect
  assert.ok(Math.abs(at(100, true) - 0.5) < 1e-12); // minValueCorrect
  assert.equal(at(0, false), -1); // minValueWrong
  assert.ok(Math.abs(at(100, false) - -0.5) < 1e-12); // maxValueWrong
  assert.ok(at(20, true) > at(60, true));
  assert.ok(at(60, false) > at(20, false));
  // cos(pi/2) = 0 halfway: the midpoint of each range.
  assert.ok(Math.abs(at(50, true) - 0.75) < 1e-12);
  // Clamped past maxLen instead of turning back up.
  assert.ok(Math.abs(at(180, true) - 0.5) < 1e-12);
  // Without ctx.length the completion's code points count (open-r1 uses characters).
  assert.ok(score(rewards.cosine({ max_len: 10 }), { completion: '<answer>7</answer>', answer: '7' }) < 0.6);
});

test('repetition penalty: (1 - unique / total n-grams) * maxPenalty', () => {
  const rep = rewards.repetition({ ngramSize: 3, maxPenalty: -1 });
  // 9 words -> 7 trigrams, 3 distinct (a b c, b c a, c a b): -(1 - 3/7) = -4/7.
  assert.ok(Math.abs(score(rep, { completion: 'a b c A b c a b c' }) - -4 / 7) < 1e-12);
  assert.equal(score(rep, { completion: 'one two three four' }), 0);
  assert.equal(score(rep, { completion: 'too short' }), 0);
  assert.throws(() => rewards.repetition({ maxPenalty: 0.5 }), /maxPenalty must be <= 0/);
  assert.throws(() => rewards.repetition({ ngram_size: 0 }), /ngramSize must be an integer >= 1/);
});

test('soft overlong punishment (DAPO): 0, then linear to -1 over the cache', () => {
  const over = rewards.overlong({ maxLen: 100, cache: 20 });
  const at = (length: number, truncated?: boolean) => score(over, { completion: 'x', length, truncated });
  assert.equal(at(80), 0);
  assert.equal(at(90), -0.5);
  assert.equal(at(100), -1);
  assert.equal(at(250), -1);
  assert.equal(at(10, true), -1);
  assert.throws(() => rewards.overlong({ maxLen: 100, cache: 200 }), /cache must be in/);
});

test('extractCode: last js or untagged fence, answer block first, other languages skipped', () => {
  const c = '<think>```js\nold()\n```</think><answer>```javascript\nnew1()\n```\n```python\nprint(1)\n```</answer>';
  assert.equal(extractCode(c), 'new1()\n');
  assert.equal(extractCode('text\n```\nplain()\n```'), 'plain()\n');
  assert.equal(extractCode('```python\nprint(1)\n```'), undefined);
  assert.equal(extractCode('```js\nunterminated'), undefined);
});

test('RewardSet: weighted total, breakdown per function, skipped rewards absent', async () => {
  const set = new RewardSet([
    { name: 'accuracy', weight: 1 },
    { name: 'format', weight: 0.2 },
    { name: 'language', weight: 0.1 },
  ]);
  assert.deepEqual(set.names, ['accuracy', 'format', 'language']);
  assert.deepEqual(await set.score({ completion: R1, answer: '936', task: 'math' }), {
    rewards: { accuracy: 1, format: 1, language: 1 },
    total: 1.3,
  });
  const wrong = await set.score({ completion: '<answer>5</answer>', answer: '936' });
  assert.deepEqual(wrong.rewards, { accuracy: 0, format: 0, language: 1 });
  assert.ok(Math.abs(wrong.total - 0.1) < 1e-12);
  // A general prompt (answer '' as the data loader writes it) is not graded for accuracy.
  const general = await set.score({
    completion: '<think>a poem</think><answer>roses</answer>',
    answer: '',
    task: 'general',
  });
  assert.deepEqual(Object.keys(general.rewards), ['format', 'language']);
  assert.ok(Math.abs(general.total - 0.3) < 1e-12);
  const many = await set.scoreMany([
    { completion: R1, answer: '936' },
    { completion: R1, answer: '1' },
  ]);
  assert.deepEqual(
    many.map((b) => b.rewards.accuracy),
    [1, 0],
  );
});

test('RewardSet: config errors name the problem', () => {
  assert.throws(
    () => new RewardSet([{ name: 'acuracy', weight: 1 }]),
    /unknown reward "acuracy"; valid rewards: accuracy, format, language, cosine, repetition, overlong, code/,
  );
  assert.throws(() => new RewardSet([{ name: 'format', weight: Number.NaN }]), /weight must be a finite number/);
  assert.throws(
    () => new RewardSet([{ name: 'format', weight: '1' as unknown as number }]),
    /weight must be a finite number, got "1"/,
  );
  assert.throws(
    () => new RewardSet([{ name: 'format', weight: 1, options: { partiall: true } }]),
    /unknown option "partiall"; valid options: partial/,
  );
  assert.throws(
    () => new RewardSet([{ name: 'format', weight: 1, options: { partial: 'yes' } }]),
    /option "partial" must be a boolean/,
  );
  assert.throws(
    () =>
      new RewardSet([
        { name: 'format', weight: 1 },
        { name: 'format', weight: 2 },
      ]),
    /listed twice/,
  );
  assert.throws(() => new RewardSet([]), /at least one reward/);
  assert.throws(() => new RewardSet([{ name: 'accuracy', weight: 1 }], { accuracy: () => 1 }), /name of a builtin/);
});

test('RewardSet and builtins: a malformed context is a clear error', async () => {
  const set = new RewardSet([{ name: 'accuracy', weight: 1 }]);
  await assert.rejects(
    set.score({ completion: R1, answer: 936 } as unknown as RewardContext),
    /"answer" must be a string, got number 936/,
  );
  await assert.rejects(
    set.score({ completion: undefined } as unknown as RewardContext),
    /"completion" must be a string/,
  );
  await assert.rejects(
    set.score({ completion: R1, task: 'maths' } as unknown as RewardContext),
    /"task" must be one of math, code, general/,
  );
  assert.throws(
    () => format({ completion: R1, tests: 'x' } as unknown as RewardContext),
    /"tests" must be an array of strings/,
  );
  assert.throws(() => accuracy(null as unknown as RewardContext), /must be an object, got null/);
});

test('RewardSet with custom functions: used by name, results checked', async () => {
  const short = (ctx: RewardContext) => (ctx.completion.length < 50 ? 1 : 0);
  const set = new RewardSet(
    [
      { name: 'format', weight: 1 },
      { name: 'short', weight: 0.5 },
    ],
    { short },
  );
  const b = await set.score({ completion: '<think>a</think><answer>1</answer>' });
  assert.deepEqual(b, { rewards: { format: 1, short: 1 }, total: 1.5 });
  const bad = new RewardSet([{ name: 'nan', weight: 1 }], { nan: () => Number.NaN });
  await assert.rejects(bad.score({ completion: 'x' }), /custom reward "nan" returned number NaN/);
  const throwing = new RewardSet([{ name: 'boom', weight: 1 }], {
    boom: () => {
      throw new Error('kaput');
    },
  });
  await assert.rejects(throwing.score({ completion: 'x' }), /custom reward "boom" threw: kaput/);
});

test('loadRewardModule: ESM and CommonJS exports, clear errors naming the file', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r1-reward-module-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const esm = path.join(dir, 'mine.mjs');
  writeFileSync(
    esm,
    'export function brevity(ctx) { return ctx.completion.length < 10 ? 1 : 0; }\nexport const weight = 3;\n',
  );
  const fns = await loadRewardModule(esm);
  assert.deepEqual(Object.keys(fns), ['brevity']);
  assert.equal(await fns.brevity({ completion: 'short' }), 1);

  const cjs = path.join(dir, 'theirs.cjs');
  writeFileSync(cjs, 'module.exports = { polite: (ctx) => (/please/.test(ctx.completion) ? 1 : 0) };\n');
  const cfns = await loadRewardModule(cjs);
  assert.equal(await cfns.polite({ completion: 'please' }), 1);
  const set = new RewardSet([{ name: 'polite', weight: 2 }], cfns);
  assert.equal((await set.score({ completion: 'please' })).total, 2);

  const broken = path.join(dir, 'broken.mjs');
  writeFileSync(broken, 'export function (ctx) {');
  await assert.rejects(
    loadRewardModule(broken),
    (err: Error) => err.message.includes(broken) && /failed to load/.test(err.message),
  );
  const empty = path.join(dir, 'empty.mjs');
  writeFileSync(empty, 'export const answer = 42;\n');
  await assert.rejects(
    loadRewardModule(empty),
    (err: Error) => err.message.includes(empty) && /exports no functions/.test(err.message),
  );
  await assert.rejects(loadRewardModule(path.join(dir, 'missing.mjs')), /missing\.mjs: file not found/);
});
