// Incremental diagnostics: after any sequence of edits, what the language server keeps per
// line must give exactly what a full validation of the final text gives (diagnostics,
// symbols, code lenses), and an edit must leave the lines it did not touch alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { IncrementalValidation } from '../../server/src/data/incrementalValidate';
import { validateText } from '../../server/src/data/validate';
import { codeLenses } from '../../server/src/lsp/codeLens';
import { computeDiagnostics } from '../../server/src/lsp/diagnostics';
import { documentLines, documentState, lineRecord, trackedDocuments } from '../../server/src/lsp/documents';
import { documentSymbols } from '../../server/src/lsp/symbols';

const think = (s: string) => `<think>\\n${s}\\n</think>\\n<answer>4</answer>`;
const sft = (p: string, c = think('2+2=4')) => `{"prompt": "${p}", "completion": "${c}"}`;

// Few prompts, so edits keep creating and removing duplicates; every kind, so the inferred
// kind can change; broken and blank lines, CRs and a BOM for the line-splitting edge cases.
const LINES = [
  sft('A'),
  sft('B'),
  sft('A', think('four')),
  sft('C', think('先 2+2')),
  `{"prompt": "A", "answer": "4"}`,
  `{"question": "B", "answer": "#### 4"}`,
  `{"prompt": "A", "completion": "x", "rewards": {"accuracy": 1}, "status": "pending", "source": {}}`,
  `{"prompt": "B", "chosen": "${think('a')}", "rejected": "${think('b')}"}`,
  `{"prompt": "A", "completion": 3}`,
  `{"prompt": "A", "completion": `,
  `[1, 2]`,
  `{"prompt": "B", "completion": "<answer>4</answer><think>"}`,
  '',
  '   ',
];
const FRAGMENTS = ['\n', '\r\n', '\r', '}', '{', '"', ',', 'A', '\uFEFF', '', 'ü', ' "answer": "5",'];

const lineArb = fc.constantFrom(...LINES);
const docArb = fc.array(lineArb, { maxLength: 10 }).map((ls) => ls.join('\n'));
/** Inserted text: a fragment, a whole line before or after a newline, or several lines. */
const insertArb = fc.oneof(
  fc.constantFrom(...FRAGMENTS),
  lineArb.map((l) => `${l}\n`),
  lineArb.map((l) => `\n${l}`),
  fc.array(lineArb, { minLength: 2, maxLength: 3 }).map((ls) => ls.join('\n')),
);
/** An edit as two positions in [0, 1] of the current text and what replaces the text between them. */
const editArb = fc.record({
  a: fc.double({ min: 0, max: 1, noNaN: true }),
  b: fc.double({ min: 0, max: 1, noNaN: true }),
  text: insertArb,
});
type Edit = { a: number; b: number; text: string };

function offsets(length: number, { a, b }: Edit): [number, number] {
  const [x, y] = [Math.floor(a * (length + 1)), Math.floor(b * (length + 1))].map((o) => Math.min(o, length));
  return x <= y ? [x, y] : [y, x];
}

test('IncrementalValidation equals validateText after every edit', () => {
  fc.assert(
    fc.property(docArb, fc.array(editArb, { maxLength: 15 }), (initial, edits) => {
      const v = new IncrementalValidation('x.jsonl', initial);
      let text = initial;
      assert.deepEqual(v.result(), validateText(text, 'x.jsonl'));
      for (const edit of edits) {
        const [start, end] = offsets(text.length, edit);
        v.edit(start, end, edit.text);
        text = text.slice(0, start) + edit.text + text.slice(end);
        assert.equal(v.text(), text);
        assert.deepEqual(v.result(), validateText(text, 'x.jsonl'), JSON.stringify(text));
      }
    }),
    { numRuns: 300 },
  );
});

test('IncrementalValidation with a given kind equals validateText with that kind', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('sft', 'rl', 'review', 'preference' as const),
      docArb,
      fc.array(editArb, { maxLength: 8 }),
      (kind, initial, edits) => {
        const v = new IncrementalValidation('x.jsonl', initial, kind);
        let text = initial;
        for (const edit of edits) {
          const [start, end] = offsets(text.length, edit);
          v.edit(start, end, edit.text);
          text = text.slice(0, start) + edit.text + text.slice(end);
        }
        assert.deepEqual(v.result(), validateText(text, 'x.jsonl', kind));
      },
    ),
    { numRuns: 100 },
  );
});

/** What the language features give for a document, computed from scratch (a new document object). */
function fromScratch(text: string) {
  const doc = TextDocument.create('file:///x.jsonl', 'jsonl', 1, text);
  return { diagnostics: computeDiagnostics(doc), symbols: documentSymbols(doc), lenses: codeLenses(doc) };
}

/** One editor change: an incremental range edit, or now and then the whole text replaced. */
function toChange(doc: TextDocument, edit: Edit, full: boolean): TextDocumentContentChangeEvent {
  const text = doc.getText();
  const [start, end] = offsets(text.length, edit);
  if (full) return { text: text.slice(0, start) + edit.text + text.slice(end) };
  return { range: { start: doc.positionAt(start), end: doc.positionAt(end) }, text: edit.text };
}

test('the language features after incremental document changes equal a full computation', () => {
  const stepArb = fc.record({
    edits: fc.array(editArb, { minLength: 1, maxLength: 3 }),
    full: fc.boolean(),
    look: fc.boolean(),
  });
  fc.assert(
    fc.property(docArb, fc.array(stepArb, { maxLength: 12 }), (initial, steps) => {
      const doc = trackedDocuments.create('file:///x.jsonl', 'jsonl', 1, initial);
      computeDiagnostics(doc);
      steps.forEach(({ edits, full, look }, i) => {
        // Several changes in one notification apply in order, each to the text the previous left.
        const changes: TextDocumentContentChangeEvent[] = [];
        const mirror = TextDocument.create('file:///m.jsonl', 'jsonl', 1, doc.getText());
        for (const edit of edits) {
          const change = toChange(mirror, edit, full && edits.length === 1);
          changes.push(change);
          TextDocument.update(mirror, [change], 1);
        }
        trackedDocuments.update(doc, changes, i + 2);
        assert.equal(doc.getText(), mirror.getText());
        // Skipping a step leaves results unread, so the next step sees two edits' worth of change.
        if (!look) return;
        assert.equal(documentState(doc).validation.text(), doc.getText());
        const expected = fromScratch(doc.getText());
        assert.deepEqual(computeDiagnostics(doc), expected.diagnostics, JSON.stringify(doc.getText()));
        assert.deepEqual(documentSymbols(doc), expected.symbols);
        assert.deepEqual(codeLenses(doc), expected.lenses);
      });
      assert.deepEqual(computeDiagnostics(doc), fromScratch(doc.getText()).diagnostics);
    }),
    { numRuns: 200 },
  );
});

test('a document changed without the tracked store resyncs from its text', () => {
  fc.assert(
    fc.property(docArb, fc.array(editArb, { minLength: 1, maxLength: 6 }), (initial, edits) => {
      const doc = TextDocument.create('file:///x.jsonl', 'jsonl', 1, initial);
      computeDiagnostics(doc);
      edits.forEach((edit, i) => TextDocument.update(doc, [toChange(doc, edit, false)], i + 2));
      assert.deepEqual(computeDiagnostics(doc), fromScratch(doc.getText()).diagnostics);
      assert.deepEqual(documentSymbols(doc), fromScratch(doc.getText()).symbols);
    }),
    { numRuns: 100 },
  );
});

/** A tracked document of `lines`, with helpers to edit it as an editor would. */
function openDoc(lines: string[]) {
  const doc = trackedDocuments.create('file:///d.jsonl', 'jsonl', 1, lines.join('\n') + '\n');
  let version = 1;
  const change = (c: TextDocumentContentChangeEvent) => trackedDocuments.update(doc, [c], ++version);
  return {
    doc,
    insertLine: (line: number, text: string) =>
      change({ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: `${text}\n` }),
    deleteLine: (line: number) =>
      change({ range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, text: '' }),
    messages: () => computeDiagnostics(doc).map((d) => `${d.range.start.line}: ${d.message}`),
  };
}

test('duplicate prompts follow edits: created, renumbered when lines move, removed', () => {
  const d = openDoc([sft('A'), sft('B'), sft('C')]);
  assert.deepEqual(d.messages(), []);
  d.insertLine(3, sft('B'));
  assert.deepEqual(d.messages(), ['3: duplicate prompt: same as line 2']);
  d.insertLine(0, sft('Z'));
  assert.deepEqual(d.messages(), ['4: duplicate prompt: same as line 3']);
  d.insertLine(0, sft('B'));
  // The new first B is now the original; both later ones point at it.
  assert.deepEqual(d.messages(), ['3: duplicate prompt: same as line 1', '5: duplicate prompt: same as line 1']);
  d.deleteLine(0);
  d.deleteLine(4);
  assert.deepEqual(d.messages(), []);
});

test('a broken record leaves the duplicate index, and comes back when repaired', () => {
  const d = openDoc([sft('A'), sft('A')]);
  assert.deepEqual(d.messages(), ['1: duplicate prompt: same as line 1']);
  const end = sft('A').length;
  trackedDocuments.update(
    d.doc,
    [{ range: { start: { line: 0, character: end - 1 }, end: { line: 0, character: end } }, text: '' }],
    2,
  );
  assert.equal(d.messages().length, 1);
  assert.match(d.messages()[0], /^0: invalid JSON/);
  trackedDocuments.update(
    d.doc,
    [{ range: { start: { line: 0, character: end - 1 }, end: { line: 0, character: end - 1 } }, text: '}' }],
    3,
  );
  assert.deepEqual(d.messages(), ['1: duplicate prompt: same as line 1']);
});

test('when most records turn into another kind, every record is checked as that kind', () => {
  const rl = (p: string) => `{"prompt": "${p}", "answer": "4"}`;
  const d = openDoc([sft('A'), sft('B'), rl('C')]);
  assert.deepEqual(d.messages(), [
    '2: this looks like an rl record (it has "prompt" and "answer"), but most records in this file are sft records',
  ]);
  d.insertLine(3, rl('D'));
  d.insertLine(3, rl('E'));
  assert.deepEqual(d.messages(), [
    '0: this looks like an sft record (it has "prompt" and "completion"), but most records in this file are rl records',
    '1: this looks like an sft record (it has "prompt" and "completion"), but most records in this file are rl records',
  ]);
});

test('an edit re-reads only the lines it touches', () => {
  const lines = Array.from({ length: 50 }, (_, i) => sft(`Q${i}`));
  const d = openDoc(lines);
  computeDiagnostics(d.doc);
  const before = [...documentState(d.doc).validation.lines()];
  const records = documentLines(d.doc);
  d.insertLine(10, sft('new'));
  computeDiagnostics(d.doc);
  const after = documentState(d.doc).validation.lines();
  assert.equal(after.length, before.length + 1);
  for (let i = 0; i < after.length; i++) {
    if (i === 10) assert.ok(!before.includes(after[i]), 'the inserted line is new');
    else assert.equal(after[i], before[i < 10 ? i : i - 1], `line ${i} kept its results`);
  }
  // Records above the edit did not move, so they are the same objects (symbols are kept per record).
  const recordsAfter = documentLines(d.doc);
  assert.equal(recordsAfter[5], records[5]);
  assert.notEqual(recordsAfter[20], records[19], 'a moved line gets a record with its new line number');
  assert.equal(recordsAfter[20].line, 20);
  assert.deepEqual(lineRecord(d.doc, 20), recordsAfter[20]);
});
