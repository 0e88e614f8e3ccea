// Dataset loaders and the pretraining corpus: valid files of each kind load into the right
// records, and a broken file stops loading with every problem listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPreference, loadReview, loadRl, loadSft } from '../../server/src/data/loaders';
import { loadCorpus, textDocuments } from '../../server/src/data/corpus';
import { DataFileError, Diagnostic, formatDiagnostic } from '../../server/src/data/records';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'data');
const fixture = (name: string): string => join(FIXTURES, name);

const tmp = mkdtempSync(join(tmpdir(), 'r1-data-test-'));
function tmpFile(name: string, content: string | Buffer): string {
  const file = join(tmp, name);
  writeFileSync(file, content);
  return file;
}

/** Runs `fn`, which must throw a DataFileError, and returns that error. */
function dataError(fn: () => unknown): DataFileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DataFileError, `expected a DataFileError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a DataFileError to be thrown');
}

const where = (d: Diagnostic): string => `${d.line}:${d.col}`;

test('standard SFT records load, including the conversational prompt/completion variant', () => {
  const records = loadSft(fixture('sft.jsonl'));
  assert.equal(records.length, 4);
  assert.deepEqual(records[0], {
    prompt: 'What is 12 + 34?',
    completion: '<think>\n2 + 4 = 6\n1 + 3 = 4\n</think>\n<answer>46</answer>',
    line: 1,
  });
  // The blank line 3 is skipped, and line numbers still count it.
  assert.deepEqual(
    records.map((r) => r.line),
    [1, 2, 4, 5],
  );
  assert.deepEqual(records[3], {
    prompt: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Capital of France?' },
    ],
    completion: 'Paris',
    line: 5,
  });
});

test('UTF-8 text (Chinese, emoji) survives loading unchanged', () => {
  const [, , zh] = loadSft(fixture('sft.jsonl'));
  assert.equal(zh.prompt, '用中文解释加法。');
  assert.equal(zh.completion, '<think>\n加法就是把数量合起来 🍎+🍎\n</think>\n<answer>合并</answer>');
  const [, greet] = loadPreference(fixture('preference.jsonl'));
  assert.equal(greet.chosen, 'Hello! 😊');
});

test('conversational SFT: the last assistant message is the completion, the rest the prompt', () => {
  const [single, multi] = loadSft(fixture('sft-conversational.jsonl'));
  assert.deepEqual(single.prompt, [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'What is 2 + 3?' },
  ]);
  assert.equal(single.completion, '<think>\n2 + 3 = 5\n</think>\n<answer>5</answer>');
  assert.deepEqual(multi.prompt, [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Tell me a joke' },
  ]);
  assert.equal(multi.completion, 'Why did the 🐔 cross the road?');
});

test('RL records: task defaults to math, code keeps tests, general may have no answer', () => {
  const [math, code, general, conv, zh] = loadRl(fixture('rl.jsonl'));
  assert.deepEqual(math, { prompt: 'What is 7 * 8?', answer: '56', task: 'math', line: 1 });
  assert.deepEqual(code, {
    prompt: 'Write add(a, b).',
    answer: 'def add(a, b): return a + b',
    task: 'code',
    tests: ['assert add(1, 2) == 3'],
    language: 'en',
    line: 2,
  });
  assert.deepEqual(general, { prompt: 'Write a poem about the sea.', answer: '', task: 'general', line: 3 });
  // A numeric answer is read as its decimal text.
  assert.deepEqual(conv, {
    prompt: [{ role: 'user', content: 'What is 100 - 1?' }],
    answer: '99',
    task: 'math',
    line: 4,
  });
  assert.equal(zh.prompt, '请计算 6 + 7。');
  assert.equal(zh.language, 'zh');
});

test('GSM8K records: the question is the prompt, the text after #### the answer', () => {
  const records = loadRl(fixture('gsm8k.jsonl'));
  assert.deepEqual(
    records.map((r) => [r.answer, r.task]),
    [
      ['72', 'math'],
      ['10', 'math'],
    ],
  );
  assert.match(records[0].prompt as string, /^Natalia sold clips to 48 of her friends/);
});

test('preference records: text, conversational and implicit-prompt forms', () => {
  const [text, conv, implicit] = loadPreference(fixture('preference.jsonl'));
  assert.deepEqual(text, {
    prompt: 'What is 2 + 2?',
    chosen: '<think>\n2 + 2 = 4\n</think>\n<answer>4</answer>',
    rejected: '<answer>5</answer>',
    line: 1,
  });
  assert.deepEqual(conv.prompt, [{ role: 'user', content: 'Greet me' }]);
  assert.equal(conv.rejected, 'No.');
  // No "prompt" field: the conversation shared by chosen and rejected is the prompt.
  assert.deepEqual(implicit, {
    prompt: [{ role: 'user', content: 'Name a colour' }],
    chosen: 'Blue',
    rejected: 'Seven',
    line: 3,
  });
});

test('review records keep rewards, status, source and the optional answer', () => {
  const records = loadReview(fixture('review.jsonl'));
  assert.deepEqual(
    records.map((r) => r.status),
    ['pending', 'accepted', 'rejected'],
  );
  assert.deepEqual(records[1].rewards, { accuracy: 1, format: 1, language: 0.95 });
  assert.deepEqual(records[0].source, { stage: 'rejection-sampling', sample: 0 });
  assert.equal(records[0].answer, '7');
  assert.equal('answer' in records[2], false);
});

test('a broken file throws a DataFileError listing every error, and no warnings', () => {
  const file = fixture('broken-sft.jsonl');
  const err = dataError(() => loadSft(file));
  assert.deepEqual(err.diagnostics.map(where), ['2:30', '4:48', '5:1', '6:1', '7:51', '8:2', '10:1', '12:28']);
  assert.ok(err.diagnostics.every((d) => d.severity === 'error' && d.file === file));
  // The message is the formatted diagnostics, one per line.
  assert.deepEqual(err.message.split('\n'), err.diagnostics.map(formatDiagnostic));
  assert.equal(
    err.message.split('\n')[0],
    `${file}:2:30: error: field "completion" must be a string or an array of messages, got number`,
  );
});

test('each loader rejects records of another kind', () => {
  const err = dataError(() => loadRl(fixture('preference.jsonl')));
  assert.equal(err.diagnostics.length, 3);
  assert.match(err.diagnostics[0].message, /looks like a preference record .*not an rl record/);
  const review = dataError(() => loadSft(fixture('review.jsonl')));
  assert.equal(review.diagnostics.length, 3, 'review traces must not be trained on as plain SFT');
  dataError(() => loadPreference(fixture('sft.jsonl')));
  dataError(() => loadReview(fixture('rl.jsonl')));
});

test('a missing file is a DataFileError that says so', () => {
  const file = join(tmp, 'nope.jsonl');
  const err = dataError(() => loadSft(file));
  assert.equal(err.message, `${file}:1:1: error: cannot read file: file not found`);
  assert.match(dataError(() => loadCorpus(tmp)).message, /is a directory/);
});

test('the error message is capped at 20 problems plus a count of the rest', () => {
  const file = tmpFile('many.jsonl', '{"prompt": 1, "completion": "x"}\n'.repeat(25));
  const err = dataError(() => loadSft(file));
  assert.equal(err.diagnostics.length, 25);
  const lines = err.message.split('\n');
  assert.equal(lines.length, 21);
  assert.equal(lines[19], `${file}:20:2: error: field "prompt" must be a string or an array of messages, got number`);
  assert.equal(lines[20], '... and 5 more');
});

test('CRLF line endings, a BOM and whitespace-only lines are handled', () => {
  const file = tmpFile(
    'crlf.jsonl',
    '\uFEFF{"prompt": "a", "completion": "b"}\r\n   \r\n{"prompt": "c", "completion": "d"}\r\n',
  );
  assert.deepEqual(loadSft(file), [
    { prompt: 'a', completion: 'b', line: 1 },
    { prompt: 'c', completion: 'd', line: 3 },
  ]);
});

test('bytes that are not UTF-8 are an error on their line', () => {
  const good = Buffer.from('{"prompt": "a", "completion": "b"}\n');
  const bad = Buffer.concat([
    Buffer.from('{"prompt": "x'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('", "completion": "y"}\n'),
  ]);
  const err = dataError(() => loadSft(tmpFile('latin1.jsonl', Buffer.concat([good, bad]))));
  assert.equal(err.diagnostics.length, 1);
  assert.equal(where(err.diagnostics[0]), '2:14');
  assert.match(err.diagnostics[0].message, /invalid UTF-8/);
});

test('an empty dataset loads as no records', () => {
  assert.deepEqual(loadRl(tmpFile('empty.jsonl', '\n\n')), []);
});

test('a text corpus splits into documents at one or more blank lines', () => {
  assert.deepEqual(loadCorpus(fixture('corpus.txt')), [
    'The first document.\nIt has two lines.',
    'The second document, after one blank line.',
    'The third document, after several blank lines.\n  Indented lines keep their indentation.',
  ]);
  assert.deepEqual(textDocuments('\r\n\r\none\r\ntwo\r\n \t \r\nthree'), ['one\ntwo', 'three']);
  assert.deepEqual(textDocuments(''), []);
});

test('a JSONL corpus holds one {"text"} per line, UTF-8 intact', () => {
  assert.deepEqual(loadCorpus(fixture('corpus.jsonl')), [
    'Numbers are written with digits 0 to 9.',
    '数字 🔢 can be added.\nLine two.',
  ]);
});

test('a bad JSONL corpus or an empty corpus is a DataFileError', () => {
  const file = tmpFile('bad-corpus.jsonl', '{"text": "ok"}\n{"txt": "typo"}\n{"text": 3}\nnot json\n');
  const err = dataError(() => loadCorpus(file));
  assert.deepEqual(
    err.diagnostics.map((d) => `${where(d)} ${d.message}`),
    [
      '2:1 missing required field "text"',
      '3:2 field "text" must be a string, got number',
      "4:1 invalid JSON: unexpected 'n', expected a value",
    ],
  );
  assert.match(dataError(() => loadCorpus(tmpFile('blank.txt', '\n  \n'))).message, /no documents/);
});

test('formatDiagnostic writes file:line:col: severity: message', () => {
  const d: Diagnostic = { file: 'samples/x.jsonl', line: 12, col: 3, severity: 'warning', message: 'hello' };
  assert.equal(formatDiagnostic(d), 'samples/x.jsonl:12:3: warning: hello');
  assert.equal(formatDiagnostic({ ...d, severity: 'error' }), 'samples/x.jsonl:12:3: error: hello');
});
