// Fuzzing every data loader with hostile files: random bytes, invalid UTF-8, huge lines, deeply
// nested JSON and wrong types per field. A loader must return records or throw a DataFileError
// whose diagnostics name the file, a real line and (for a field problem) the field; never
// another exception, and never take long. Each target prints how many cases it ran.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { loadCorpus } from '../../server/src/data/corpus';
import { loadPreference, loadReview, loadRl, loadSft } from '../../server/src/data/loaders';
import { DataFileError } from '../../server/src/data/records';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-fuzz-loaders-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const LOADERS: Record<string, (file: string) => unknown[]> = {
  sft: loadSft,
  rl: loadRl,
  preference: loadPreference,
  review: loadReview,
  corpus: loadCorpus,
};

// Per-target case counts, printed at the end so `npm test` shows what the fuzzing covered.
const counts = new Map<string, number>();
const count = (target: string) => counts.set(target, (counts.get(target) ?? 0) + 1);
after(() => {
  for (const [target, n] of counts) console.log(`fuzz ${target}: ${n} cases`);
});

let fileNo = 0;
function writeCase(bytes: Uint8Array | string, ext = '.jsonl'): string {
  const file = path.join(tmp, `case-${fileNo++}${ext}`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Loads `file` and checks the outcome is records or a well-formed DataFileError. */
function loadChecked(name: string, file: string, limitMs = 2000): { records?: unknown[]; error?: DataFileError } {
  const lines = fs.readFileSync(file).toString('latin1').split('\n').length;
  const started = performance.now();
  let out: { records?: unknown[]; error?: DataFileError };
  try {
    out = { records: LOADERS[name](file) };
  } catch (err) {
    assert.ok(err instanceof DataFileError, `${name}: expected a DataFileError, got ${(err as Error)?.stack ?? err}`);
    assert.ok(err.diagnostics.length > 0, 'a DataFileError lists at least one problem');
    for (const d of err.diagnostics) {
      assert.equal(d.file, file);
      assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines, `line ${d.line} of ${lines}`);
      assert.ok(Number.isInteger(d.col) && d.col >= 1, `col ${d.col}`);
      assert.ok(d.message.length > 0 && d.message.length < 2000, 'a short message');
    }
    out = { error: err };
  }
  const ms = performance.now() - started;
  assert.ok(ms < limitMs, `${name} took ${ms.toFixed(0)} ms`);
  return out;
}

// Bytes that look a bit like JSONL: fragments of records mixed with random and non-UTF-8 bytes.
const FRAGMENTS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '\n',
  '\r\n',
  '"prompt"',
  '"completion"',
  '"answer"',
  '"messages"',
  '"role"',
  '"content"',
  '"chosen"',
  '"rejected"',
  '"status"',
  '"rewards"',
  '"source"',
  '"text"',
  '"tests"',
  'null',
  'true',
  '1e999',
  '-0',
  '"\\u0000"',
  '"\\ud800"',
  '<think>',
  '</answer>',
  '\uFEFF',
  '{"prompt":"a","completion":"b"}',
];
const enc = new TextEncoder();
const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS).map((s) => enc.encode(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  // Invalid UTF-8: lone continuation bytes, truncated sequences, overlongs, surrogates.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom([0x80], [0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff])
      .map((b) => Uint8Array.from(b)),
  },
);
const fileBytes = fc.array(fragment, { maxLength: 60 }).map((parts) => Buffer.concat(parts.map((p) => Buffer.from(p))));

for (const name of Object.keys(LOADERS)) {
  test(`fuzz ${name} loader: random and invalid-UTF-8 bytes give records or a DataFileError`, () => {
    fc.assert(
      fc.property(fileBytes, fc.boolean(), (bytes, txt) => {
        count(`${name} loader (random bytes)`);
        // The corpus reads plain text unless the file is .jsonl.
        loadChecked(name, writeCase(bytes, name === 'corpus' && txt ? '.txt' : '.jsonl'));
      }),
      { numRuns: 150, seed: 9 },
    );
  });
}

test('fuzz loaders: invalid UTF-8 is reported on its own line, never decoded silently', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 5 }),
      fc.constantFrom(0x80, 0xc3, 0xff, 0xfe),
      fc.constantFrom(...Object.keys(LOADERS)),
      (at, bad, name) => {
        count('loaders (invalid UTF-8 line)');
        const lines = Array.from({ length: 6 }, (_, i) => `{"prompt": "p${i}", "completion": "c", "text": "t"}`);
        const bytes = Buffer.from(lines.join('\n'));
        const offset = lines.slice(0, at).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) + 14; // inside "p<i>"
        bytes[offset] = bad;
        const { error } = loadChecked(name, writeCase(bytes));
        assert.ok(error, 'a file with invalid UTF-8 is refused');
        assert.ok(
          error.diagnostics.some((d) => d.line === at + 1 && /UTF-8/.test(d.message)),
          error.message,
        );
      },
    ),
    { numRuns: 40, seed: 3 },
  );
});

test('fuzz loaders: huge lines and deep nesting stay fast and give a clear result', () => {
  const huge = 'x'.repeat(2_000_000);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const cases: Record<string, string> = {
    'huge valid line': JSON.stringify({ prompt: huge, completion: 'ok', answer: '1', text: huge }),
    'huge unterminated line': `{"prompt": "${huge}`,
    'deeply nested value': `{"prompt": ${deep(20_000)}, "completion": "c", "answer": "1", "text": ${deep(20_000)}}`,
    'deeply nested, unclosed': '{"prompt": ' + '['.repeat(20_000),
    'deeply nested objects': '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
    'deep messages': `{"messages": [${'{"role": "user", "content": '.repeat(12_000)}"x"${'}'.repeat(12_000)}]}`,
    'many blank lines': '\n'.repeat(1_000_000) + '{"prompt": 1}',
  };
  // Beyond the stack depth of any recursive reader. Each case goes to two loaders (they share the
  // JSONL reader; the corpus has its own path), rotating, to keep the CPU time small.
  const names = Object.keys(LOADERS);
  Object.entries(cases).forEach(([label, text], i) => {
    for (const name of [names[i % names.length], 'corpus']) {
      count('loaders (huge / deeply nested)');
      // Generous: these run while other suites share the CPU; a quadratic scan would take minutes.
      const { error } = loadChecked(name, writeCase(text), 5000);
      if (label !== 'huge valid line') assert.ok(error, `${name}: ${label} must be refused`);
    }
  });
});

// One valid record per kind; each field is then replaced by a value of a wrong type.
const VALID: Record<string, Record<string, unknown>> = {
  sft: { prompt: 'What is 1 + 1?', completion: '<think>\n1 + 1 = 2\n</think>\n<answer>2</answer>' },
  rl: { prompt: 'What is 1 + 1?', answer: '2', task: 'math', tests: ['f() === 1'], language: 'en' },
  preference: { prompt: 'Hi', chosen: 'Hello', rejected: 'Go away' },
  review: {
    prompt: 'What is 1 + 1?',
    completion: '<think>\n2\n</think>\n<answer>2</answer>',
    answer: '2',
    rewards: { accuracy: 1 },
    status: 'pending',
    source: { stage: 'rejection-sampling' },
  },
  corpus: { text: 'Numbers are written with digits.' },
};

// Wrong types a hand-edited file really holds: numbers, booleans, null, arrays, objects, and
// strings where structure is expected.
const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.string({ maxLength: 8 }),
);

/** Whether `value` is an acceptable value of `field` in a `kind` record (then no error is due). */
function acceptable(kind: string, field: string, value: unknown): boolean {
  const text = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  const messages = (v: unknown) => Array.isArray(v) && v.length > 0; // may still be invalid: checked below
  // null reads as absent (Python's None): fine for optional fields only.
  if (value === null)
    return (
      (kind === 'rl' && ['task', 'tests', 'language'].includes(field)) || (kind === 'review' && field === 'answer')
    );
  switch (field) {
    case 'prompt':
    case 'chosen':
    case 'rejected':
    case 'completion':
      return text(value) || messages(value);
    case 'answer':
      return (
        text(value) ||
        (typeof value === 'number' && Number.isFinite(value)) ||
        (kind === 'review' && typeof value === 'string')
      );
    case 'task':
      return ['math', 'code', 'general'].includes(value as string);
    case 'status':
      return ['pending', 'accepted', 'rejected'].includes(value as string);
    case 'tests':
      return Array.isArray(value) && value.every((t) => typeof t === 'string');
    case 'language':
      return text(value);
    case 'rewards':
      return (
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === 'number')
      );
    case 'source':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return text(value);
  }
}

for (const [kind, valid] of Object.entries(VALID)) {
  test(`fuzz ${kind} loader: a wrong type in any field is an error naming that field and line`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(valid)), wrongValue, fc.nat({ max: 3 }), (field, value, padLines) => {
        count(`${kind} loader (wrong type per field)`);
        const record = { ...valid, [field]: value };
        // Blank lines before the record: the reported line must still be the record's.
        const file = writeCase('\n'.repeat(padLines) + JSON.stringify(record) + '\n');
        const { records, error } = loadChecked(kind, file);
        if (records) {
          assert.ok(acceptable(kind, field, value), `${kind}.${field} = ${JSON.stringify(value)} was accepted`);
          return;
        }
        // A conversation-shaped value may fail on a nested field (prompt[0].role): same field, deeper.
        const named = error!.diagnostics.filter((d) => d.line === padLines + 1 && d.field !== undefined);
        assert.ok(
          named.some(
            (d) => d.field === field || d.field!.startsWith(`${field}[`) || d.field!.startsWith(`${field}.`),
          ) ||
            // An empty list of messages, or a prompt with a wrong type, is named in the message too.
            error!.diagnostics.some((d) => d.message.includes(`"${field}`)),
          `${kind}.${field} = ${JSON.stringify(value)}: ${error!.message}`,
        );
      }),
      { numRuns: 200, seed: 5 },
    );
  });
}

// Keys that collide with Object.prototype members: code that reads `record[key]` or spreads a
// record must not pick up inherited members or let a record change prototypes.
const DANGEROUS_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'length'];

test('fuzz loaders: records with prototype-named keys load or fail cleanly, and pollute nothing', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.keys(VALID)),
      fc.dictionary(fc.constantFrom(...DANGEROUS_KEYS), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }),
      (kind, extra) => {
        count('loaders (prototype-named keys)');
        // JSON text, so "__proto__" is an own key as it would be in a real file.
        const line = JSON.stringify(VALID[kind]).slice(0, -1) + ',' + JSON.stringify(extra).slice(1);
        loadChecked(kind, writeCase(line + '\n'));
        assert.equal(({} as Record<string, unknown>).status, undefined, 'Object.prototype was polluted');
      },
    ),
    { numRuns: 100, seed: 11 },
  );
});
