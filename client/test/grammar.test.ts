// The `<think>`/`<answer>` injection grammar inside JSON Lines strings, and the r1-record grammar,
// run through a small TextMate tokenizer (./textmate.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Grammar, selectorMatches, Tokenizer } from './textmate';

const root = join(__dirname, '..', '..');
const load = (file: string) => JSON.parse(readFileSync(join(root, 'syntaxes', file), 'utf8')) as Grammar;
const injection = load('think.injection.tmLanguage.json');
const recordGrammar = load('r1-record.tmLanguage.json');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The structure of VS Code's JSONL grammar (source.json.lines), cut down to what strings need. */
const jsonl: Grammar = {
  scopeName: 'source.json.lines',
  patterns: [{ include: '#value' }],
  repository: {
    value: {
      patterns: [{ include: '#constant' }, { include: '#number' }, { include: '#string' }, { include: '#object' }],
    },
    constant: { match: '\\b(?:true|false|null)\\b', name: 'constant.language.json.lines' },
    number: { match: '-?\\d+(?:\\.\\d+)?', name: 'constant.numeric.json.lines' },
    object: {
      begin: '\\{',
      end: '\\}',
      name: 'meta.structure.dictionary.json.lines',
      patterns: [
        { include: '#objectkey' },
        {
          begin: ':',
          end: '(,)|(?=\\})',
          name: 'meta.structure.dictionary.value.json.lines',
          patterns: [{ include: '#value' }],
        },
      ],
    },
    objectkey: {
      begin: '"',
      end: '"',
      name: 'string.json.lines support.type.property-name.json.lines',
      patterns: [{ include: '#stringcontent' }],
    },
    string: {
      begin: '"',
      end: '"',
      name: 'string.quoted.double.json.lines',
      patterns: [{ include: '#stringcontent' }],
    },
    stringcontent: {
      patterns: [
        { match: '\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4})', name: 'constant.character.escape.json.lines' },
        { match: '\\\\.', name: 'invalid.illegal.unrecognized-string-escape.json.lines' },
      ],
    },
  },
};

function tokenize(line: string): (needle: string, occurrence?: number) => string[] {
  const scopes = new Tokenizer(jsonl, [injection]).tokenizeLine(line);
  return (needle, occurrence = 0) => {
    let at = -1;
    for (let i = 0; i <= occurrence; i++) at = line.indexOf(needle, at + 1);
    assert.ok(at >= 0, `"${needle}" not in line`);
    return scopes[at];
  };
}

const has = (scopes: string[], scope: string) => scopes.some((s) => s === scope || s.startsWith(scope + '.'));

describe('think injection grammar', () => {
  it('is contributed as an injection into JSON and JSON Lines', () => {
    const g = manifest.contributes.grammars.find((x: { scopeName: string }) => x.scopeName === injection.scopeName);
    assert.ok(g, 'grammar contributed');
    assert.deepEqual([...g.injectTo].sort(), ['source.json', 'source.json.lines']);
    assert.equal(g.path, './syntaxes/think.injection.tmLanguage.json');
  });

  it('selects JSON string values, not keys, and not its own regions', () => {
    const sel = injection.injectionSelector!;
    assert.ok(selectorMatches(sel, ['source.json.lines', 'string.quoted.double.json.lines']).matches);
    assert.ok(selectorMatches(sel, ['source.json', 'string.quoted.double.json']).matches);
    assert.ok(
      !selectorMatches(sel, ['source.json.lines', 'string.json.lines', 'support.type.property-name.json.lines'])
        .matches,
    );
    assert.ok(!selectorMatches(sel, ['source.json.lines', 'string.quoted.double.json.lines', 'meta.think.r1']).matches);
  });

  it('scopes the tags and the content of think and answer', () => {
    const line = '{"prompt": "What is 2 + 3?", "completion": "<think>\\n2+3=5\\n</think>\\n<answer>5</answer>"}';
    const at = tokenize(line);
    assert.ok(has(at('think>'), 'entity.name.tag.think.r1'));
    assert.ok(has(at('<think>'), 'punctuation.definition.tag.begin.r1'));
    assert.ok(has(at('2+3=5'), 'markup.italic.think.r1'));
    assert.ok(has(at('2+3=5'), 'comment.block.think.r1'), 'coloured apart from strings by common themes');
    assert.ok(has(at('2+3=5'), 'string.quoted.double.json.lines'), 'still inside the JSON string');
    assert.ok(has(at('\\n2+3'), 'constant.character.escape'), 'escapes inside are content, scoped as escapes');
    assert.ok(has(at('\\n2+3'), 'markup.italic.think.r1'));
    assert.ok(has(at('think>', 1), 'entity.name.tag.think.r1'), 'closing tag');
    assert.ok(!has(at('\\n<answer>'), 'markup.italic.think.r1'), 'content ends at </think>');
    assert.ok(has(at('answer>'), 'entity.name.tag.answer.r1'));
    assert.ok(has(at('5</answer>'), 'markup.bold.answer.r1'));
    assert.ok(!has(at('What is'), 'markup.italic.think.r1'), 'plain strings untouched');
    assert.ok(!has(at('"}'), 'meta.answer.r1'), 'closing quote is the string’s');
    assert.ok(has(at('"}'), 'string.quoted.double.json.lines'));
    assert.ok(!has(at('"completion"'), 'meta.think.r1'), 'keys are not scanned');
  });

  it('treats \\" and \\\\ inside a block as content', () => {
    const line = String.raw`{"completion": "<think>say \"quoted\" and C:\\path</think> after"}`;
    const at = tokenize(line);
    assert.ok(has(at('quoted'), 'markup.italic.think.r1'), 'an escaped quote does not end the block');
    assert.ok(has(at(' and C'), 'markup.italic.think.r1'));
    assert.ok(has(at('\\"quoted'), 'constant.character.escape'));
    assert.ok(has(at('path'), 'markup.italic.think.r1'), 'an escaped backslash is content');
    assert.ok(!has(at(' after'), 'markup.italic.think.r1'));
    assert.ok(has(at(' after'), 'string.quoted.double.json.lines'));
  });

  it('ends an unclosed tag at the end of its string', () => {
    const line = String.raw`{"completion": "<think>never closed \" still inside", "answer": "5"}`;
    const at = tokenize(line);
    assert.ok(has(at('still inside'), 'markup.italic.think.r1'));
    assert.ok(!has(at('", "answer'), 'meta.think.r1'), 'the closing quote ends the region');
    assert.ok(has(at('answer"'), 'support.type.property-name.json.lines'), 'the next key is a key again');
    assert.ok(has(at('5"}'), 'string.quoted.double.json.lines'));
    assert.ok(!has(at('5"}'), 'meta.think.r1'));
  });

  it('ends an unclosed tag at a closing quote after an escaped backslash', () => {
    const line = String.raw`{"completion": "<answer>ends here\\", "next": 1}`;
    const at = tokenize(line);
    assert.ok(has(at('ends here'), 'markup.bold.answer.r1'));
    assert.ok(has(at('next'), 'support.type.property-name.json.lines'));
    assert.ok(has(at('1}'), 'constant.numeric.json.lines'));
  });

  it('does not nest a tag inside its own region', () => {
    const line = '{"completion": "<think>a <think> b</think> c"}';
    const at = tokenize(line);
    assert.ok(has(at(' b'), 'markup.italic.think.r1'));
    assert.ok(!has(at(' c'), 'meta.think.r1'), 'the first </think> closes the block');
  });
});

describe('r1-record grammar', () => {
  const lines = [
    '=== prompt ===',
    'What is 2 + 3?',
    '=== completion ===',
    '<think>',
    '2+3=5 "quoted" \\n stays',
    '</think>',
    '<answer>5</answer>',
    '=== messages[1].content (assistant) ===',
    '<think>unclosed',
    '=== answer ===',
    '5',
  ];
  const tk = new Tokenizer(recordGrammar);
  const scopes = lines.map((l) => tk.tokenizeLine(l));
  const at = (row: number, needle: string) => scopes[row][lines[row].indexOf(needle)];

  it('scopes field headers', () => {
    assert.ok(has(at(0, 'prompt'), 'entity.name.section.field.r1-record'));
    assert.ok(has(at(7, 'assistant'), 'comment.line.role.r1-record'));
    assert.ok(has(at(7, 'messages'), 'entity.name.section.field.r1-record'));
  });

  it('scopes multi-line think and answer blocks, quotes being plain text', () => {
    assert.ok(has(at(4, '2+3'), 'markup.italic.think.r1'));
    assert.ok(has(at(4, '"quoted"'), 'markup.italic.think.r1'));
    assert.ok(has(at(5, 'think'), 'entity.name.tag.think.r1'));
    assert.ok(has(at(6, '5'), 'markup.bold.answer.r1'));
    assert.ok(!has(at(1, 'What'), 'meta.think.r1'));
  });

  it('ends an unclosed block at the next field header', () => {
    assert.ok(has(at(8, 'unclosed'), 'markup.italic.think.r1'));
    assert.ok(has(at(9, 'answer'), 'entity.name.section.field.r1-record'));
    assert.ok(!has(at(10, '5'), 'meta.think.r1'));
  });
});
