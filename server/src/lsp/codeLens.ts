// Code lenses on dataset records: Score on records with a completion; Accept / Reject on
// review-file records (those with a `status`). The extension implements the commands.
import { CodeLens, Command, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { LensCommands } from '../protocol/messages';
import { documentLines } from './documents';
import { completionText } from './records';

/** The lenses of a document, in line order; arguments are `[uri, line]` (0-based line). */
export function codeLenses(doc: TextDocument): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const rec of documentLines(doc)) {
    if (!rec.value) continue;
    const range = Range.create(rec.line, 0, rec.line, 0);
    const args = [doc.uri, rec.line];
    const lens = (title: string, command: string) =>
      lenses.push({ range, command: Command.create(title, command, ...args) });
    if (typeof rec.value.status === 'string') {
      lens(rec.value.status === 'accepted' ? 'Accepted ✓' : 'Accept', LensCommands.acceptTrace);
      lens(rec.value.status === 'rejected' ? 'Rejected ✗' : 'Reject', LensCommands.rejectTrace);
    }
    if (completionText(rec.value) !== undefined) lens('Score', LensCommands.scoreSample);
  }
  return lenses;
}
