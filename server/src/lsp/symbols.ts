// Document symbols: one per record, named by its prompt, so the outline and breadcrumbs (and
// "Go to Symbol") navigate a dataset by what each record asks.
import { DocumentSymbol, Range, SymbolKind } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { documentLines, type LineRecord } from './documents';
import { promptText } from './records';

/** Longest symbol name; the outline is for finding records, not reading them. */
export const SYMBOL_NAME_MAX = 60;

/** One-line, truncated label (symbol names must be non-empty and should not wrap). */
export function label(text: string, max = SYMBOL_NAME_MAX): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

// Kept per record object (documents.ts keeps those for lines that did not change) and per
// version's line array, so an edit rebuilds only the symbols of the lines it touched.
const symbolOf = new WeakMap<LineRecord, DocumentSymbol | null>();
const symbolsOf = new WeakMap<LineRecord[], DocumentSymbol[]>();

/** A symbol per non-blank line: records by prompt, unparsable lines as such. */
export function documentSymbols(doc: TextDocument): DocumentSymbol[] {
  const lines = documentLines(doc);
  let out = symbolsOf.get(lines);
  if (out) return out;
  out = [];
  for (const rec of lines) {
    let symbol = symbolOf.get(rec);
    if (symbol === undefined) symbolOf.set(rec, (symbol = recordSymbol(rec)));
    if (symbol) out.push(symbol);
  }
  symbolsOf.set(lines, out);
  return out;
}

function recordSymbol(rec: LineRecord): DocumentSymbol | null {
  if (!rec.text.trim()) return null;
  const range = Range.create(rec.line, 0, rec.line, rec.text.length);
  const prompt = rec.value ? promptText(rec.value) : undefined;
  const name = (prompt !== undefined && label(prompt)) || `line ${rec.line + 1}`;
  const status = typeof rec.value?.status === 'string' ? rec.value.status : undefined;
  const detail = rec.value ? status : 'invalid record';
  return DocumentSymbol.create(name, detail, SymbolKind.Object, range, range);
}
