// Pure parts of the client: the rewards panel's <think>/<answer> splitting and the unescaped
// record view's render/parse round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { segments } from '../src/webview/highlight';
import { applyRecordText, parseRecordText, recordLine, renderRecord, textFields } from '../src/review/recordText';

describe('segments', () => {
  it('splits the R1 template', () => {
    assert.deepEqual(segments('<think>\nwork\n</think>\n<answer>42</answer>'), [
      { kind: 'tag', text: '<think>' },
      { kind: 'think', text: '\nwork\n' },
      { kind: 'tag', text: '</think>' },
      { kind: 'text', text: '\n' },
      { kind: 'tag', text: '<answer>' },
      { kind: 'answer', text: '42' },
      { kind: 'tag', text: '</answer>' },
    ]);
  });

  it('runs an unclosed tag to the end and ignores stray closers', () => {
    assert.deepEqual(segments('x </answer> <think>a <answer>b'), [
      { kind: 'text', text: 'x </answer> ' },
      { kind: 'tag', text: '<think>' },
      { kind: 'think', text: 'a <answer>b' },
    ]);
  });

  it('keeps plain text whole', () => {
    assert.deepEqual(segments('no tags'), [{ kind: 'text', text: 'no tags' }]);
    assert.deepEqual(segments(''), []);
  });
});

describe('record text', () => {
  const record = {
    prompt: 'What is 2 + 3?',
    completion: '<think>\n2+3=5 "quoted" \\ backslash\n</think>\n<answer>5</answer>',
    answer: '5',
    rewards: { accuracy: 1 },
    status: 'pending',
  };

  it('renders fields unescaped, one header each', () => {
    const text = renderRecord(record);
    assert.equal(
      text,
      '=== prompt ===\nWhat is 2 + 3?\n=== completion ===\n<think>\n2+3=5 "quoted" \\ backslash\n</think>\n<answer>5</answer>\n=== answer ===\n5\n',
    );
  });

  it('round-trips exactly, keeping other fields and key order', () => {
    const back = applyRecordText(record, renderRecord(record));
    assert.equal(recordLine(back), JSON.stringify(record));
  });

  it('applies edits and writes one valid JSONL line', () => {
    const edited = renderRecord(record).replace('<answer>5</answer>', '<answer>five</answer>\n\nwith "more"\ttext');
    const line = recordLine(applyRecordText(record, edited));
    assert.ok(!line.includes('\n'));
    const parsed = JSON.parse(line);
    assert.equal(parsed.completion.endsWith('<answer>five</answer>\n\nwith "more"\ttext'), true);
    assert.deepEqual(Object.keys(parsed), Object.keys(record));
    assert.equal(parsed.status, 'pending');
  });

  it('keeps empty fields and trailing newlines of a field', () => {
    const r = { prompt: '', completion: 'a\n' };
    assert.deepEqual(applyRecordText(r, renderRecord(r)), r);
  });

  it('handles conversations', () => {
    const r = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: '<think>x</think>' },
      ],
    };
    assert.deepEqual(
      textFields(r).map((f) => f.name),
      ['messages[0].content', 'messages[1].content'],
    );
    const text = renderRecord(r);
    assert.ok(text.includes('=== messages[1].content (assistant) ===\n<think>x</think>\n'));
    const back = applyRecordText(r, text.replace('<think>x</think>', '<think>y</think>')) as typeof r;
    assert.deepEqual(back.messages[1], { role: 'assistant', content: '<think>y</think>' });
    assert.deepEqual(back.messages[0], r.messages[0]);
  });

  it('refuses a document whose field header was removed', () => {
    assert.throws(() => applyRecordText(record, '=== prompt ===\nx\n'), /"=== completion ===" is missing/);
    assert.throws(
      () => parseRecordText('stray\n=== prompt ===\n', new Set(['prompt'])),
      /before the first field header/,
    );
  });

  it('treats unknown header-like lines as text', () => {
    const r = { prompt: 'p', completion: 'c' };
    const back = applyRecordText(r, '=== prompt ===\np\n=== completion ===\n=== not a field ===\nc\n');
    assert.equal(back.completion, '=== not a field ===\nc');
  });
});
