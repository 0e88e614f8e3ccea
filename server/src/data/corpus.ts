// Pretraining corpus: the documents the base model learns plain next-token prediction on.
import { extname } from 'node:path';
import { readString, RecordContext } from './fields';
import { parseJsonl, readDataFile, splitLines } from './jsonl';
import { DataFileError, Diagnostic } from './records';

/**
 * Loads pretraining documents. A `.jsonl` file holds one `{"text": str}` per line; any other
 * file is plain text whose documents are separated by one or more blank lines (lines keep
 * their text; CRLF becomes LF). Throws DataFileError on any error, or if there is no document.
 */
export function loadCorpus(file: string): string[] {
  const read = readDataFile(file);
  if (read.text === undefined) throw new DataFileError(read.diagnostics);
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  const docs =
    extname(file).toLowerCase() === '.jsonl' ? jsonlDocuments(read.text, file, diagnostics) : textDocuments(read.text);
  if (docs.length === 0 && diagnostics.length === 0) {
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', message: 'the corpus has no documents' });
  }
  if (diagnostics.length > 0) throw new DataFileError(diagnostics.sort((a, b) => a.line - b.line || a.col - b.col));
  return docs;
}

/** Splits plain text into documents at blank (empty or whitespace-only) lines. */
export function textDocuments(text: string): string[] {
  const docs: string[] = [];
  let current: string[] = [];
  for (const line of [...splitLines(text), '']) {
    if (line.trim() !== '') current.push(line);
    else if (current.length > 0) {
      docs.push(current.join('\n'));
      current = [];
    }
  }
  return docs;
}

function jsonlDocuments(text: string, file: string, diagnostics: Diagnostic[]): string[] {
  const parsed = parseJsonl(text, file);
  diagnostics.push(...parsed.diagnostics);
  const docs: string[] = [];
  for (const { line, text: lineText, value } of parsed.objects) {
    const ctx = new RecordContext(file, line, lineText, value, diagnostics);
    const doc = readString(ctx, ['text'], { required: true });
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}
