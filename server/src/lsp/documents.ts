// Dataset documents as the language features see them: which documents are datasets, and
// their lines parsed once per document version (hover, code lenses, symbols and the
// mixed-language check all read the same parse).
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { splitLines } from '../data/jsonl';
import { UserError } from '../util/errors';

/** One line of a JSONL document; `value` is set when the line parses as a JSON object. */
export interface LineRecord {
  /** 0-based line number. */
  line: number;
  text: string;
  value?: Record<string, unknown>;
}

/** Whether a document is a JSONL dataset (VS Code's `jsonl` language, or any `*.jsonl` file). */
export function isDatasetDocument(doc: { uri: string; languageId: string }): boolean {
  return doc.languageId === 'jsonl' || /\.jsonl$/i.test(doc.uri);
}

function parseLine(line: number, text: string): LineRecord {
  if (!text.trim()) return { line, text };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return { line, text, value: value as Record<string, unknown> };
  } catch {
    // not JSON: the diagnostics say why
  }
  return { line, text };
}

const cache = new Map<string, { version: number; lines: LineRecord[] }>();

/** Every line of the document, parsed; cached until the document's version changes. */
export function documentLines(doc: TextDocument): LineRecord[] {
  const hit = cache.get(doc.uri);
  if (hit && hit.version === doc.version) return hit.lines;
  const lines = splitLines(doc.getText()).map((text, i) => parseLine(i, text));
  cache.set(doc.uri, { version: doc.version, lines });
  return lines;
}

/** One line, parsed (from the cache when it is current, else just that line). */
export function lineRecord(doc: TextDocument, line: number): LineRecord | undefined {
  if (line < 0 || line >= doc.lineCount) return undefined;
  const hit = cache.get(doc.uri);
  if (hit && hit.version === doc.version) return hit.lines[line];
  const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return parseLine(line, text.replace(/\r?\n$/, ''));
}

/** Drops a closed document's parse. */
export function forgetDocument(uri: string): void {
  cache.delete(uri);
}

/**
 * The document for `uri`: the editor's copy when it is open (unsaved edits count), else the
 * file on disk.
 */
export function documentFor(uri: string, open: (uri: string) => TextDocument | undefined): TextDocument {
  const doc = open(uri);
  if (doc) return doc;
  let text: string;
  try {
    text = fs.readFileSync(uri.startsWith('file:') ? fileURLToPath(uri) : uri, 'utf8');
  } catch (err) {
    throw new UserError(`${uri}: cannot read (${(err as Error).message})`);
  }
  return TextDocument.create(uri, 'jsonl', 0, text);
}

/** A line that must hold a JSON object record, or a UserError naming it (1-based, as users count). */
export function recordAt(doc: TextDocument, line: number): Required<LineRecord> {
  const rec = lineRecord(doc, line);
  if (!rec?.value) throw new UserError(`${doc.uri}:${line + 1}: not a JSON object record`);
  return rec as Required<LineRecord>;
}
