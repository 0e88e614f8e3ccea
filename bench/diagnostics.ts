// How long the language server takes to produce diagnostics, symbols and code lenses for a
// 10,000-record dataset, in process: first a full pass (a document seen for the first time),
// then per incremental edit (what each keystroke costs once the document is open). Prints
// milliseconds. bench/daemon-latency.ts times the same dataset and edits through a running daemon.
// Run: node --import tsx bench/diagnostics.ts [records] [edits]
import type { Range } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeLenses } from '../server/src/lsp/codeLens';
import { computeDiagnostics } from '../server/src/lsp/diagnostics';
import { trackedDocuments } from '../server/src/lsp/documents';
import { hoverAt } from '../server/src/lsp/hover';
import { documentSymbols } from '../server/src/lsp/symbols';
import { promptOf, reasoningCompletion, solve, type Problem } from '../server/src/samples/arithmetic';

/**
 * The lines of an `n`-record dataset: realistic records (worked arithmetic in R1's template), a
 * few of them broken so the diagnostic paths run too, and a few with a mixed-language chain of
 * thought. Deterministic, so runs compare.
 */
export function benchDatasetLines(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const p: Problem = { a: i % 1000, b: Math.floor(i / 1000), op: '+' };
    let completion = reasoningCompletion(p);
    if (i % 500 === 7) completion = completion.replace('<think>\n', '<think>\n先 ');
    const line = JSON.stringify({ prompt: promptOf(p), completion, answer: String(solve(p)) });
    lines.push(i % 1000 === 3 ? line.slice(0, -10) : line);
  }
  return lines;
}

/**
 * The `i`-th incremental edit, applied to `lines` too. Cycles through what a person reviewing a
 * dataset does: correct an answer, break a record (a deleted closing brace), repair it; spread
 * over the whole file so no one region stays cached.
 */
export function nextEdit(i: number, lines: string[], broken: { line?: number }): { range: Range; text: string } {
  if (broken.line !== undefined) {
    const line = broken.line;
    const end = lines[line].length;
    lines[line] += '}';
    broken.line = undefined;
    return { range: { start: { line, character: end }, end: { line, character: end } }, text: '}' };
  }
  // A multiplicative stride touches lines all over the document in a fixed order.
  const line = (i * 7919 + 13) % lines.length;
  const text = lines[line];
  if (i % 3 === 1 && text.endsWith('}')) {
    broken.line = line;
    lines[line] = text.slice(0, -1);
    return { range: { start: { line, character: text.length - 1 }, end: { line, character: text.length } }, text: '' };
  }
  const m = /"answer":"(\d*)"/.exec(text);
  const start = m ? m.index + '"answer":"'.length : 1;
  const old = m ? m[1] : '';
  const value = String((Number(old) || 0) + 1);
  lines[line] = text.slice(0, start) + value + text.slice(start + old.length);
  return { range: { start: { line, character: start }, end: { line, character: start + old.length } }, text: value };
}

function time<T>(label: string, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  process.stdout.write(`${label.padEnd(28)} ${(performance.now() - t0).toFixed(1)} ms\n`);
  return out;
}

/** Nearest-rank percentile of `xs` (p in 0..100). */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(n: number, edits: number): Promise<void> {
  const lines = benchDatasetLines(n);
  const text = lines.join('\n') + '\n';
  process.stdout.write(`${n} records, ${(text.length / 1e6).toFixed(1)} MB\n`);
  for (let round = 1; round <= 3; round++) {
    // A new document object each round: nothing is cached, so this is a full pass.
    const doc = TextDocument.create('file:///bench.jsonl', 'jsonl', round, text);
    const diags = time(`full diagnostics (round ${round})`, () => computeDiagnostics(doc));
    time(`  symbols`, () => documentSymbols(doc));
    time(`  code lenses`, () => codeLenses(doc));
    if (round === 1) process.stdout.write(`  ${diags.length} diagnostics\n`);
  }

  // Incremental: the document as the daemon's document store keeps it, edited as in daemon-latency.ts.
  const doc = trackedDocuments.create('file:///bench.jsonl', 'jsonl', 1, text);
  computeDiagnostics(doc);
  const costs = { edit: [] as number[], diagnostics: [] as number[], hover: [] as number[], symbols: [] as number[] };
  // CPU time as well as wall time: other processes on the machine stretch the wall time of a
  // step (while it waits for a core), not the CPU time it uses.
  const cpu = { edit: 0, diagnostics: 0, hover: 0, symbols: 0 };
  const timed = async (name: keyof typeof costs, fn: () => unknown) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    costs[name].push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu[name] += (c.user + c.system) / 1000;
  };
  const broken: { line?: number } = {};
  for (let i = 0; i < edits; i++) {
    const change = nextEdit(i, lines, broken);
    await timed('edit', () => trackedDocuments.update(doc, [change], i + 2));
    await timed('diagnostics', () => computeDiagnostics(doc));
    await timed('hover', () => hoverAt(doc, { line: change.range.start.line, character: 3 }));
    await timed('symbols', () => documentSymbols(doc));
  }
  process.stdout.write(`\nper incremental edit (${edits} edits), ms: wall p50 / p95, mean CPU\n`);
  for (const [name, xs] of Object.entries(costs)) {
    const [p50, p95] = [percentile(xs, 50), percentile(xs, 95)].map((x) => x.toFixed(2));
    const mean = (cpu[name as keyof typeof cpu] / edits).toFixed(2);
    process.stdout.write(`  ${name.padEnd(26)} ${p50} / ${p95}, ${mean}\n`);
  }
  const work = (cpu.edit + cpu.diagnostics) / edits;
  process.stdout.write(`  edit + diagnostics: ${work.toFixed(2)} ms CPU per edit\n`);
}

// Run only as a script: daemon-latency.ts imports the dataset and the edits from here.
if (require.main === module) void main(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 200));
