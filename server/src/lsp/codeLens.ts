// Code lenses on dataset records: Score on records with a completion; Accept / Reject on
// review-file records (those with a `status`). The extension implements the commands.
import { CodeLens, Command, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { LensCommands } from '../protocol/messages';
import { documentLines, type LineRecord } from './documents';
import { completionText } from './records';

// Kept per record object and per version's line array, as symbols are (see symbols.ts).
const lensesOf = new WeakMap<LineRecord, CodeLens[]>();
const documentLensesOf = new WeakMap<LineRecord[], CodeLens[]>();

/** The lenses of a document, in line order; arguments are `[uri, line]` (0-based line). */
export function codeLenses(doc: TextDocument): CodeLens[] {
  const lines = documentLines(doc);
  let out = documentLensesOf.get(lines);
  if (out) return out;
  out = [];
  for (const rec of lines) {
    let lenses = lensesOf.get(rec);
    if (!lenses) lensesOf.set(rec, (lenses = recordLenses(doc.uri, rec)));
    out.push(...lenses);
  }
  documentLensesOf.set(lines, out);
  return out;
}

function recordLenses(uri: string, rec: LineRecord): CodeLens[] {
  const lenses: CodeLens[] = [];
  if (!rec.value) return lenses;
  const range = Range.create(rec.line, 0, rec.line, 0);
  const args = [uri, rec.line];
  const lens = (title: string, command: string) =>
    lenses.push({ range, command: Command.create(title, command, ...args) });
  if (typeof rec.value.status === 'string') {
    lens(rec.value.status === 'accepted' ? 'Accepted ✓' : 'Accept', LensCommands.acceptTrace);
    lens(rec.value.status === 'rejected' ? 'Rejected ✗' : 'Reject', LensCommands.rejectTrace);
  }
  if (completionText(rec.value) !== undefined) lens('Score', LensCommands.scoreSample);
  return lenses;
}
