// Pretraining corpus: the documents the base model learns plain next-token prediction on.
import { extname } from 'node:path';
import { readString, RecordContext } from './fields';
import { FileLine, openDataLines, parseJsonlLine, splitLines } from './jsonl';
import { DataFileError, Diagnostic } from './records';

/**
 * Loads pretraining documents. A `.jsonl` file holds one `{"text": str}` per line; any other
 * file is plain text whose documents are separated by one or more blank lines (lines keep
 * their text; CRLF becomes LF). Throws DataFileError on any error, or if there is no document.
 * The file is read line by line: only the documents are kept.
 */
export function loadCorpus(file: string): string[] {
  const opened = openDataLines(file);
  if ('diagnostics' in opened) throw new DataFileError(opened.diagnostics);
  const diagnostics: Diagnostic[] = [];
  const lines = opened.lines(diagnostics);
  const docs =
    extname(file).toLowerCase() === '.jsonl' ? jsonlDocuments(lines, file, diagnostics) : lineDocuments(lines);
  if (docs.length === 0 && diagnostics.length === 0) {
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', message: 'the corpus has no documents' });
  }
  if (diagnostics.length > 0) throw new DataFileError(diagnostics.sort((a, b) => a.line - b.line || a.col - b.col));
  return docs;
}

/** Splits plain text into documents at blank (empty or whitespace-only) lines. */
export function textDocuments(text: string): string[] {
  return lineDocuments(splitLines(text).map((t, i) => ({ line: i + 1, text: t })));
}

function lineDocuments(lines: Iterable<FileLine>): string[] {
  const docs: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) docs.push(current.join('\n'));
    current = [];
  };
  for (const { text } of lines) {
    if (text.trim() !== '') current.push(text);
    else flush();
  }
  flush();
  return docs;
}

function jsonlDocuments(lines: Iterable<FileLine>, file: string, diagnostics: Diagnostic[]): string[] {
  const docs: string[] = [];
  for (const { line, text } of lines) {
    if (text.trim() === '') continue;
    const value = parseJsonlLine(text, line, file, diagnostics);
    if (!value) continue;
    const ctx = new RecordContext(file, line, text, value, diagnostics);
    const doc = readString(ctx, ['text'], { required: true });
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}
