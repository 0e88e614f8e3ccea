// Streaming validation and loading (data/jsonl.ts openDataLines, data/streamValidate.ts): on
// random small files the streaming path gives exactly what the whole-file path gives (records,
// kind, every diagnostic with its file:line:col, in order), also when reads cut lines and UTF-8
// characters apart; on a 100,000-record file, `r1 validate` and the loaders keep heap growth
// far below the file's size (the whole-file path holds the bytes, the text and every line).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import fc from 'fast-check';
import { loadCorpus, textDocuments } from '../../server/src/data/corpus';
import { LineSource, openDataLines, readDataFile } from '../../server/src/data/jsonl';
import { loadReview, loadRl, loadSft } from '../../server/src/data/loaders';
import { DataFileError, DatasetKind } from '../../server/src/data/records';
import { analyzeLines, validateFileStreaming } from '../../server/src/data/streamValidate';
import { parseRecords, validateFile } from '../../server/src/data/validate';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-stream-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
const write = (bytes: Uint8Array | string, ext = '.jsonl') => {
  const file = path.join(tmp, `f${fileNo++}${ext}`);
  fs.writeFileSync(file, bytes);
  return file;
};

// ---- a 100,000-record file ----

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** Heap and buffers (the whole-file path's bytes are a Buffer, outside the JS heap). */
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/**
 * A LineSource that samples memory as lines are read: `raw()` is the highest growth seen every
 * 500 lines (garbage not yet collected included, so it depends on when V8 collects), `live()`
 * the highest after a full GC every 10,000 lines (what the reading actually holds).
 */
function sampled(source: LineSource) {
  let base = 0;
  let raw = 0;
  let live = 0;
  const lines: LineSource = function* (sink) {
    let n = 0;
    for (const l of source(sink)) {
      if (++n % 500 === 0) raw = Math.max(raw, used() - base);
      if (n % 10_000 === 0) {
        gc();
        live = Math.max(live, used() - base);
      }
      yield l;
    }
  };
  return {
    lines,
    start: () => {
      gc();
      gc();
      base = used();
      raw = live = 0;
    },
    raw: () => raw,
    live: () => live,
    base: () => base,
  };
}

/** Lets the test runner drop what earlier tests held, so the baseline is not inflated. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const N = 100_000;
const MB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

describe(`a ${N.toLocaleString('en')}-record file`, () => {
  const file = path.join(tmp, 'big.jsonl');
  // SFT pairs with R1-style completions (~250 bytes a line); one broken line and one duplicate.
  const BROKEN = 50_001;
  const DUPLICATE = 99_999;
  // big-good.jsonl: the same without the broken line (a loader throws on that one).
  const good = path.join(tmp, 'big-good.jsonl');
  const fd = fs.openSync(file, 'w');
  const fdGood = fs.openSync(good, 'w');
  for (let start = 0; start < N; start += 10_000) {
    const lines: string[] = [];
    for (let i = start; i < start + 10_000; i++) {
      const line = i + 1;
      if (line === BROKEN) lines.push('{"prompt": "What is 1 + 1?", "completion": "unterminated}');
      else {
        const a = line === DUPLICATE ? 7 : i;
        lines.push(
          JSON.stringify({
            prompt: `What is ${a} + ${a % 997}?`,
            completion: `<think>\nAdd the ones, then the tens, carrying where needed: ${a} + ${a % 997} = ${a + (a % 997)}.\nCheck by subtracting: ${a + (a % 997)} - ${a % 997} = ${a}.\n</think>\n<answer>${a + (a % 997)}</answer>`,
          }),
        );
      }
    }
    fs.writeSync(fd, lines.join('\n') + '\n');
    fs.writeSync(fdGood, lines.filter((_, j) => start + j + 1 !== BROKEN).join('\n') + '\n');
  }
  fs.closeSync(fd);
  fs.closeSync(fdGood);
  const size = fs.statSync(file).size;

  it('r1 validate: the same file:line:col diagnostics, heap growth a fraction of the file', async () => {
    await settle();
    const opened = openDataLines(file);
    assert.ok('lines' in opened);
    const s = sampled(opened.lines);
    s.start();
    const t0 = Date.now();
    const result = analyzeLines(s.lines, file, undefined, false); // kind inferred: two passes
    const ms = Date.now() - t0;
    console.log(
      `validate ${N} records (${MB(size)}): ${ms} ms, heap+buffer growth: live at most ${MB(s.live())}, highest seen ${MB(s.raw())} (uncollected garbage included)`,
    );
    assert.equal(result.kind, 'sft');
    assert.equal(result.records, N);
    assert.deepEqual(
      result.diagnostics.map((d) => `${d.severity} ${path.basename(d.file)}:${d.line}:${d.col}`),
      [`error big.jsonl:${BROKEN}:44`, `warning big.jsonl:${DUPLICATE}:2`],
    );
    assert.match(result.diagnostics[0].message, /^invalid JSON: /);
    assert.match(result.diagnostics[1].message, /^duplicate prompt: same as line 8$/);
    // Live: a line, the 1 MB read buffer and one duplicate key per record (~85 bytes here; measured
    // ~8.5 MB). The whole-file path holds the bytes, the text, every line and every parsed line
    // (81.6 MB measured on this file). Bound: below the file's own size, for GC-timing headroom.
    assert.ok(s.live() < size, `live growth ${MB(s.live())} for a ${MB(size)} file`);
    assert.deepEqual(validateFileStreaming(file), validateFile(file), 'the same as the whole-file path');
  });

  it('loaders: records kept, little else; the file:line:col error of a broken line', async () => {
    await settle();
    const opened = openDataLines(good);
    assert.ok('lines' in opened);
    const s = sampled(opened.lines);
    s.start();
    const t0 = Date.now();
    // What loadSft does (it cannot take a sampled source): parse, check and keep the records.
    const { parsed: records, diagnostics } = analyzeLines(s.lines, good, 'sft', true);
    const ms = Date.now() - t0;
    const live = s.live();
    gc();
    const retained = used() - s.base();
    // The whole-file path, for comparison: its growth when done (its peak is higher still).
    gc();
    const before = used();
    const read = readDataFile(good);
    const whole = parseRecords(read.text!, good, 'sft').parsed;
    const wholeGrowth = used() - before;
    console.log(
      `load ${records.length} SFT records (${MB(fs.statSync(good).size)}): ${ms} ms, heap+buffer growth: live at most ${MB(live)}, highest seen ${MB(s.raw())}, the records kept ${MB(retained)}; the whole-file path grew ${MB(wholeGrowth)}`,
    );
    assert.equal(whole.length, records.length);
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.equal(loadSft(good).length, N - 1);
    // Beyond the records it returns, streaming holds one duplicate key per record (as validate
    // does); the whole-file path holds copies of the file on top of the records.
    assert.ok(live - retained < size / 2, `live beyond the records: ${MB(live - retained)}`);
    assert.ok(s.raw() < wholeGrowth, `streaming ${MB(s.raw())} vs whole-file ${MB(wholeGrowth)}`);
    assert.equal(records.length, N - 1);
    assert.equal(records[7].prompt, 'What is 7 + 7?');
    assert.throws(
      () => loadSft(file),
      (err: Error) =>
        err instanceof DataFileError &&
        err.diagnostics.length === 1 &&
        err.diagnostics[0].line === BROKEN &&
        err.diagnostics[0].col === 44,
    );
  });
});

// ---- equality with the whole-file path ----

const LINES = [
  '{"prompt":"What is 1 + 2?","completion":"<think>1+2</think><answer>3</answer>"}',
  '{"prompt":"What is 1 + 2?","completion":"again"}', // a duplicate prompt
  '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}',
  '{"prompt":"What is 2 * 3?","answer":"6"}',
  '{"question":"Sam has 3","answer":"so #### 3"}',
  '{"prompt":"p","chosen":"a","rejected":"b"}',
  '{"prompt":"p","completion":"c","rewards":{"accuracy":1},"status":"pending","source":{}}',
  '{"prompt":"p","completion":"c","rewards":{"accuracy":1},"status":"done","source":{}}',
  '{"prompt": 3, "completion": ["x"]}',
  '{"text":"a document"}',
  '{"prompt":"ünïcödé ✓ 𝔘","completion":"日本語"}',
  '{"prompt":"broken',
  '[1,2,3]',
  '"just a string"',
  '{"prompt":"x"}',
  '',
  '   ',
];

/** A file from random lines, line endings, BOMs and stray bytes (invalid UTF-8 included). */
const fileArb = fc
  .record({
    lines: fc.array(fc.oneof(fc.constantFrom(...LINES), fc.string({ maxLength: 30 })), { maxLength: 25 }),
    crlf: fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
    boms: fc.nat({ max: 2 }),
    trailingNewline: fc.boolean(),
    badBytes: fc.array(
      fc.record({ line: fc.nat({ max: 24 }), at: fc.nat({ max: 40 }), byte: fc.constantFrom(0xff, 0xc3, 0xe2, 0x80) }),
      {
        maxLength: 3,
      },
    ),
  })
  .map(({ lines, crlf, boms, trailingNewline, badBytes }) => {
    const parts = lines.map((l, i) => {
      let bytes = Buffer.from(l, 'utf8');
      for (const b of badBytes.filter((x) => x.line === i)) {
        const at = Math.min(b.at, bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([b.byte]), bytes.subarray(at)]);
      }
      return Buffer.concat([
        bytes,
        Buffer.from(i < lines.length - 1 || trailingNewline ? (crlf[i] ? '\r\n' : '\n') : ''),
      ]);
    });
    return Buffer.concat([Buffer.from('\uFEFF'.repeat(boms), 'utf8'), ...parts]);
  });

const KINDS: (DatasetKind | undefined)[] = [undefined, 'sft', 'rl', 'preference', 'review'];

/** What the whole-file path (validate.ts + readDataFile, as before streaming) says about a file. */
function wholeFile(file: string, kind: DatasetKind) {
  const read = readDataFile(file);
  const result = parseRecords(read.text!, file, kind);
  const errors = [...read.diagnostics, ...result.diagnostics]
    .filter((d) => d.severity === 'error')
    .sort((a, b) => a.line - b.line || a.col - b.col);
  return errors.length ? { errors } : { records: result.parsed };
}

function streamed(load: () => unknown) {
  try {
    return { records: load() };
  } catch (err) {
    assert.ok(err instanceof DataFileError, String(err));
    return { errors: err.diagnostics };
  }
}

const LOADERS = { sft: loadSft, rl: loadRl, review: loadReview } as const;
let compared = 0;
after(() => console.log(`stream vs whole file: ${compared} comparisons`));

describe('streaming gives what the whole-file path gives', () => {
  it('validate: same kind, record count and diagnostics (file:line:col, order), any chunk size', () => {
    fc.assert(
      fc.property(fileArb, fc.constantFrom(...KINDS), fc.integer({ min: 1, max: 64 }), (bytes, kind, chunk) => {
        const file = write(bytes);
        const expected = validateFile(file, kind);
        assert.deepEqual(validateFileStreaming(file, kind), expected);
        const opened = openDataLines(file, chunk);
        assert.ok('lines' in opened);
        const { parsed: _parsed, ...small } = analyzeLines(opened.lines, file, kind, false);
        assert.deepEqual(small, expected, `chunk ${chunk}`);
        compared += 2;
      }),
      { numRuns: 300, seed: 77 },
    );
  });

  it('loaders: same records or the same errors', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.constantFrom('sft', 'rl', 'review') as fc.Arbitrary<keyof typeof LOADERS>,
        (bytes, kind) => {
          const file = write(bytes);
          assert.deepEqual(
            streamed(() => LOADERS[kind](file)),
            wholeFile(file, kind),
          );
          compared++;
        },
      ),
      { numRuns: 300, seed: 78 },
    );
  });

  it('plain-text corpus: same documents', () => {
    fc.assert(
      fc.property(fileArb, (bytes) => {
        const file = write(bytes, '.txt');
        const read = readDataFile(file);
        const docs = textDocuments(read.text!);
        const expected = read.diagnostics.length || docs.length === 0 ? 'error' : docs;
        const got = streamed(() => loadCorpus(file));
        assert.deepEqual('errors' in got ? 'error' : got.records, expected);
        compared++;
      }),
      { numRuns: 150, seed: 79 },
    );
  });

  it('an unreadable path gives the same one diagnostic', () => {
    for (const file of [path.join(tmp, 'missing.jsonl'), tmp]) {
      assert.deepEqual(validateFileStreaming(file), validateFile(file));
      assert.throws(() => loadSft(file), DataFileError);
    }
  });
});
