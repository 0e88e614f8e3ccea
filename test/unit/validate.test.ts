// The dataset validator behind `r1 validate` and the language server's diagnostics: which
// problems it finds, and that it points at the right line and column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { validateFile, validateText } from '../../server/src/data/validate';
import { scanJson } from '../../server/src/data/jsonScan';
import { checkReasoningTags } from '../../server/src/data/reasoning';
import { DatasetKind, Diagnostic } from '../../server/src/data/records';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'data');
const fixture = (name: string): string => join(FIXTURES, name);

/** `line:col severity field` for each diagnostic: compact enough to compare whole lists. */
const brief = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.line}:${d.col} ${d.severity} ${d.field ?? '-'}`);

/** Diagnostics of one JSONL line checked as `kind`. */
function check(line: string, kind?: DatasetKind): Diagnostic[] {
  return validateText(line, 'x.jsonl', kind).diagnostics;
}

/** 1-based column of the first `needle` in `line`: an independent check of the scanner's columns. */
const colOf = (line: string, needle: string): number => line.indexOf(needle) + 1;

test('valid files of every kind have no problems, and their kind is inferred', () => {
  const expected: [string, DatasetKind][] = [
    ['sft.jsonl', 'sft'],
    ['sft-conversational.jsonl', 'sft'],
    ['rl.jsonl', 'rl'],
    ['gsm8k.jsonl', 'rl'],
    ['preference.jsonl', 'preference'],
    ['review.jsonl', 'review'],
  ];
  for (const [name, kind] of expected) {
    const result = validateFile(fixture(name));
    assert.equal(result.kind, kind, name);
    assert.deepEqual(result.diagnostics, [], name);
  }
  assert.equal(validateFile(fixture('sft.jsonl')).records, 4);
});

test('a broken SFT file reports every bad line at the right line and column', () => {
  const file = fixture('broken-sft.jsonl');
  const { diagnostics, records, kind } = validateFile(file, 'sft');
  assert.equal(kind, 'sft');
  assert.equal(records, 11);
  assert.deepEqual(brief(diagnostics), [
    '2:30 error completion',
    '4:48 error -',
    '5:1 error completion',
    '6:1 error -',
    '7:51 error messages[1].role',
    '8:2 error prompt',
    '9:2 warning prompt',
    '9:50 warning completion',
    '10:1 error -',
    '11:49 warning completion',
    '12:28 error -',
  ]);
  const messages = diagnostics.map((d) => d.message);
  assert.deepEqual(messages.slice(0, 6), [
    'field "completion" must be a string or an array of messages, got number',
    "invalid JSON: trailing comma before '}'",
    'missing required field "completion"',
    'expected a JSON object on each line, got array',
    'unknown role "bot" in messages[1] (expected "system", "user" or "assistant")',
    'field "prompt" is empty',
  ]);
  assert.equal(messages[6], 'duplicate prompt: same as line 1');
  assert.match(messages[7], /unclosed <think>/);
  assert.match(messages[8], /looks like a preference record .*not an sft record/);
  assert.match(messages[9], /no answer after <\/think>/);
  assert.match(messages[10], /^invalid JSON: expected ',' or '}'/);
  // Without --kind the file is still checked as SFT: most of its records are.
  assert.deepEqual(brief(validateFile(file).diagnostics), brief(diagnostics));
});

test('a broken RL file: bad task, missing answer, empty answer after ####, bad tests', () => {
  const { diagnostics } = validateFile(fixture('broken-rl.jsonl'));
  assert.deepEqual(brief(diagnostics), [
    '1:45 error task',
    '2:1 error answer',
    '3:56 error answer',
    '4:55 error tests',
    '5:30 error answer',
    '7:51 warning task',
  ]);
  assert.equal(diagnostics[0].message, 'field "task" must be one of "math", "code", "general", got "algebra"');
  assert.equal(diagnostics[1].message, 'missing required field "answer"');
  assert.equal(diagnostics[2].message, 'field "answer" has nothing after "####"');
  assert.equal(diagnostics[3].message, 'field "tests" must be an array of strings, got string');
  assert.equal(diagnostics[4].message, 'field "answer" is empty');
});

test('a broken review file: status, rewards, source, and template errors unless rejected', () => {
  const { diagnostics } = validateFile(fixture('broken-review.jsonl'));
  assert.deepEqual(brief(diagnostics), [
    '2:116 error status',
    '3:100 error rewards.accuracy',
    '4:1 error source',
    '5:64 error completion',
    '5:72 warning completion',
    '6:64 warning completion',
    '6:72 warning completion',
    '7:88 error rewards',
    '8:2 warning prompt',
  ]);
  const byLine = new Map(diagnostics.map((d) => [d.line, d.message]));
  assert.equal(byLine.get(2), 'field "status" must be one of "pending", "accepted", "rejected", got "maybe"');
  assert.equal(byLine.get(3), 'field "rewards.accuracy" must be a number, got string');
  assert.equal(byLine.get(4), 'missing required field "source"');
  assert.equal(byLine.get(7), 'field "rewards" must be an object, got array');
  assert.equal(byLine.get(8), 'duplicate record: same prompt and completion as line 1');
  assert.match(diagnostics[3].message, /^completion: <think> after <answer>/);
});

test('columns point at the key of the offending field, found independently', () => {
  const line = '{"a": 1, "prompt": "p", "completion": "c", "answer": "4", "rewards": {"x": true}, "status": "x"}';
  const ds = check(line, 'review');
  assert.deepEqual(
    ds.map((d) => [d.col, d.field]),
    [
      [colOf(line, '"x": true'), 'rewards.x'],
      [colOf(line, '"status"'), 'status'],
      [1, 'source'],
    ].sort((a, b) => (a[0] as number) - (b[0] as number)),
  );
});

test('invalid JSON is reported at the position of the syntax error', () => {
  const cases: [string, number, RegExp][] = [
    ['{"prompt": }', 12, /unexpected '}', expected a value/],
    ['{"prompt": "abc', 12, /unterminated string/],
    ['{"prompt": "a\\qb"}', 14, /bad escape '\\q'/],
    ["{'prompt': 'x'}", 2, /property name in double quotes/],
    ['{"prompt" "x"}', 11, /expected ':' after property name "prompt"/],
    ['{"a": [1, 2,]}', 12, /trailing comma before '\]'/],
    ['{"a": 1} {"b": 2}', 10, /after the JSON value/],
    ['{"a": NaN}', 7, /unexpected 'N'/],
    ['{"a": "tab\there"}', 11, /control character/],
    ['{', 2, /single line/],
  ];
  for (const [line, col, message] of cases) {
    const ds = check(line, 'sft');
    assert.equal(ds.length, 1, line);
    assert.equal(ds[0].col, col, line);
    assert.equal(ds[0].severity, 'error');
    assert.match(ds[0].message, /^invalid JSON: /, line);
    assert.match(ds[0].message, message, line);
  }
});

test('the scanner accepts exactly what JSON.parse accepts', () => {
  const parses = (s: string): boolean => {
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  };
  // Valid JSON, and JSON with one character deleted or inserted (mostly invalid).
  const mutated = fc
    .tuple(fc.json(), fc.nat(), fc.constantFrom('', '"', ',', '}', ']', '\\', ':', ' ', 'x', '\n'))
    .map(([s, i, ch]) => {
      const at = i % (s.length + 1);
      return ch === '' ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + ch + s.slice(at);
    });
  fc.assert(
    fc.property(fc.oneof(fc.json(), mutated), (s) => {
      assert.equal(scanJson(s).error === undefined, parses(s), s);
    }),
    { numRuns: 3000 },
  );
});

test('reasoning-template problems are found and placed on the tag', () => {
  const cases: [string, string[]][] = [
    ['<think>\nok\n</think>\n<answer>1</answer>', []],
    ['<think>ok</think> so \\boxed{1}', []],
    ['plain text, no tags', []],
    ['<think>a', ['0 structure unclosed <think>']],
    ['<think>a</think><answer>1', ['16 structure unclosed <answer>']],
    ['a</think><answer>1</answer>', ['1 structure </think> without']],
    ['<think>a</think><think>b</think><answer>1</answer>', ['16 structure more than one <think>']],
    ['<think>a<answer>1</answer></think>', ['8 structure <answer> inside the <think>', '26 no-answer no answer after']],
    ['<think>a</think>nothing', ['8 no-answer no answer after']],
    ['<answer>1</answer>x</answer>', ['19 structure </answer> without']],
  ];
  for (const [text, expected] of cases) {
    const got = checkReasoningTags(text).map((i) => `${i.offset} ${i.kind} ${i.message}`);
    assert.equal(got.length, expected.length, `${text}: ${got.join('; ')}`);
    got.forEach((g, i) => assert.ok(g.startsWith(expected[i]), `${text}: ${g}`));
  }
});

test('tag columns account for escapes and emoji in the raw JSON line', () => {
  // Decoded: "🍎" (2 UTF-16 units) + "A\t" + "<think>": the tag is at decoded index 4.
  const line = '{"prompt": "p", "completion": "🍎\\u0041\\t<think>x"}';
  const [d] = check(line, 'sft');
  assert.equal(d.severity, 'warning', 'template problems in SFT data are warnings');
  assert.equal(d.col, colOf(line, '<think>'));
  const review = check(line.replace('}', ', "rewards": {}, "status": "pending", "source": {}}'), 'review');
  assert.deepEqual(
    review.map((x) => [x.severity, x.col]),
    [['error', colOf(line, '<think>')]],
  );
});

test('chat messages: shape, roles and where the completion is', () => {
  const msgs = (m: string): string => `{"messages": ${m}}`;
  const user = '{"role": "user", "content": "hi"}';
  const bot = '{"role": "assistant", "content": "yo"}';
  const only = (line: string): string => {
    const ds = check(line, 'sft');
    assert.equal(ds.length, 1, `${line}: ${ds.map((d) => d.message).join('; ')}`);
    return `${ds[0].severity} ${ds[0].field} ${ds[0].message}`;
  };
  assert.match(only(msgs('"hi"')), /^error messages field "messages" must be an array of messages, got string/);
  assert.match(only(msgs('[]')), /empty list of messages/);
  assert.match(only(msgs(`[${user}]`)), /no assistant message/);
  assert.match(only(msgs(`[${bot}]`)), /^error messages\[0\] messages\[0\] is the assistant reply/);
  assert.match(only(msgs(`[${user}, ${bot}, ${user}]`)), /^warning messages\[2\] messages after the last assistant/);
  assert.match(only(msgs(`[${user}, "x"]`)), /^error messages\[1\] messages\[1\] must be an object/);
  assert.match(only(msgs(`[{"role": "user"}, ${bot}]`)), /missing required field "messages\[0\].content"/);
  assert.match(
    only(msgs(`[{"role": 1, "content": "a"}, ${bot}]`)),
    /"messages\[0\].role" must be a string, got number/,
  );
  assert.match(only(msgs(`[${user}, {"role": "assistant", "content": " "}]`)), /empty completion/);
  assert.match(only(`{"messages": [${user}, ${bot}], "prompt": "p"}`), /cannot be combined with "messages"/);
});

test('preference pairs: missing prompt, identical or mismatched conversations', () => {
  assert.deepEqual(
    check('{"chosen": "a", "rejected": "b"}', 'preference').map((d) => d.message),
    ['missing required field "prompt"'],
  );
  const same = check('{"prompt": "p", "chosen": "a", "rejected": "a"}');
  assert.deepEqual(brief(same), [
    `1:${colOf('{"prompt": "p", "chosen": "a", "rejected": "a"}', '"rejected"')} warning rejected`,
  ]);
  const u = (c: string): string => `{"role": "user", "content": "${c}"}`;
  const a = '{"role": "assistant", "content": "x"}';
  const mixed = check(`{"chosen": [${u('one')}, ${a}], "rejected": [${u('two')}, ${a}]}`, 'preference');
  assert.ok(mixed.some((d) => d.severity === 'error' && /same conversation/.test(d.message)));
  assert.match(
    check(`{"prompt": "p", "chosen": [${u('q')}], "rejected": "b"}`)[0].message,
    /must end with an assistant/,
  );
});

test('duplicates: prompts for sft, whole traces for review files', () => {
  const sft =
    '{"prompt": "same", "completion": "a"}\n{"prompt": "other", "completion": "b"}\n{"prompt": "same", "completion": "c"}';
  assert.deepEqual(
    check(sft).map((d) => `${d.line} ${d.message}`),
    ['3 duplicate prompt: same as line 1'],
  );
  const review = (completion: string): string =>
    `{"prompt": "p", "completion": "${completion}", "rewards": {}, "status": "pending", "source": {}}`;
  assert.deepEqual(check([review('a'), review('b')].join('\n')), [], 'K samples per prompt are expected');
  assert.equal(
    check([review('a'), review('a')].join('\n'))[0]?.message,
    'duplicate record: same prompt and completion as line 1',
  );
});

test('a file whose kind cannot be told gets one error per record, and no kind', () => {
  const result = validateText('{"foo": 1}\n\n{"bar": 2}\n', 'x.jsonl');
  assert.equal(result.kind, undefined);
  assert.equal(result.records, 2);
  assert.deepEqual(
    result.diagnostics.map((d) => d.line),
    [1, 3],
  );
  assert.match(result.diagnostics[0].message, /cannot tell what kind of record/);
  // Given the kind, the same records get specific "missing field" errors instead.
  assert.deepEqual(
    check('{"foo": 1}', 'rl').map((d) => d.message),
    ['missing required field "prompt" (or GSM8K\'s "question")', 'missing required field "answer"'],
  );
});

test('a record missing a field of its own kind is not mistaken for another kind', () => {
  // Has "rewards", so in a review file it is a review record missing its status.
  const ds = check('{"prompt": "p", "completion": "c", "rewards": {}, "source": {}}', 'review');
  assert.deepEqual(
    ds.map((d) => d.message),
    ['missing required field "status"'],
  );
  // Has none of the review fields: a plain SFT record in a review file.
  assert.match(check('{"prompt": "p", "completion": "c"}', 'review')[0].message, /looks like an sft record/);
});

test('RL details: GSM8K without ####, code without tests, null optional fields', () => {
  const noMarker = check('{"question": "q", "answer": "42"}', 'rl');
  assert.deepEqual(
    noMarker.map((d) => d.severity),
    ['warning'],
  );
  assert.match(noMarker[0].message, /no "#### <answer>" line/);
  assert.match(check('{"prompt": "q", "answer": "a", "task": "code", "tests": []}')[0].message, /no "tests"/);
  assert.deepEqual(check('{"prompt": "q", "answer": "a", "task": null, "language": null}', 'rl'), []);
  assert.match(check('{"prompt": "q", "answer": {"v": 1}}', 'rl')[0].message, /"answer" must be a string, got object/);
});

test('empty text has no records and a warning; diagnostics come sorted', () => {
  const empty = validateText('', 'x.jsonl', 'sft');
  assert.equal(empty.records, 0);
  assert.deepEqual(brief(empty.diagnostics), ['1:1 warning -']);
  const ds = check('{"prompt": 1, "completion": 2}\n[1]', 'sft');
  assert.deepEqual(
    ds.map((d) => `${d.line}:${d.col}`),
    ['1:2', '1:15', '2:1'],
  );
});

test('validateFile on a missing file gives one error and no records', () => {
  const result = validateFile(fixture('missing.jsonl'), 'sft');
  assert.equal(result.records, 0);
  assert.deepEqual(
    result.diagnostics.map((d) => d.message),
    ['cannot read file: file not found'],
  );
});
