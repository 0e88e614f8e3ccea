// Document symbols: one per record, named by its prompt, so the outline and breadcrumbs (and
// "Go to Symbol") navigate a dataset by what each record asks.
import { DocumentSymbol, Range, SymbolKind } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { documentLines } from './documents';
import { promptText } from './records';

/** Longest symbol name; the outline is for finding records, not reading them. */
export const SYMBOL_NAME_MAX = 60;

/** One-line, truncated label (symbol names must be non-empty and should not wrap). */
export function label(text: string, max = SYMBOL_NAME_MAX): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** A symbol per non-blank line: records by prompt, unparsable lines as such. */
export function documentSymbols(doc: TextDocument): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const rec of documentLines(doc)) {
    if (!rec.text.trim()) continue;
    const range = Range.create(rec.line, 0, rec.line, rec.text.length);
    const prompt = rec.value ? promptText(rec.value) : undefined;
    const name = (prompt !== undefined && label(prompt)) || `line ${rec.line + 1}`;
    const status = typeof rec.value?.status === 'string' ? rec.value.status : undefined;
    const detail = rec.value ? status : 'invalid record';
    out.push(DocumentSymbol.create(name, detail, SymbolKind.Object, range, range));
  }
  return out;
}
