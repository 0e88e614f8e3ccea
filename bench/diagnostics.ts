// How long the language server takes to produce diagnostics, symbols and code lenses for a
// 10,000-record dataset (the work behind each debounced revalidation), in process. Prints
// milliseconds. bench/daemon-latency.ts times the same dataset through a running daemon.
// Run: node --import tsx bench/diagnostics.ts [records]
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeLenses } from '../server/src/lsp/codeLens';
import { computeDiagnostics } from '../server/src/lsp/diagnostics';
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

function time<T>(label: string, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  process.stdout.write(`${label.padEnd(28)} ${(performance.now() - t0).toFixed(1)} ms\n`);
  return out;
}

function main(n: number): void {
  const text = benchDatasetLines(n).join('\n') + '\n';
  process.stdout.write(`${n} records, ${(text.length / 1e6).toFixed(1)} MB\n`);
  for (let round = 1; round <= 3; round++) {
    const doc = TextDocument.create('file:///bench.jsonl', 'jsonl', round, text);
    const diags = time(`diagnostics (round ${round})`, () => computeDiagnostics(doc));
    time(`  symbols`, () => documentSymbols(doc));
    time(`  code lenses`, () => codeLenses(doc));
    if (round === 1) process.stdout.write(`  ${diags.length} diagnostics\n`);
  }
}

// Run only as a script: daemon-latency.ts imports the dataset from here.
if (require.main === module) main(Number(process.argv[2] ?? 10_000));
